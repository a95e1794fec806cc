import * as z from '../../zod-mini';

/** Topics whose orders this product syncs; other topics are acknowledged and ignored. */
export const RECHARGE_HANDLED_TOPICS = ['order/created', 'order/processed', 'order/updated'] as const;
export type RechargeTopic = (typeof RECHARGE_HANDLED_TOPICS)[number];

export function isHandledRechargeTopic(topic: string): topic is RechargeTopic {
  return (RECHARGE_HANDLED_TOPICS as readonly string[]).includes(topic);
}

/** `resource/event`, as in the `X-Recharge-Topic` header and the route path. */
export const RECHARGE_TOPIC_PATTERN = /^[a-z0-9_]+\/[a-z0-9_]+$/;

/**
 * The minimum the ingest checks before queueing an order topic: an `order` object with an `id`.
 * Loose objects: ReCharge adds fields freely, and the worker parses the full order. zod/mini: on
 * the ingest's import path.
 */
export const rechargeEnvelopeSchema = z.looseObject({
  order: z.looseObject({
    id: z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/))]),
  }),
});
export type RechargeEnvelope = z.infer<typeof rechargeEnvelopeSchema>;
