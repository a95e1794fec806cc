import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { toArchived } from '../archive/archive';
import { resolveBody } from '../archive/claim-check';
import { runWithCallDeadline } from '../aws/call-deadline';
import { METRIC } from '../metrics';
import { RequeueFailedError } from '../queue/defer';
import {
  type PreparedRecord,
  prepareRecord,
  processRecord,
  type RecordOutcome,
  type RecordResult,
  type WorkerDeps,
} from './process-record';

/** Parses a record, reading its body from S3 first when the message is a claim-check pointer. */
async function loadRecord(record: SQSRecord, deps: WorkerDeps): Promise<PreparedRecord> {
  try {
    return prepareRecord(record, await resolveBody(record.body, deps.claims));
  } catch (error) {
    return { record, error: { step: 'read-claim', error }, groupKey: record.messageId };
  }
}

/** The part of the Lambda context the worker uses. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number;
}

/** Kept after the last AWS call is cut off, to build and return the batch answer. */
const CALL_RESERVE_MS = 250;

/** Fallback when the caller's context has no clock (never in Lambda): the stack's worker timeout. */
const DEFAULT_REMAINING_MS = 60_000;

/**
 * Processes an SQS batch and returns partial batch failures: one bad record never fails the
 * others. Records run concurrently up to `deps.concurrency`, but records about the same provider
 * order run one after the other, in arrival order.
 */
export async function processBatch(
  records: SQSRecord[],
  deps: WorkerDeps,
  context?: Partial<InvocationClock>,
): Promise<{ response: SQSBatchResponse; results: RecordResult[] }> {
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis()
      : DEFAULT_REMAINING_MS;
  const deadline = deps.now() + remaining - deps.safetyMarginMs;

  const results = new Map<string, RecordResult>();
  const groups = new Map<string, ReturnType<typeof prepareRecord>[]>();
  for (const prepared of await loadAndArchive(records, deps, results)) {
    const group = groups.get(prepared.groupKey);
    if (group) group.push(prepared);
    else groups.set(prepared.groupKey, [prepared]);
  }

  const queue = [...groups.values()];
  const worker = async () => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      for (const prepared of group) {
        // Work started past the deadline could outlive the invocation, and a timed-out invocation
        // returns no partial-batch answer at all: leave the record to SQS instead.
        if (deps.now() >= deadline) {
          deps.metrics.count(METRIC.transientFailure);
          deps.log.warn('record handled', {
            messageId: prepared.record.messageId,
            step: 'not-started',
            outcome: 'transient-failure',
            reason: 'no time left in this invocation',
          });
          results.set(prepared.record.messageId, {
            messageId: prepared.record.messageId,
            outcome: 'transient-failure',
            failed: true,
          });
          continue;
        }
        results.set(prepared.record.messageId, await processRecord(prepared, deps, deadline));
      }
    }
  };
  // Every AWS call of the batch is cut off (clients wrapped by boundByCallDeadline) just before the
  // invocation ends, not at the working deadline: a record that overran the working time may still
  // finish or release its claims, and a hung call still ends in time to return the batch answer.
  await runWithCallDeadline(
    deadline + deps.safetyMarginMs - Math.min(CALL_RESERVE_MS, deps.safetyMarginMs / 2),
    () => Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency, queue.length)) }, worker)),
  );

  await deferRecords(records, results, deps);
  const ordered = records.map(
    (r) =>
      results.get(r.messageId) ?? {
        messageId: r.messageId,
        outcome: 'transient-failure' as const,
        failed: true,
      },
  );
  return {
    response: {
      batchItemFailures: ordered.filter((r) => r.failed).map((r) => ({ itemIdentifier: r.messageId })),
    },
    results: ordered,
  };
}

/**
 * Reads and parses the batch's records and archives its provider deliveries (not replays or
 * reconciles) in one write before any is processed: off the ack path (the ingest answers without
 * waiting for S3), one S3 PUT per batch. Each delivery is compressed into the archive object as it is
 * read, and a claim-checked body is then let go (only the parse result is processed): a batch of
 * megabyte bodies is never in memory at once (test/integration/worker-memory.test.ts). If the write
 * fails, those records stay in SQS (a transient failure) so nothing is processed without being
 * archived; the others go on. Returns the records to process, each archived one carrying its
 * archiveRef for the order's history.
 */
