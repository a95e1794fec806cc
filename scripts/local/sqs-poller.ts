import { createHash, randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { makeContext } from './api-gateway';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface PollerOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  region: string;
  /** Records per invocation (Lambda's BatchSize); more than 10 takes several receives. */
  batchSize?: number;
  /** Concurrent invocations (Lambda's maximum concurrency for the event source). */
  concurrency?: number;
  /** The worker function's timeout: the Context's budget; a longer run counts as failed. */
  functionTimeoutMs?: number;
  waitTimeSeconds?: number;
  functionName?: string;
  /** Called after each invocation (console lines, tests). */
  onBatch?: (info: BatchInfo) => void;
  onError?: (error: unknown) => void;
}

export interface BatchInfo {
  records: number;
  failed: number;
  /** 'ok', 'partial' (batchItemFailures), 'error' (thrown: whole batch retried) or 'timeout'. */
  outcome: 'ok' | 'partial' | 'error' | 'timeout';
  ms: number;
}

export interface Poller {
  /** Stops receiving and waits for in-flight batches to finish and be acknowledged. */
  stop(): Promise<void>;
  /**
   * Stops abruptly, as if the function's host died: no more receives, and batches still running
   * are abandoned without deleting their messages (they come back after the visibility timeout).
   */
  kill(): void;
  readonly inFlight: number;
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** Shapes a received SQS message as the Lambda event source does (SQSRecord). */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attrs = message.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
    };
  }
  const body = message.Body ?? '';
  const now = String(Date.now());
  return {
    messageId: message.MessageId ?? randomUUID(),
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? now,
      SenderId: attrs.SenderId ?? 'AIDALOCALSENDER',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? now,
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? md5(body),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Does what the Lambda SQS event source mapping does: long-polls the queue with `concurrency`
 * pollers, invokes the handler with real-shaped SQS events, deletes the records that succeeded and
 * leaves the ones named in `batchItemFailures` (or the whole batch when the handler throws or times
 * out) to come back after the visibility timeout, where SQS's redrive policy applies.
 */
export async function startSqsPoller(options: PollerOptions): Promise<Poller> {
  const { client, queueUrl, handler, region } = options;
  const batchSize = Math.max(1, options.batchSize ?? 10);
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const functionTimeoutMs = options.functionTimeoutMs ?? 60_000;
  const waitTimeSeconds = options.waitTimeSeconds ?? 2;
  const functionName = options.functionName ?? 'worker';
  const queueArn =
    (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn ?? `arn:aws:sqs:${region}:000000000000:local`;

  const abort = new AbortController();
  let killed = false;
  let inFlight = 0;

  const receive = async (): Promise<Message[]> => {
    const messages: Message[] = [];
    while (messages.length < batchSize && !abort.signal.aborted) {
      const out = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
          // Long poll only while the batch is empty, so a partial batch is handed over at once.
          WaitTimeSeconds: messages.length === 0 ? waitTimeSeconds : 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      const got = out.Messages ?? [];
      messages.push(...got);
      if (got.length === 0) break;
    }
    return messages;
  };

  const invoke = async (messages: Message[]): Promise<void> => {
    const started = Date.now();
    const records = messages.map((m) => toSqsRecord(m, queueArn, region));
    const requestId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), functionTimeoutMs);
    });
    let failedIds: Set<string>;
    let outcome: BatchInfo['outcome'];
    try {
      const result = await Promise.race([
        handler({ Records: records }, makeContext(functionName, requestId, functionTimeoutMs)),
        timeout,
      ]);
      if (result === 'timeout') {
        outcome = 'timeout';
        failedIds = new Set(records.map((r) => r.messageId));
      } else {
        const failures = result?.batchItemFailures ?? [];
        const known = new Set(records.map((r) => r.messageId));
        // Like Lambda: an empty or unknown itemIdentifier fails the whole batch.
        const invalid = failures.some((f) => !f.itemIdentifier || !known.has(f.itemIdentifier));
        failedIds = invalid ? known : new Set(failures.map((f) => f.itemIdentifier));
        outcome = failedIds.size === 0 ? 'ok' : 'partial';
      }
    } catch (error) {
      options.onError?.(error);
      outcome = 'error';
      failedIds = new Set(records.map((r) => r.messageId));
    } finally {
      clearTimeout(timer);
    }
    if (killed) return;
    const toDelete = records.filter((r) => !failedIds.has(r.messageId));
    for (let i = 0; i < toDelete.length; i += 10) {
      const chunk = toDelete.slice(i, i + 10);
      const out = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((r, n) => ({ Id: String(n), ReceiptHandle: r.receiptHandle })),
        }),
      );
      // A failed delete only means a redelivery, which the worker's idempotency absorbs.
      if (out.Failed?.length)
        options.onError?.(new Error(`delete failed for ${out.Failed.length} record(s)`));
    }
    options.onBatch?.({ records: records.length, failed: failedIds.size, outcome, ms: Date.now() - started });
  };

  const loop = async () => {
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        messages = await receive();
      } catch (error) {
        if (abort.signal.aborted) break;
        options.onError?.(error);
        // The queue is unreachable (emulator restarting): back off like the event source does.
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) continue;
      inFlight++;
      try {
        await invoke(messages);
      } catch (error) {
        options.onError?.(error);
      } finally {
        inFlight--;
      }
    }
  };

  const loops = Array.from({ length: concurrency }, () => loop());
  return {
    get inFlight() {
      return inFlight;
    },
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
    kill() {
      killed = true;
      abort.abort();
    },
  };
}
