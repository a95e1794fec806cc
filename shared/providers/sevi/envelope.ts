import { bySchema, type EnvelopeResult, isJsonObject } from '../../ingest/json';
import type { SeviEnvelope } from './envelope-schema';

export type { SeviEnvelope } from './envelope-schema';

/** Every Sevi "Order Payment" webhook is queued under this topic. */
export const SEVI_TOPIC = 'order/payment';

/**
 * seviEnvelopeSchema's answer (./envelope-schema: an `order` object whose `id` is a non-empty
 * string or a number), by plain code for an envelope it accepts; the schema is loaded for the
 * others, for its issues (the ingest's cold start builds no schema).
 */
export function parseSeviEnvelope(value: unknown): EnvelopeResult<SeviEnvelope> {
  const order = isJsonObject(value) ? value.order : undefined;
  const id = isJsonObject(order) ? order.id : undefined;
  if ((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id)))
    return { success: true, data: value as SeviEnvelope };
  const { seviEnvelopeSchema } = require('./envelope-schema') as typeof import('./envelope-schema');
  return bySchema(seviEnvelopeSchema, value);
}
