import * as z from '../../zod-mini';

/**
 * Minimal envelope: `order.id`. Payment state may come as `orderPayment` or `paymentStatus`; the
 * worker interprets it (only `PAID` confirms payment), the ingest only uses it for the key.
 * The definition; the ingest checks envelopes it accepts by plain code (./envelope), loading this
 * for the others.
 */
export const seviEnvelopeSchema = z.looseObject({
  order: z.looseObject({
    id: z.union([z.string().check(z.minLength(1)), z.number()]),
    status: z.optional(z.unknown()),
    orderPayment: z.optional(z.unknown()),
    paymentStatus: z.optional(z.unknown()),
  }),
});
export type SeviEnvelope = z.infer<typeof seviEnvelopeSchema>;
