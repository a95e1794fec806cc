import type { SQSRecord } from 'aws-lambda';
// $ZodError matches errors from classic zod and zod/mini alike (the queue message schema is zod/mini).
import { $ZodError } from 'zod/v4/core';
import { type ArchiveWriter, toArchived } from '../archive/archive';
import type { ClaimStore } from '../archive/claim-check';
import type { ExternalOrderRef } from '../domain/order';
import { providerOrderKey } from '../domain/order';
import type { OrderEvent, ParsedWebhook } from '../domain/order-event';
import { applyOrderEvent, mustExistExternally, type OrderRecord, pushedState } from '../domain/order-record';
import { orderWithAllLineItems } from '../domain/record-size';
import { AppError, ConfigError, RetryLaterError, TransientError } from '../errors';
import { deliveryRecordKey, type IdempotencyStore, stepRecordKey } from '../idempotency/store';
import type { Log } from '../logger';
import { METRIC } from '../metrics';
import type { OrderStore } from '../order-system/ledger';
import type { OrderSystem } from '../order-system/types';
import { WORKER_PROVIDERS } from '../providers/worker-registry';
import type { RecordDeferrer } from '../queue/defer';
import type { DeadLetterSender } from '../queue/dlq';
import { fromSqsRecord, type QueuedWebhook } from '../queue/message';
import type { RechargeApi, StepRunner } from './types';

/** Counting metrics (Powertools in Lambda; a recorder in tests). */
export interface MetricsSink {
  count(name: string, value?: number): void;
}

/** Everything the worker talks to, injected so tests use real emulators or fakes at the ports. */
export interface WorkerDeps {
  idempotency: IdempotencyStore;
  orders: OrderStore;
  orderSystem: OrderSystem;
  recharge: RechargeApi;
  deadLetter: DeadLetterSender;
  log: Log;
  metrics: MetricsSink;
  now: () => number;
  /** Records of one batch processed at the same time (records of one provider order run in turn). */
  concurrency: number;
  /** Time kept back from the invocation's remaining time, for reporting the batch result. */
  safetyMarginMs: number;
  /** The audit archive; each provider delivery is archived as the record's first step. */
  archive?: ArchiveWriter;
  /** Claim-check bodies (messages whose body is a pointer to S3). */
  claims?: ClaimStore;
  /** Fault injection for tests (a crash between steps): awaited after each completed step. */
  hooks?: { afterStep?: (step: string, orderKey: string) => Promise<void> | void };
  /** Keeps failed records that carry `retryAfterSeconds` away until then (see shared/queue/defer). */
  defer?: RecordDeferrer;
}

export type RecordOutcome =
  | 'applied'
  | 'stale'
  | 'duplicate'
  | 'ignored'
  | 'in-progress-elsewhere'
  | 'dead-lettered'
  | 'transient-failure';

export interface RecordResult {
  messageId: string;
  outcome: RecordOutcome;
  /** True when SQS must keep the message (reported in batchItemFailures). */
  failed: boolean;
  /** For a failed record: seconds until it is worth trying again (its visibility timeout is set to it). */
  retryAfterSeconds?: number;
}

/**
 * A configuration problem (a missing or refused credential) is retried this far apart: each try
 * cannot succeed until someone fixes the setting, and the alarm on RecordConfigError says so.
 */
export const CONFIG_RETRY_SECONDS = 300;

/** A record parsed up front, so the batch can group records by provider order. */
export interface PreparedRecord {
  record: SQSRecord;
  webhook?: QueuedWebhook;
  parsed?: ParsedWebhook;
  /** Set when the record cannot be parsed: it goes to the DLQ as permanent. */
  error?: { step: string; error: unknown };
  /** Serialisation key: the provider order, or the message id when unknown. */
  groupKey: string;
}

/**
 * Parses a record's message and payload without side effects. `body`: the provider's body when the
 * message carried a claim-check pointer (read by processBatch); `record` stays as received, so a
 * dead-lettered record keeps its pointer rather than megabytes.
 */
