import type { SQSRecord } from 'aws-lambda';
import * as z from '../zod-mini';
import { ATTR, META_KEYS, ORIGINS, PROVIDERS, VERIFICATION_SCHEMES } from './message';

const nonEmpty = () => z.string().check(z.minLength(1));

/**
 * A verified webhook as it travels from the ingest to the worker. The SQS message body is the
 * provider's raw body, byte for byte as text; everything else rides in message attributes, so the
 * dead-letter queue reads well in the console and nothing is re-encoded. Only the worker parses
 * it: a module of its own (./message holds the rest), so the ingest's bundle loads no zod at start.
 */
export const queuedWebhookSchema = z.object({
  provider: z.enum(PROVIDERS),
  /** ReCharge: `order/created`...; Wix: the body `type`; Sevi: `order/payment`. */
  topic: nonEmpty(),
  /** Stable identity of the event, the same on every redelivery: the delivery-level idempotency key. */
  deliveryKey: nonEmpty(),
  /** ISO-8601 time the ingest accepted it. */
  receivedAt: nonEmpty(),
  verification: z.enum(VERIFICATION_SCHEMES),
  /**
   * Where the message came from: absent for a provider's own delivery; `reconcile` for a synthetic
   * delivery the reconciler built from the provider's API; `replay` for an archived webhook sent
   * again on purpose. The worker applies all three the same way (state machine, step idempotency).
   */
  origin: z.optional(z.enum(ORIGINS)),
  /** API Gateway's request id of the delivery, for the audit archive (dropped first on dead-lettering). */
  requestId: z.optional(nonEmpty()),
  /**
   * Set when `body` is a claim-check pointer (see shared/archive/claim-check.ts): the size of the
   * provider's body kept in S3. Sent as the SQS Extended Client's `ExtendedPayloadSize` attribute.
   */
  extendedPayloadSize: z.optional(z.number()),
  body: z.string(),
});
export type QueuedWebhook = z.infer<typeof queuedWebhookSchema>;

/**
 * Reads a queued webhook back from a Lambda SQS record (attribute names are camelCase there:
 * `stringValue`). Throws a zod error (`$ZodError` from zod/v4/core) when the message was not produced by the ingest.
 */
export function fromSqsRecord(record: Pick<SQSRecord, 'body' | 'messageAttributes'>): QueuedWebhook {
  const meta: Record<string, string | undefined> = {};
  for (const key of META_KEYS) meta[key] = record.messageAttributes[ATTR[key]]?.stringValue;
  const origin = record.messageAttributes[ATTR.origin]?.stringValue;
  const requestId = record.messageAttributes[ATTR.requestId]?.stringValue;
  const size = record.messageAttributes[ATTR.extendedPayloadSize]?.stringValue;
  return queuedWebhookSchema.parse({
    ...meta,
    ...(origin ? { origin } : {}),
    ...(requestId ? { requestId } : {}),
    ...(size !== undefined ? { extendedPayloadSize: Number(size) } : {}),
    body: record.body,
  });
}
