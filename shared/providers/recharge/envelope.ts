import { bySchema, type EnvelopeResult, isJsonObject } from '../../ingest/json';
import type { RechargeEnvelope } from './envelope-schema';

export type { RechargeEnvelope } from './envelope-schema';

/** Topics whose orders this product syncs; other topics are acknowledged and ignored. */
export const RECHARGE_HANDLED_TOPICS = ['order/created', 'order/processed', 'order/updated'] as const;
export type RechargeTopic = (typeof RECHARGE_HANDLED_TOPICS)[number];

export function isHandledRechargeTopic(topic: string): topic is RechargeTopic {
  return (RECHARGE_HANDLED_TOPICS as readonly string[]).includes(topic);
}

/** `resource/event`, as in the `X-Recharge-Topic` header and the route path. */
export const RECHARGE_TOPIC_PATTERN = /^[a-z0-9_]+\/[a-z0-9_]+$/;

/**
 * rechargeEnvelopeSchema's answer (./envelope-schema: an `order` object with an `id`, a
 * non-negative integer or a string of digits), by plain code for an envelope it accepts; the
 * schema is loaded for the others, for its issues (the ingest's cold start builds no schema).
 */
export function parseRechargeEnvelope(value: unknown): EnvelopeResult<RechargeEnvelope> {
  const order = isJsonObject(value) ? value.order : undefined;
  const id = isJsonObject(order) ? order.id : undefined;
  if (
    (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) ||
    (typeof id === 'string' && /^\d+$/.test(id))
  )
    return { success: true, data: value as RechargeEnvelope };
  const { rechargeEnvelopeSchema } = require('./envelope-schema') as typeof import('./envelope-schema');
  return bySchema(rechargeEnvelopeSchema, value);
}