export function prepareRecord(record: SQSRecord, body: string = record.body): PreparedRecord {
  let webhook: QueuedWebhook;
  try {
    webhook = fromSqsRecord({ body, messageAttributes: record.messageAttributes });
  } catch (error) {
    return { record, error: { step: 'parse-message', error }, groupKey: record.messageId };
  }
  try {
    const parsed = WORKER_PROVIDERS[webhook.provider].parse(webhook);
    const ref = parsed.kind === 'order' ? parsed.event.ref : parsed.ref;
    return { record, webhook, parsed, groupKey: ref ? providerOrderKey(ref) : record.messageId };
  } catch (error) {
    return { record, webhook, error: { step: 'parse-payload', error }, groupKey: record.messageId };
  }
}

/** Permanent: retrying cannot help (bad payload, remote rejected). Config problems are retried: they get fixed. */
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof ConfigError) return false;
  if (error instanceof $ZodError || error instanceof SyntaxError) return true;
  return error instanceof AppError && !error.transient;
}

function messageOf(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (error instanceof $ZodError) return 'payload failed its schema';
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return 'unknown error';
}

const APPLY_ATTEMPTS = 8;
/**
 * A step or delivery another attempt holds (typically waiting for the ReCharge budget) is looked at
 * again this soon, rather than after the queue's visibility timeout (6 min in the stack).
 */
const BUSY_RETRY_MS = 5000;

/** Result of the create-order step: the ids and the state version the create carried. */
interface CreatedExternal extends ExternalOrderRef {
  stateVersion?: number;
}

/**
 * Processes one record exactly once in effect: delivery claim, state change on the order item,
 * then each external effect as its own idempotent step, then delivery completion. Never throws:
 * the result says whether SQS must keep the message.
 */
