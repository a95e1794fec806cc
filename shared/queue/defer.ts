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
 * - `requeued`: the record is at one of its last two receives (`maxReceiveCount - 1` or more), so
 *   a failed receive or two would dead-letter it: a fresh copy (receive count 0) is sent with
 *   DelaySeconds and the original is reported done. A copy sent while the original also survives is a
 *   duplicate delivery, which the order's history absorbs.
 * - `kept`: that send failed with a receive to spare: the record's visibility is set to `seconds`
 *   and the next receive tries the re-queue again.
 * - throws RequeueFailedError: the send failed at the last receive. The caller dead-letters the
 *   record itself, with its failure attributes (`dlq redrive` brings it back), rather than leave it
 *   to the redrive policy, which would move it without them.
 * Starting one receive early costs nothing: one SendMessage per wait either way.
 * Why not only raise maxReceiveCount: on a renewal day at 2 calls/s a record can wait for budget over
 * many receives; no fixed count bounds that, while a genuine failure must still reach the DLQ fast.
 * Trade-off: a record that alternates genuine failures and rate limits gets a fresh count each time it
 * is re-queued (it keeps retrying rather than dead-lettering).
 */
export interface RecordDeferrer {
  defer(record: SQSRecord, seconds: number): Promise<'visibility' | 'requeued' | 'kept'>;
}

/** The re-queue of a waiting record failed at its last receive (see RecordDeferrer). */
export class RequeueFailedError extends Error {
  override name = 'RequeueFailedError';
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
      const keep = () =>
        client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, wait),
          }),
        );
      if (received < maxReceiveCount - 1) {
        await keep();
        return 'visibility';
      }
      try {
        await client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: record.body,
            MessageAttributes: sendAttributes(record.messageAttributes),
            DelaySeconds: Math.min(MAX_DELAY_SECONDS, wait),
          }),
        );
        return 'requeued';
      } catch (error) {
        if (received >= maxReceiveCount)
          throw new RequeueFailedError('waiting record could not be re-queued at its last receive', {
            cause: error,
          });
        await keep();
        return 'kept';
      }
    },
  };
}
