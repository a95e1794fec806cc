import * as z from 'zod';

/** Every Sevi "Order Payment" webhook is queued under this topic. */
export const SEVI_TOPIC = 'order/payment';

/**
 * Minimal envelope: `order.id`. Payment state may come as `orderPayment` or `paymentStatus`; the
 * worker interprets it (only `PAID` confirms payment), the ingest only uses it for the key.
 */
export const seviEnvelopeSchema = z.looseObject({
  order: z.looseObject({
    id: z.union([z.string().min(1), z.number()]),
    status: z.unknown().optional(),
    orderPayment: z.unknown().optional(),
    paymentStatus: z.unknown().optional(),
  }),
});
export type SeviEnvelope = z.infer<typeof seviEnvelopeSchema>;