async function loadAndArchive(
  records: SQSRecord[],
  deps: WorkerDeps,
  results: Map<string, RecordResult>,
): Promise<PreparedRecord[]> {
  const batch = deps.archive?.startBatch();
  const loaded: PreparedRecord[] = new Array(records.length);
  const toArchive: PreparedRecord[] = [];
  let archiveError: unknown;
  // One record at a time: a claim-checked body is read, parsed, compressed and let go before the next.
  for (const [i, record] of records.entries()) {
    const prepared = await loadRecord(record, deps);
    loaded[i] = prepared;
    const webhook = prepared.webhook;
    if (!batch || !webhook || webhook.origin) continue;
    toArchive.push(prepared);
    const parsed = prepared.parsed;
    const written = batch.add(
      toArchived(webhook, parsed?.kind === 'order' ? parsed.event.ref.orderId : undefined),
    );
    // Archived and parsed: a claim-checked body is not needed again (a dead-lettered record keeps its pointer).
    if (webhook.body !== record.body) prepared.webhook = { ...webhook, body: '' };
    await written.catch((error: unknown) => {
      archiveError ??= error;
    });
    // A claim-checked body leaves tens of MB of garbage (its bytes, string, parse and escaped
    // copies); collecting it before the next keeps the batch's peak at one body. Lambda starts Node
    // with --expose-gc; elsewhere gc is undefined and this does nothing. Such bodies are rare.
    if (webhook.body !== record.body) (globalThis as { gc?: () => void }).gc?.();
  }
  try {
    if (archiveError) throw archiveError;
    const refs = batch && toArchive.length > 0 ? await batch.commit() : [];
    toArchive.forEach((p, i) => {
      p.webhook = { ...(p.webhook as NonNullable<PreparedRecord['webhook']>), archiveRef: refs[i] as string };
    });
    if (toArchive.length > 0) deps.log.debug('batch archived', { records: toArchive.length, refs });
    return loaded;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
    const outcome: RecordOutcome = 'transient-failure';
    for (const p of toArchive) {
      deps.metrics.count(METRIC.transientFailure);
      deps.log.warn('record handled', {
        messageId: p.record.messageId,
        provider: p.webhook?.provider,
        deliveryKey: p.webhook?.deliveryKey,
        step: 'archive',
        outcome,
        reason,
      });
      results.set(p.record.messageId, { messageId: p.record.messageId, outcome, failed: true });
    }
    const failed = new Set(toArchive);
    return loaded.filter((p) => !failed.has(p));
  }
}

/**
 * Failed records that say when they can succeed (`retryAfterSeconds`) are kept away until then
 * instead of coming back after the queue's visibility timeout; one re-queued fresh (its receive
 * count at the redrive limit) is no longer failed. If SQS refuses, the record simply stays failed.
 */
async function deferRecords(
  records: SQSRecord[],
  results: Map<string, RecordResult>,
  deps: WorkerDeps,
): Promise<void> {
  const defer = deps.defer;
  if (!defer) return;
  await Promise.all(
    records.map(async (record) => {
      const result = results.get(record.messageId);
      if (!result?.failed || result.retryAfterSeconds === undefined) return;
      try {
        const how = await defer.defer(record, result.retryAfterSeconds);
        if (how === 'requeued') results.set(record.messageId, { ...result, failed: false });
        (how === 'kept' ? deps.log.warn : deps.log.info).call(deps.log, 'record deferred', {
          messageId: record.messageId,
          how,
          retryAfterSeconds: result.retryAfterSeconds,
          receiveCount: record.attributes?.ApproximateReceiveCount,
        });
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause.name : undefined;
        deps.log.warn('record deferral failed', {
          messageId: record.messageId,
          error: error instanceof Error ? error.name : 'unknown',
          ...(cause ? { cause } : {}),
        });
        if (error instanceof RequeueFailedError)
          await deadLetterWaiting(record, result, results, deps, cause);
      }
    }),
  );
}

/**
 * A waiting record that could not be re-queued at its last receive (SQS refused twice, a receive
 * apart): the next receive would have the redrive policy move it without its failure attributes, so
 * it is dead-lettered here with them (`failureClass: transient`, step `requeue`), and `dlq redrive`
 * brings it back. If that send fails too, it stays failed and the redrive policy moves it.
 */
async function deadLetterWaiting(
  record: SQSRecord,
  result: RecordResult,
  results: Map<string, RecordResult>,
  deps: WorkerDeps,
  cause: string | undefined,
): Promise<void> {
  try {
    await deps.deadLetter(record, {
      failureClass: 'transient',
      reason: `waiting record could not be re-queued${cause ? ` (${cause})` : ''}`,
      step: 'requeue',
      failedAt: new Date(deps.now()).toISOString(),
    });
    results.set(record.messageId, { ...result, outcome: 'dead-lettered', failed: false });
    deps.log.error('waiting record dead-lettered: re-queue failed at its last receive', {
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
    });
  } catch {
    // Stays failed: never lost.
  }
}
