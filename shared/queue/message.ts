import type { MessageAttributeValue, SendMessageCommandInput } from '@aws-sdk/client-sqs';
import type { QueuedWebhook } from './message-schema';

export type { QueuedWebhook } from './message-schema';

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

export const META_KEYS = ['provider', 'topic', 'deliveryKey', 'receivedAt', 'verification'] as const;

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
