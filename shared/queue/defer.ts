import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** SQS limits: a message delay is at most 15 min, a visibility timeout at most 12 h. */
const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Keeps a record that failed only for want of time or budget (rate limit, later credentials) out of
 * the queue until it can succeed, without counting toward the dead-letter queue:
 * - `visibility`: ChangeMessageVisibility to `seconds`; the record stays failed and comes back then.
 * - `requeued`: the record has already been received `maxReceiveCount` times, so one more failed
 *   receive would dead-letter it: a fresh copy (receive count 0) is sent with DelaySeconds and the
 *   original is reported done. A copy sent while the original also survives is a duplicate delivery,
 *   which the delivery claim absorbs.
 * Why not only raise maxReceiveCount: on a renewal day at 2 calls/s a record can wait for budget over
 * many receives; no fixed count bounds that, while a genuine failure must still reach the DLQ fast.
 * Trade-off: a record that alternates genuine failures and rate limits gets a fresh count each time it
 * is re-queued (it keeps retrying rather than dead-lettering).
 */
export interface RecordDeferrer {
  defer(record: SQSRecord, seconds: number): Promise<'visibility' | 'requeued'>;
}

/** The original attributes, back in the SendMessage shape. */
function sendAttributes(original: SQSRecord['messageAttributes']): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(original ?? {})) {
    const dataType = value.dataType || 'String';
    if (value.stringValue !== undefined) out[name] = { DataType: dataType, StringValue: value.stringValue };
    else if (value.binaryValue !== undefined)
      out[name] = { DataType: dataType, BinaryValue: Buffer.from(value.binaryValue, 'base64') };
  }
  return out;
}

/** A deferrer on QUEUE_URL (the queue the records came from) with its redrive's maxReceiveCount. */
export function makeRecordDeferrer(
  client: SQSClient,
  queueUrl: string,
  maxReceiveCount: number,
): RecordDeferrer {
  return {
    async defer(record, seconds) {
      const wait = Math.max(0, Math.ceil(seconds));
      const received = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      if (received >= maxReceiveCount) {
        await client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: record.body,
            MessageAttributes: sendAttributes(record.messageAttributes),
            DelaySeconds: Math.min(MAX_DELAY_SECONDS, wait),
          }),
        );
        return 'requeued';
      }
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, wait),
        }),
      );
      return 'visibility';
    },
  };
}
