import type { MessageAttributeValue, SendMessageCommandInput } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import * as z from '../zod-mini';

/** Providers this product receives webhooks from; the value is also the route segment. */
export const PROVIDERS = ['recharge', 'wix-cashier-pay', 'sevi'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** How the ingest established that a webhook is authentic; kept on the message for audit. */
export const VERIFICATION_SCHEMES = [
  'recharge-hmac-sha256-v1',
  'recharge-legacy-sha256',
  'wix-path-token',
  'wix-jwt-rs256',
  'sevi-token',
  /**
   * Not a webhook: the reconciler read the order from the provider's API itself, with our access
   * token over TLS (set together with `origin: 'reconcile'`).
   */
  'recharge-api',
] as const;
export type VerificationScheme = (typeof VERIFICATION_SCHEMES)[number];

/** Non-webhook sources of a queued message (see `origin`). */
export const ORIGINS = ['reconcile', 'replay'] as const;
export type Origin = (typeof ORIGINS)[number];

const nonEmpty = () => z.string().check(z.minLength(1));

/**
 * A verified webhook as it travels from the ingest to the worker (zod/mini: the ingest imports
 * this module; only the worker parses it, so the ingest's bundle leaves the schema out). The SQS message body is the provider's raw body, byte for byte as text;
 * everything else rides in message attributes, so the dead-letter queue reads well in the console
 * and nothing is re-encoded.
 */
export const queuedWebhookSchema = /* @__PURE__ */ z.objectWhereUsed(() => ({
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
}));
export type QueuedWebhook = z.infer<typeof queuedWebhookSchema>;

/** Attribute names on a queued message. SQS allows at most 10 attributes per message in all. */
export const ATTR = {
  provider: 'provider',
  topic: 'topic',
  deliveryKey: 'deliveryKey',
  receivedAt: 'receivedAt',
  verification: 'verification',
  /** Only on reconciled or replayed messages. */
  origin: 'origin',
  /** Only when the ingest knew it; the first attribute given up when dead-lettering needs the room. */
  requestId: 'requestId',
  /** The SQS Extended Client's name: only on claim-check messages (body = pointer to S3). */
  extendedPayloadSize: 'ExtendedPayloadSize',
  /** Added by the worker when it moves a message to the dead-letter queue. */
  failureClass: 'failureClass',
  failureReason: 'failureReason',
  failureStep: 'failureStep',
  failedAt: 'failedAt',
} as const;

/**
 * Bytes the ingest keeps free below the SQS limit. When the worker moves a message to the
 * dead-letter queue it adds the failure attributes (class, a reason of up to 256 characters, step,
 * time: under 1 KiB); without this headroom a near-limit webhook that fails for good could not be
 * dead-lettered with its reason.
 */
export const DEAD_LETTER_HEADROOM_BYTES = 2048;

const META_KEYS = ['provider', 'topic', 'deliveryKey', 'receivedAt', 'verification'] as const;

function stringAttr(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/** Message attributes for a queued webhook (body excluded). */
export function toMessageAttributes(webhook: QueuedWebhook): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const key of META_KEYS) attributes[ATTR[key]] = stringAttr(webhook[key]);
  if (webhook.origin) attributes[ATTR.origin] = stringAttr(webhook.origin);
  if (webhook.requestId) attributes[ATTR.requestId] = stringAttr(webhook.requestId);
  if (webhook.extendedPayloadSize !== undefined)
    attributes[ATTR.extendedPayloadSize] = {
      DataType: 'Number',
      StringValue: String(webhook.extendedPayloadSize),
    };
  return attributes;
}

/** The SendMessage input for a verified webhook. */
export function toSendMessageInput(queueUrl: string, webhook: QueuedWebhook): SendMessageCommandInput {
  return { QueueUrl: queueUrl, MessageBody: webhook.body, MessageAttributes: toMessageAttributes(webhook) };
}

/** Bytes SQS counts for a message: body plus, per attribute, name + data type + value. */
export function sqsMessageBytes(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '') +
      (value.BinaryValue?.length ?? 0);
  }
  return size;
}

/** A queued webhook's size as SQS counts it: used to answer 413 before SendMessage would reject it. */
export function messageSizeBytes(webhook: QueuedWebhook): number {
  return sqsMessageBytes(webhook.body, toMessageAttributes(webhook));
}

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
