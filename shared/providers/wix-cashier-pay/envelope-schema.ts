import * as z from '../../zod-mini';

const orderId = z.string().check(z.minLength(1));

/**
 * Loose: the worker parses the full event; the ingest only checks what the key and routing need.
 * The definition; the ingest checks envelopes it accepts by plain code (./envelope).
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
