import { tryParseJson } from '../../ingest/json';
import type { IngestProvider } from '../../ingest/provider';
import { seviDeliveryKey } from './delivery-key';
import { parseSeviEnvelope, SEVI_TOPIC } from './envelope';
import { verifySeviToken } from './signature';

/** Route: `/webhooks/sevi`, static token in `Authorization`. */
export const seviIngest: IngestProvider = {
  provider: 'sevi',
  acceptsRoute: (segments) => segments.length === 0,
  authenticate({ headers, secrets }) {
    if (secrets.SEVI_WEBHOOK_TOKENS.length === 0)
      return { ok: false, reason: 'provider not configured', notConfigured: true };
    return verifySeviToken(headers, secrets.SEVI_WEBHOOK_TOKENS);
  },
  classify({ text }) {
    const json = tryParseJson(text);
    if (!json.ok) return { kind: 'invalid', error: 'malformed json' };
    const envelope = parseSeviEnvelope(json.value);
    if (!envelope.success) return { kind: 'invalid', error: 'invalid envelope', issues: envelope.issues };
    return { kind: 'queue', topic: SEVI_TOPIC, deliveryKey: seviDeliveryKey(envelope.data) };
  },
};
