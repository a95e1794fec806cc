import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { TransientError } from '../errors';
import { type QueuedWebhook, sqsMessageBytes, toMessageAttributes } from '../queue/message';

const BATCH_ENTRIES = 10;
/** Total payload of one SendMessageBatch, kept at the pre-2026 limit to be safe in every region. */
const BATCH_BYTES = 256 * 1024;
const ATTEMPTS = 3;

/**
 * Sends synthetic deliveries to the main queue with SendMessageBatch (10 per call, same body and
 * attributes as the ingest's SendMessage). Entries SQS refuses are retried; any still refused
 * throw a TransientError, so the pass fails and the watermark stays.
 */
export function makeBatchEnqueuer(
  sqs: SQSClient,
  queueUrl: string,
  options: { onCall?: () => void; timeoutMs?: number } = {},
) {
  return async (webhooks: readonly QueuedWebhook[]): Promise<void> => {
    const batches: QueuedWebhook[][] = [];
    let current: QueuedWebhook[] = [];
    let bytes = 0;
    for (const webhook of webhooks) {
      const size = sqsMessageBytes(webhook.body, toMessageAttributes(webhook));
      if (current.length === BATCH_ENTRIES || (current.length > 0 && bytes + size > BATCH_BYTES)) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push(webhook);
      bytes += size;
    }
    if (current.length > 0) batches.push(current);

    for (const batch of batches) {
      let pending = batch.map((webhook, i) => ({ id: String(i), webhook }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > ATTEMPTS)
          throw new TransientError(`SendMessageBatch refused ${pending.length} messages`);
        options.onCall?.();
        let failedIds: Set<string>;
        try {
          const out = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: pending.map(({ id, webhook }) => ({
                Id: id,
                MessageBody: webhook.body,
                MessageAttributes: toMessageAttributes(webhook),
              })),
            }),
            { abortSignal: AbortSignal.timeout(options.timeoutMs ?? 10_000) },
          );
          failedIds = new Set((out.Failed ?? []).map((f) => String(f.Id)));
        } catch (error) {
          if (attempt >= ATTEMPTS) throw new TransientError('SendMessageBatch failed', { cause: error });
          continue;
        }
        pending = pending.filter((entry) => failedIds.has(entry.id));
      }
    }
  };
}
