import { bySchema, type EnvelopeResult, isJsonObject } from '../../ingest/json';
import type { WixEnvelope } from './envelope-schema';

export type { WixEnvelope } from './envelope-schema';

/** Event types Cashier Pay sends to an order's hook URL; other types are acknowledged and ignored. */
export const WIX_EVENT_TYPES = ['ORDER_EXPIRED', 'TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGE'] as const;
export type WixEventType = (typeof WIX_EVENT_TYPES)[number];

export function isHandledWixType(type: string): type is WixEventType {
  return (WIX_EVENT_TYPES as readonly string[]).includes(type);
}

type Schemas = typeof import('./envelope-schema');
const schemas = () => require('./envelope-schema') as Schemas;

/**
 * wixTypedEventSchema's answer (./envelope-schema: an object with a non-empty string `type`), by
 * plain code for an event it accepts; the schema is loaded for the others, for its issues.
 */
export function parseWixTypedEvent(value: unknown): EnvelopeResult<{ type: string }> {
  if (isJsonObject(value) && typeof value.type === 'string' && value.type.length > 0)
    return { success: true, data: value as { type: string } };
  return bySchema(schemas().wixTypedEventSchema, value);
}

/** Each handled type's event object and its optional string fields besides `orderId`. */
const EVENTS: Record<WixEventType, { key: string; strings: readonly string[] }> = {
  ORDER_EXPIRED: { key: 'expiredOrderEvent', strings: [] },
  TRANSACTION: { key: 'transactionEvent', strings: ['transactionId', 'transactionStatus'] },
  SUBSCRIPTION_STATUS_CHANGE: { key: 'subscriptionStatusChangeEvent', strings: ['status'] },
};

/**
 * wixEnvelopeSchema's answer (./envelope-schema: by `type`, its event object with a non-empty
 * `orderId`), by plain code for an envelope it accepts; the schema is loaded for the others, for
 * its issues (the ingest's cold start builds no schema).
 */
export function parseWixEnvelope(value: unknown): EnvelopeResult<WixEnvelope> {
  const type = isJsonObject(value) ? value.type : undefined;
  const shape = typeof type === 'string' && isHandledWixType(type) ? EVENTS[type] : undefined;
  const event = shape && isJsonObject(value) ? value[shape.key] : undefined;
  if (
    shape &&
    isJsonObject(event) &&
    typeof event.orderId === 'string' &&
    event.orderId.length > 0 &&
    shape.strings.every((name) => event[name] === undefined || typeof event[name] === 'string')
  )
    return { success: true, data: value as WixEnvelope };
  return bySchema(schemas().wixEnvelopeSchema, value);
}