export async function processRecord(
  prepared: PreparedRecord,
  deps: WorkerDeps,
  deadline: number,
): Promise<RecordResult> {
  const started = deps.now();
  const { record, webhook, parsed } = prepared;
  const fields: Record<string, unknown> = {
    messageId: record.messageId,
    provider: webhook?.provider,
    topic: webhook?.topic,
    deliveryKey: webhook?.deliveryKey,
    orderId: parsed?.kind === 'order' ? parsed.event.ref.orderId : undefined,
    receiveCount: record.attributes?.ApproximateReceiveCount,
  };
  let step = prepared.error?.step ?? 'claim-delivery';
  const done = (
    outcome: RecordOutcome,
    failed: boolean,
    extra: Record<string, unknown> = {},
    retryAfterSeconds?: number,
  ): RecordResult => {
    const log = failed || outcome === 'dead-lettered' ? deps.log.warn : deps.log.info;
    log.call(deps.log, 'record handled', {
      ...fields,
      step,
      outcome,
      durationMs: deps.now() - started,
      ...extra,
    });
    return {
      messageId: record.messageId,
      outcome,
      failed,
      ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
    };
  };

  const deadLetter = async (error: unknown): Promise<RecordResult> => {
    deps.metrics.count(METRIC.permanentFailure);
    const reason = messageOf(error);
    try {
      await deps.deadLetter(record, {
        failureClass: 'permanent',
        reason,
        step,
        failedAt: new Date(deps.now()).toISOString(),
      });
      return done('dead-lettered', false, { reason });
    } catch (sendError) {
      return done('transient-failure', true, { reason, dlqError: messageOf(sendError) });
    }
  };

  // Archive first, before anything can fail for good: off the ack path (the ingest answers without
  // waiting for S3, see the ingest's claim check for the exception), idempotent by key, and a
  // failure leaves the record to SQS so no delivery is processed without being archived.
  if (webhook && deps.archive && !webhook.origin) {
    step = 'archive';
    try {
      await deps.archive.put(
        toArchived(webhook, parsed?.kind === 'order' ? parsed.event.ref.orderId : undefined),
      );
    } catch (error) {
      deps.metrics.count(METRIC.transientFailure);
      return done('transient-failure', true, { reason: messageOf(error) });
    }
    step = prepared.error?.step ?? 'claim-delivery';
  }
  if (prepared.error?.step === 'read-claim' && !isPermanentFailure(prepared.error.error)) {
    deps.metrics.count(METRIC.transientFailure);
    return done('transient-failure', true, { reason: messageOf(prepared.error.error) });
  }
  if (prepared.error || !webhook || !parsed) return deadLetter(prepared.error?.error);
  if (parsed.kind === 'ignore') {
    deps.metrics.count(METRIC.recordIgnored);
    step = 'none';
    return done('ignored', false, { reason: parsed.reason });
  }

  const deliveryPk = deliveryRecordKey(webhook.deliveryKey);
  let token: string | undefined;
  try {
    const claim = await deps.idempotency.claim(deliveryPk);
    if (claim.state === 'completed') {
      deps.metrics.count(METRIC.duplicate);
      return done('duplicate', false);
    }
    if (claim.state === 'busy') {
      // Another attempt holds the key: it does the work; this copy looks again in a few seconds.
      deps.metrics.count(METRIC.duplicate);
      const retryAfterSeconds = Math.ceil(
        Math.max(1000, Math.min(BUSY_RETRY_MS, claim.leaseUntil - deps.now())) / 1000,
      );
      return done(
        'in-progress-elsewhere',
        true,
        { leaseUntil: new Date(claim.leaseUntil).toISOString() },
        retryAfterSeconds,
      );
    }
    token = claim.token;
    if (claim.takenOver) fields.takenOver = true;
    const outcome = await applyEvent(parsed.event, webhook, deps, deadline, (s) => {
      step = s;
    });
    step = 'complete-delivery';
    const kept = await deps.idempotency.complete(deliveryPk, token, { outcome });
    if (!kept) deps.log.warn('delivery claim lost before completion', fields);
    deps.metrics.count(METRIC.processed);
    return done(outcome, false);
  } catch (error) {
    if (token) await deps.idempotency.release(deliveryPk, token).catch(() => undefined);
    if (isPermanentFailure(error)) return deadLetter(error);
    if (error instanceof ConfigError) {
      // Every record would fail the same way until the setting is fixed: say so once per record,
      // loudly, and let the queue wait instead of dead-lettering good messages.
      deps.metrics.count(METRIC.configError);
      deps.log.error('configuration problem: record kept for retry', {
        ...fields,
        step,
        reason: messageOf(error),
      });
      return done('transient-failure', true, { reason: messageOf(error) }, CONFIG_RETRY_SECONDS);
    }
    deps.metrics.count(METRIC.transientFailure);
    if (error instanceof RetryLaterError) {
      const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      return done(
        'transient-failure',
        true,
        { reason: messageOf(error), retryAfterSeconds },
        retryAfterSeconds,
      );
    }
    return done('transient-failure', true, { reason: messageOf(error) });
  }
}

