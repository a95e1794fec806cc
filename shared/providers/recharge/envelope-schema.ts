import * as z from '../../zod-mini';

/**
 * The minimum the ingest checks before queueing an order topic: an `order` object with an `id`.
 * Loose objects: ReCharge adds fields freely, and the worker parses the full order. The
 * definition; the ingest checks envelopes it accepts by plain code (./envelope), loading this
 * for the others.
 */
export const rechargeEnvelopeSchema = z.looseObject({
  order: z.looseObject({
    id: z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/))]),
  }),
});
export type RechargeEnvelope = z.infer<typeof rechargeEnvelopeSchema>;
