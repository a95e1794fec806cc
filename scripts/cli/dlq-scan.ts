import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** The part of the SQS client a scan uses (tests inject a fake that behaves as AWS documents). */
export type SqsSend = Pick<SQSClient, 'send'>;

/**
 * How a scan reads a queue. Real SQS answers a short poll (WaitTimeSeconds 0) from a sample of its
 * servers and may answer empty while messages wait, so a scan long-polls and ends on the queue's
 * own count or after a few consecutive empty long polls, never on the first empty answer.
 */
export interface ScanOptions {
  /** Long-poll wait per receive, 1..20 s. */
  waitSeconds: number;
  /** Consecutive empty long polls after which the scan ends. */
  maxEmptyPolls: number;
  /** Visibility timeout of what the scan holds; renewed while the scan runs, released at the end. */
  holdSeconds: number;
  /** Distinct messages after which the scan ends. */
  max: number;
  now?: () => number;
}

/** In AWS: the longest long poll; two empty ones in a row (40 s) end a scan the counts did not end. */
export const AWS_SCAN: Omit<ScanOptions, 'max'> = { waitSeconds: 20, maxEmptyPolls: 2, holdSeconds: 120 };
/** The local emulator answers exactly: one short long poll is enough to confirm an empty queue. */
export const LOCAL_SCAN: Omit<ScanOptions, 'max'> = { waitSeconds: 1, maxEmptyPolls: 1, holdSeconds: 120 };

export interface QueueCounts {
  /** ApproximateNumberOfMessages: visible, waiting to be received. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received and held (by this scan or anyone else). */
  inFlight: number;
}

export interface ScanReport {
  /** Distinct messages the scan received (each counted once, however often SQS returned it). */
  seen: number;
  /** The queue's own counts when the scan began. */
  atStart: QueueCounts;
  stoppedBy: 'max' | 'visitor' | 'queue-counts' | 'empty-polls';
}

/** What a visitor did with a message: deleted it (no longer held), and whether the scan may end. */
export interface VisitResult {
  deleted?: boolean;
  stop?: boolean;
}

export async function queueCounts(sqs: SqsSend, queueUrl: string): Promise<QueueCounts> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function setVisibility(sqs: SqsSend, queueUrl: string, messages: Message[], seconds: number) {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, n) => ({
          Id: String(n),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: seconds,
        })),
      }),
    );
  }
}

/**
 * Receives every message of a queue once and hands it to `visit`, without consuming what the
 * visitor does not delete: everything received stays hidden for the whole scan (its visibility is
 * renewed before it lapses, so a long scan never sees a message twice) and is made visible again
 * at the end, whatever happens (an error included).
 *
 * Ends when `max` distinct messages were seen, the visitor says so, the queue reports no visible
 * message left, or `maxEmptyPolls` consecutive long polls came back empty. The approximate count
 * can lag by up to a minute; when it still reports messages we have hidden, the empty long polls
 * end the scan, and when it misses a message sent seconds ago, that message is left for the next
 * scan (a trade-off against waiting 40 s at the end of every listing).
 */
export async function scanQueue(
  sqs: SqsSend,
  queueUrl: string,
  options: ScanOptions,
  visit: (message: Message) => Promise<VisitResult>,
  onProgress?: (seen: number) => void,
): Promise<ScanReport> {
  const now = options.now ?? Date.now;
  const held = new Map<string, Message>();
  const seen = new Set<string>();
  const atStart = await queueCounts(sqs, queueUrl);
  let renewedAt = now();
  let empty = 0;
  let stoppedBy: ScanReport['stoppedBy'] | undefined;
  try {
    while (!stoppedBy) {
      if (seen.size >= options.max) {
        stoppedBy = 'max';
        break;
      }
      // Renew at half the hold: a receive (up to waitSeconds) and the visits fit in the other half.
      if (held.size > 0 && now() - renewedAt >= (options.holdSeconds * 1000) / 2) {
        await setVisibility(sqs, queueUrl, [...held.values()], options.holdSeconds);
        renewedAt = now();
      }
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, options.max - seen.size),
          VisibilityTimeout: options.holdSeconds,
          WaitTimeSeconds: options.waitSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const got = out.Messages ?? [];
      const before = seen.size;
      const idOf = (message: Message) => message.MessageId ?? message.ReceiptHandle ?? '';
      // All of the answer is held (and released at the end), also what is not visited after a stop.
      // Returned again (a copy, or a hold that lapsed anyway): the newest handle is kept, counted once.
      for (const message of got) held.set(idOf(message), message);
      for (const message of got) {
        const id = idOf(message);
        if (seen.has(id)) continue;
        seen.add(id);
        const result = await visit(message);
        if (result.deleted) held.delete(id);
        if (result.stop) stoppedBy = 'visitor';
        if (stoppedBy) break;
      }
      // A poll that brought nothing new counts as empty, so messages coming back cannot loop forever.
      if (seen.size === before) {
        empty++;
        if (!stoppedBy && empty >= options.maxEmptyPolls) stoppedBy = 'empty-polls';
        continue;
      }
      empty = 0;
      onProgress?.(seen.size);
      if (!stoppedBy && seen.size < options.max && (await queueCounts(sqs, queueUrl)).visible === 0)
        stoppedBy = 'queue-counts';
    }
  } finally {
    await setVisibility(sqs, queueUrl, [...held.values()], 0).catch(() => undefined);
  }
  return { seen: seen.size, atStart, stoppedBy: stoppedBy ?? 'empty-polls' };
}

/** One line for the operator: how many were seen, and why some may not have been. */
export function describeScan(report: ScanReport): string {
  const parts = [
    `scanned ${report.seen} message(s); at the start the queue reported ${report.atStart.visible} waiting and ${report.atStart.inFlight} in flight`,
  ];
  if (report.stoppedBy === 'max') parts.push('stopped at --max: there may be more');
  if (report.atStart.inFlight > 0)
    parts.push('messages in flight are held by another reader (a scan, the console) and were not seen');
  return parts.join('; ');
}