async function applyEvent(
  event: OrderEvent,
  webhook: QueuedWebhook,
  deps: WorkerDeps,
  deadline: number,
  setStep: (step: string) => void,
): Promise<'applied' | 'ignored' | 'stale'> {
  const orderKey = providerOrderKey(event.ref);
  const now = () => new Date(deps.now()).toISOString();

  setStep('apply-event');
  let record: OrderRecord | undefined;
  let result: ReturnType<typeof applyOrderEvent> | undefined;
  for (let attempt = 0; attempt < APPLY_ATTEMPTS && !record; attempt++) {
    const stored = await deps.orders.get(event.ref);
    result = applyOrderEvent(stored, event, {
      deliveryKey: webhook.deliveryKey,
      now: now(),
      origin: webhook.origin,
    });
    record = result.changed ? await deps.orders.save(result.record, stored?.version) : result.record;
  }
  if (!record || !result) throw new TransientError('order item kept changing under concurrent writers');
  const outcome = result.stale ? 'stale' : result.ignored ? 'ignored' : 'applied';

  const step: StepRunner = async (name, qualifier, run) => {
    setStep(name);
    const pk = stepRecordKey(orderKey, name, qualifier);
    const claim = await deps.idempotency.claim<Awaited<ReturnType<typeof run>>>(pk);
    if (claim.state === 'completed') return claim.result as Awaited<ReturnType<typeof run>>;
    if (claim.state === 'busy')
      throw new RetryLaterError(
        `step ${name} is in progress elsewhere`,
        Math.min(BUSY_RETRY_MS, claim.leaseUntil - deps.now()),
      );
    let value: Awaited<ReturnType<typeof run>>;
    try {
      value = await run();
    } catch (error) {
      await deps.idempotency.release(pk, claim.token).catch(() => undefined);
      throw error;
    }
    await deps.idempotency.complete(pk, claim.token, value);
    await deps.hooks?.afterStep?.(name, orderKey);
    return value;
  };

  // Converge, don't replay: from here on, every delivery (a stale or repeated one too) brings the
  // order system to the order's current state. What must exist is decided from that state.
  if (mustExistExternally(record) && !record.externalId) {
    // Keyed by provider order, not delivery: every delivery of one order shares this step. A
    // delivery that finds it busy is retried, and then pushes whatever it changed meanwhile.
    const ids = await step('create-order', undefined, async (): Promise<CreatedExternal> => {
      // Read after claiming: the create carries the newest state, and records its version.
      const latest = (await deps.orders.get(event.ref)) ?? record;
      if (latest?.externalId && latest.externalNumber)
        return {
          id: latest.externalId,
          number: latest.externalNumber,
          stateVersion: latest.externalStateVersion,
        };
      const created = latest as OrderRecord;
      const assigned = await deps.orderSystem.createOrder({
        ref: event.ref,
        order: orderWithAllLineItems(created.order, event.order),
        ...pushedState(created),
        version: created.stateVersion ?? 0,
        idempotencyKey: `${orderKey}:create`,
        deadline,
      });
      setStep('attach-external-ids');
      const attached = await deps.orders.attachExternal(
        event.ref,
        assigned,
        now(),
        webhook.deliveryKey,
        created.stateVersion ?? 0,
      );
      return {
        id: String(attached.externalId),
        number: String(attached.externalNumber),
        stateVersion: attached.externalStateVersion,
      };
    });
    record = {
      ...record,
      externalId: ids.id,
      externalNumber: ids.number,
      externalStateVersion: ids.stateVersion ?? record.externalStateVersion ?? 0,
    };
  }
  if (!record.externalId || !record.externalNumber) return outcome;
  const external: ExternalOrderRef = { id: record.externalId, number: record.externalNumber };

  const pushState = deps.orderSystem.pushState?.bind(deps.orderSystem);
  const version = record.stateVersion ?? 0;
  if (pushState && version > (record.externalStateVersion ?? 0)) {
    const current = record;
    await step('push-state', String(version), async () => {
      // A newer state saved since is pushed by the delivery that saved it: never send an older one.
      const latest = await deps.orders.get(event.ref);
      if ((latest?.stateVersion ?? 0) > version) return { pushed: false, superseded: true };
      const answer = await pushState({
        ref: event.ref,
        external,
        version,
        ...pushedState(current),
        updatedAt: current.updatedAt,
        idempotencyKey: `${orderKey}:state:${version}`,
        deadline,
      });
      return { pushed: answer === 'pushed', superseded: answer === 'superseded' };
    });
  }

  const followUps = WORKER_PROVIDERS[event.ref.provider].followUps;
  if (followUps) {
    await followUps({ event, record, external, step, recharge: deps.recharge, deadline, log: deps.log });
  }
  return outcome;
}
