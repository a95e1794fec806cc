import type { IngestProvider } from '../../ingest/provider';
import { decodeWixBody } from './body';
import { wixDeliveryKey } from './delivery-key';
import { isHandledWixType, parseWixEnvelope, parseWixTypedEvent } from './envelope';
import { verifyWixRequest } from './signature';

/** Route: `/webhooks/wix-cashier-pay/{token}`; the token is chosen when the order is created. */
export const wixCashierPayIngest: IngestProvider = {
  provider: 'wix-cashier-pay',
  acceptsRoute: (segments) => segments.length === 1 && segments[0] !== '',
  authenticate({ segments, text, secrets, nowMs }) {
    if (secrets.WIX_CASHIER_PAY_TOKENS.length === 0)
      return { ok: false, reason: 'provider not configured', notConfigured: true };
    const result = verifyWixRequest(segments[0] ?? '', text, {
      tokens: secrets.WIX_CASHIER_PAY_TOKENS,
      publicKeyPem: secrets.WIX_CASHIER_PAY_PUBLIC_KEY,
      nowMs,
    });
    if (!result.ok && result.reason === 'invalid public key')
      return { ok: false, reason: 'provider misconfigured', notConfigured: true };
    return result;
  },
  classify({ text }) {
    let event: unknown;
    try {
      event = decodeWixBody(text);
    } catch {
      return { kind: 'invalid', error: 'malformed json' };
    }
    const typed = parseWixTypedEvent(event);
    if (!typed.success) return { kind: 'invalid', error: 'invalid envelope', issues: typed.issues };
    if (!isHandledWixType(typed.data.type)) return { kind: 'ignore', topic: typed.data.type };
    const envelope = parseWixEnvelope(event);
    if (!envelope.success) return { kind: 'invalid', error: 'invalid envelope', issues: envelope.issues };
    return { kind: 'queue', topic: envelope.data.type, deliveryKey: wixDeliveryKey(envelope.data) };
  },
};
