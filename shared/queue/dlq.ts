import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ATTR } from './message';

/** SQS's limit on message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
const MAX_REASON_CHARS = 256;

export interface DeadLetter {
  failureClass: 'permanent' | 'transient';
  /** Short, secret-free reason (our own error messages; truncated). */
  reason: string;
  /** The processing step that failed (e.g. `parse-payload`, `recharge-put-order`). */
  step: string;
  failedAt: string;
}

/** Removes anything that looks like a credential and bounds the length. */
export function sanitizeReason(reason: string): string {
  return reason
    .replace(/(token|secret|authorization|signature|password)(["'\s:=]+)[^\s,;"']+/gi, '$1$2[redacted]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_REASON_CHARS);
}

/**
 * Original attributes in the order they are kept when the failure fields leave no room for all:
 * the five that identify the webhook and `origin` always fit (4 + 6 = 10); `requestId` (audit
 * only, already in the archive) and `ExtendedPayloadSize` (the pointer itself is in the body, and
 * our worker reads it from there) are given up first. Unknown attributes come last.
 */
const KEEP_ORDER: readonly string[] = [
  ATTR.provider,
  ATTR.topic,
  ATTR.deliveryKey,
  ATTR.receivedAt,
  ATTR.verification,
  ATTR.origin,
  ATTR.extendedPayloadSize,
  ATTR.requestId,
];
const keepRank = (name: string) => {
  const rank = KEEP_ORDER.indexOf(name);
  return rank === -1 ? KEEP_ORDER.length : rank;
};

/**
 * The attributes of a dead-lettered message: the failure fields first, then the original
 * attributes (Lambda's camelCase shape converted back) in KEEP_ORDER, at most 10 in all as SQS requires.
 */
export function deadLetterAttributes(
  original: SQSRecord['messageAttributes'],
  letter: DeadLetter,
): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {
    [ATTR.failureClass]: { DataType: 'String', StringValue: letter.failureClass },
    [ATTR.failureReason]: { DataType: 'String', StringValue: sanitizeReason(letter.reason) || 'unknown' },
    [ATTR.failureStep]: { DataType: 'String', StringValue: letter.step },
    [ATTR.failedAt]: { DataType: 'String', StringValue: letter.failedAt },
  };
  const originals = Object.entries(original ?? {}).sort(([a], [b]) => keepRank(a) - keepRank(b));
  for (const [name, value] of originals) {
    if (Object.keys(attributes).length >= MAX_MESSAGE_ATTRIBUTES) break;
    if (name in attributes) continue;
    const dataType = value.dataType || 'String';
    if (value.stringValue !== undefined)
      attributes[name] = { DataType: dataType, StringValue: value.stringValue };
    else if (value.binaryValue !== undefined)
      attributes[name] = { DataType: dataType, BinaryValue: Buffer.from(value.binaryValue, 'base64') };
  }
  return attributes;
}

/**
 * Sends a failed record's body to the dead-letter queue with why it failed; resolves with the copy's
 * message id there (SQS gives the copy a new one: the id `dlq show` takes).
 */
export type DeadLetterSender = (record: SQSRecord, letter: DeadLetter) => Promise<string | undefined>;

/**
 * A sender for DLQ_URL. The worker reports the record as handled only after this resolves; if it
 * throws, the record is reported failed so SQS keeps it (never lost).
 */
export function makeDeadLetterSender(client: SQSClient, dlqUrl: string): DeadLetterSender {
  return async (record, letter) => {
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: record.body,
        MessageAttributes: deadLetterAttributes(record.messageAttributes, letter),
      }),
    );
    return sent.MessageId;
  };
}
