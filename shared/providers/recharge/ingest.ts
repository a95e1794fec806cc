import { tryParseJson } from '../../ingest/json';
import type { IngestProvider } from '../../ingest/provider';
import { rechargeDeliveryKey } from './delivery-key';
import { isHandledRechargeTopic, parseRechargeEnvelope, RECHARGE_TOPIC_PATTERN } from './envelope';
import { verifyRechargeSignature } from './signature';

const TOPIC_HEADER = 'x-recharge-topic';

/**
 * ReCharge routes: `/webhooks/recharge` (topic in `X-Recharge-Topic`) and
 * `/webhooks/recharge/{resource}/{event}`; when both carry a topic they must agree.
 */
export const rechargeIngest: IngestProvider = {
  provider: 'recharge',
  acceptsRoute: (segments) => segments.length === 0 || segments.length === 2,
  authenticate({ headers, body, secrets, nowMs, settings }) {
    if (secrets.RECHARGE_WEBHOOK_SECRETS.length === 0)
      return { ok: false, reason: 'provider not configured', notConfigured: true };
    return verifyRechargeSignature(headers, body, {
      secrets: secrets.RECHARGE_WEBHOOK_SECRETS,
      nowMs,
      toleranceSeconds: settings.rechargeTimestampToleranceSeconds,
      requireTimestamp: settings.rechargeRequireTimestamp,
    });
  },
  classify({ segments, headers, body, text }) {
    const fromPath = segments.length === 2 ? `${segments[0]}/${segments[1]}` : undefined;
    const fromHeader = headers[TOPIC_HEADER]?.trim();
    if (fromPath !== undefined && fromHeader !== undefined && fromPath !== fromHeader)
      return { kind: 'invalid', error: 'topic mismatch between path and X-Recharge-Topic' };
    const topic = fromPath ?? fromHeader;
    if (!topic) return { kind: 'invalid', error: 'missing topic' };
    if (!RECHARGE_TOPIC_PATTERN.test(topic)) return { kind: 'invalid', error: 'invalid topic' };
    const json = tryParseJson(text);
    if (!json.ok) return { kind: 'invalid', error: 'malformed json' };
    if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value))
      return {
        kind: 'invalid',
        error: 'invalid envelope',
        issues: [{ path: '(root)', message: 'expected an object' }],
      };
    if (!isHandledRechargeTopic(topic)) return { kind: 'ignore', topic };
    const envelope = parseRechargeEnvelope(json.value);
    if (!envelope.success) return { kind: 'invalid', error: 'invalid envelope', issues: envelope.issues };
    return { kind: 'queue', topic, deliveryKey: rechargeDeliveryKey(body) };
  },
};
