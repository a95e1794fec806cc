import * as z from '../../zod-mini';

/** Event types Cashier Pay sends to an order's hook URL; other types are acknowledged and ignored. */
export const WIX_EVENT_TYPES = ['ORDER_EXPIRED', 'TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGE'] as const;
export type WixEventType = (typeof WIX_EVENT_TYPES)[number];

const orderId = z.string().check(z.minLength(1));

/**
 * Loose: the worker parses the full event; the ingest only checks what the key and routing need.
 * zod/mini: on the ingest's import path.
 */
export const wixEnvelopeSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('ORDER_EXPIRED'),
    expiredOrderEvent: z.looseObject({ orderId }),
  }),
  z.looseObject({
    type: z.literal('TRANSACTION'),
    transactionEvent: z.looseObject({
      orderId,
      transactionId: z.optional(z.string()),
      transactionStatus: z.optional(z.string()),
    }),
  }),
  z.looseObject({
    type: z.literal('SUBSCRIPTION_STATUS_CHANGE'),
    subscriptionStatusChangeEvent: z.looseObject({ orderId, status: z.optional(z.string()) }),
  }),
]);
export type WixEnvelope = z.infer<typeof wixEnvelopeSchema>;

/** Any Wix event has a string `type`; used to tell an unhandled type (ignored) from garbage (400). */
export const wixTypedEventSchema = z.looseObject({ type: z.string().check(z.minLength(1)) });

export function isHandledWixType(type: string): type is WixEventType {
  return (WIX_EVENT_TYPES as readonly string[]).includes(type);
}
