import type { SQSRecord } from 'aws-lambda';
// $ZodError matches errors from classic zod and zod/mini alike (the queue message schema is zod/mini).
import { $ZodError } from 'zod/v4/core';
import type { ArchiveWriter } from '../archive/archive';
import type { ClaimStore } from '../archive/claim-check';
import type { WriteBackMode } from '../config';
import type { ExternalOrderRef } from '../domain/order';
import { providerOrderKey } from '../domain/order';
import type { OrderEvent, ParsedWebhook } from '../domain/order-event';
import {
  applyOrderEvent,
  mustExistExternally,
  type OrderRecord,
  olderThanSaved,
  pushedState,
} from '../domain/order-record';
import { orderWithAllLineItems } from '../domain/record-size';
import { AppError, ConfigError, RetryLaterError, TransientError } from '../errors';
import { OrderSteps, type StepView } from '../idempotency/order-steps';
import type { Log } from '../logger';
import { ATTENTION, countAttention, METRIC } from '../metrics';
import type { OrderStore } from '../order-system/ledger';
import type { CreatedOrder, OrderSystem } from '../order-system/types';
import { WORKER_PROVIDERS } from '../providers/worker-registry';
import type { RecordDeferrer } from '../queue/defer';
import type { DeadLetterSender } from '../queue/dlq';
import type { QueuedWebhook } from '../queue/message';
import { fromSqsRecord } from '../queue/message-schema';
import type { FollowUpStep, RechargeApi, ReservedSlot } from './types';

/** Counting metrics (Powertools in Lambda; a recorder in tests). */
export interface MetricsSink {
  /** `dimensions` beside `service`: only NeedsAttention's reason (shared/metrics.ts countAttention). */
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
}

/** Everything the worker talks to, injected so tests use real emulators or fakes at the ports. */
export interface WorkerDeps {
  orders: OrderStore;
  /** How long a step claim on the order item holds before another attempt may take it over. */
  stepLeaseSeconds?: number;
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
  /** The audit archive; a batch's provider deliveries are archived before any is processed (process-batch). */
  archive?: ArchiveWriter;
  /** Claim-check bodies (messages whose body is a pointer to S3). */
  claims?: ClaimStore;
  /**
   * Fault injection for tests (a crash between steps): awaited after each step's effect, once its
   * completion is written or left to ride on the next step's (a prepaid order's order PUT).
   */
  hooks?: { afterStep?: (step: string, orderKey: string) => Promise<void> | void };
  /** Keeps failed records that carry `retryAfterSeconds` away until then (see shared/queue/defer). */
  defer?: RecordDeferrer;
  /** ReCharge write-backs (RECHARGE_WRITE_BACK): fill when not given. */
  writeBackMode?: WriteBackMode;
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
 * cannot succeed until someone fixes the setting, and the NeedsAttention alarm says so.
 */
export const CONFIG_RETRY_SECONDS = 300;

/** A queued webhook as the worker holds it: `archiveRef` once the batch archived it (archive.ts). */
export type WorkerWebhook = QueuedWebhook & { archiveRef?: string };

/** A record parsed up front, so the batch can group records by provider order. */
export interface PreparedRecord {
  record: SQSRecord;
  webhook?: WorkerWebhook;
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

/**
 * A step or delivery another attempt holds (typically waiting for the ReCharge budget) is looked at
 * again this soon, rather than after the queue's visibility timeout (6 min in the stack).
 */
const BUSY_RETRY_MS = 5000;

/**
 * Processes one record exactly once in effect: the state change on the order item, then each
 * external effect as its own idempotent step on that item. Never throws:
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
    // A first delivery says nothing more: the count is logged from the second on.
    receiveCount:
      Number(record.attributes?.ApproximateReceiveCount ?? 1) > 1
        ? record.attributes?.ApproximateReceiveCount
        : undefined,
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
      // The step a record stopped at; one that finished says so by its outcome alone.
      ...(step === 'done' ? {} : { step }),
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
      const dlqMessageId = await deps.deadLetter(record, {
        failureClass: 'permanent',
        reason,
        step,
        failedAt: new Date(deps.now()).toISOString(),
      });
      // `messageId` is the main queue's; the copy in the dead-letter queue has its own (`dlq show <id>`).
      return done('dead-lettered', false, { reason, ...(dlqMessageId ? { dlqMessageId } : {}) });
    } catch (sendError) {
      return done('transient-failure', true, { reason, dlqError: messageOf(sendError) });
    }
  };

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

  // No per-delivery claim/complete records: every delivery drives the order to its current state
  // and every effect is guarded by its step on the order item, so a copy processed twice (or at once)
  // changes nothing more; a repeat is recognised from the order's history (its delivery keys).
  step = 'read-order';
  try {
    // Our own retry, or a replayed/reconciled copy of a past delivery: never a status that returns.
    const redelivered =
      Number(record.attributes?.ApproximateReceiveCount ?? 1) > 1 || webhook.origin !== undefined;
    const outcome = await applyEvent(parsed.event, webhook, deps, deadline, redelivered, (s) => {
      step = s;
    });
    step = 'done';
    deps.metrics.count(outcome === 'duplicate' ? METRIC.duplicate : METRIC.processed);
    return done(outcome, false);
  } catch (error) {
    if (isPermanentFailure(error)) return deadLetter(error);
    if (error instanceof ConfigError) {
      // Every record would fail the same way until the setting is fixed: say so once per record,
      // loudly, and let the queue wait instead of dead-lettering good messages.
      deps.metrics.count(METRIC.configError);
      countAttention(deps.metrics, ATTENTION.workerConfigError);
      deps.log.error('configuration problem: record kept for retry', {
        ...fields,
        needsAttention: ATTENTION.workerConfigError,
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
  redelivered: boolean,
  setStep: (step: string) => void,
): Promise<'applied' | 'ignored' | 'stale' | 'duplicate'> {
  // A topic that announces a new order skips the read: the first write is conditional on the item's
  // absence, and if it exists after all the refusal hands it back (a refused write instead of a read).
  // Not when the order system issues ids before the save (the ledger): whether to take a number is
  // decided from the stored item, so a repeated create costs a read, never a number.
  const likelyNew =
    !deps.orderSystem.idsBeforeSave &&
    (WORKER_PROVIDERS[event.ref.provider].newOrderTopics?.includes(event.topic) ?? false);
  const steps = new OrderSteps(
    deps.orders,
    likelyNew ? undefined : await deps.orders.get(event.ref),
    (deps.stepLeaseSeconds ?? DEFAULT_STEP_LEASE_SECONDS) * 1000,
    deps.now,
  );
  try {
    return await converge(event, webhook, deps, deadline, redelivered, setStep, steps);
  } catch (error) {
    // Release path: steps claimed ahead (or one whose effect failed) are freed for the redelivery;
    // steps whose effect was made were completed right after it, so none is repeated.
    await steps.releaseAll().catch(() => undefined);
    throw error;
  }
}

/**
 * Write-backs about to run in turn, all held and fresh (none taken over, so no verification read
 * comes first): their first PUTs' rate-budget slots are reserved with one call, not one each (a new
 * prepaid order: 7 DynamoDB calls, not 8). If the first PUT fails the later slot is wasted, never
 * used late: a wasted slot costs throughput, exceeding the limit would cost 429s.
 */
async function reserveWriteSlots(
  remaining: FollowUpStep[],
  steps: OrderSteps,
  deps: WorkerDeps,
  deadline: number,
): Promise<Map<string, ReservedSlot>> {
  const fresh = remaining.filter((s) => s.rechargeWrite && steps.owns(s.name) && !steps.tookOver(s.name));
  if (fresh.length < 2 || fresh[0] !== remaining[0] || !deps.recharge.reserveWrites) return new Map();
  const slots = await deps.recharge.reserveWrites(fresh.length, deadline);
  return new Map(slots.map((slot, i) => [fresh[i]?.name ?? '', slot]));
}

/** The lease of a step claim when the deps do not say (IDEMPOTENCY_LEASE_SECONDS's default). */
const DEFAULT_STEP_LEASE_SECONDS = 120;

const CREATE_STEP = 'create-order';
const PUSH_STEP = 'push-state';

function busy(name: string, view: StepView, deps: WorkerDeps): RetryLaterError {
  const leaseUntil = view.state === 'busy' ? view.leaseUntil : deps.now() + BUSY_RETRY_MS;
  return new RetryLaterError(
    `step ${name} is in progress elsewhere`,
    Math.max(1000, Math.min(BUSY_RETRY_MS, leaseUntil - deps.now())),
  );
}

/**
 * Saves the event on the order item, then brings the order system and the provider to the order's
 * current state, each external effect a step on the order item (see shared/idempotency/order-steps).
 */
async function converge(
  event: OrderEvent,
  webhook: WorkerWebhook,
  deps: WorkerDeps,
  deadline: number,
  redelivered: boolean,
  setStep: (step: string) => void,
  steps: OrderSteps,
): Promise<'applied' | 'ignored' | 'stale' | 'duplicate'> {
  const orderKey = providerOrderKey(event.ref);
  const now = () => new Date(deps.now()).toISOString();
  const delivery = {
    deliveryKey: webhook.deliveryKey,
    now: now(),
    origin: webhook.origin,
    archiveRef: webhook.archiveRef,
    redelivered,
  };
  // Converge, don't replay: from the save on, every delivery (a stale or repeated one too) brings the
  // order system to the order's current state. What must exist is decided from that state.
  const followUps = WORKER_PROVIDERS[event.ref.provider].followUps;
  const planFor = (external: ExternalOrderRef, applied: ReturnType<typeof applyOrderEvent>): FollowUpStep[] =>
    followUps?.({
      event,
      external,
      recharge: deps.recharge,
      deadline,
      log: deps.log,
      writeBackMode: deps.writeBackMode ?? 'fill',
      ...(webhook.origin ? { origin: webhook.origin } : {}),
      // A stale delivery, or a repeat of one older than the saved state: its payload is not the newest
      // state (a repeat of the newest one is, and costs no read).
      ...(applied.stale || (applied.alreadyApplied && olderThanSaved(applied.record, event))
        ? { stale: true }
        : {}),
      stepState: (name) => steps.item?.steps?.[name],
      count: (metric, value, dimensions) => deps.metrics.count(metric, value, dimensions),
    }) ?? [];

  // An order system whose create only hands out ids (the ledger) creates before the save, when the
  // event leaves the order needing one: the save then attaches the ids, completes create-order and
  // claims the write-backs in one write (for a new order, one write fewer than claim, create, attach).
  let issued: CreatedOrder | undefined;
  if (deps.orderSystem.idsBeforeSave) {
    const preview = applyOrderEvent(steps.item, event, delivery).record;
    if (mustExistExternally(preview) && !preview.externalId) {
      setStep(CREATE_STEP);
      issued = await deps.orderSystem.createOrder({
        ref: event.ref,
        order: preview.order,
        ...pushedState(preview),
        version: preview.stateVersion ?? 0,
        idempotencyKey: `${orderKey}:create`,
        deadline,
      });
    }
  }
  setStep('apply-event');
  let result: ReturnType<typeof applyOrderEvent> | undefined;
  let attached = false;
  // Otherwise (or when no id was taken for it), saving the event also claims create-order when the
  // order must exist externally and does not: the create then carries exactly the state this write
  // saved (no re-read).
  await steps.update((stored) => {
    result = applyOrderEvent(stored, event, delivery);
    const draft = structuredClone(result.record);
    attached = false;
    if (issued && mustExistExternally(draft) && !draft.externalId) {
      const external = { id: issued.id, number: issued.number };
      draft.externalId = issued.id;
      draft.externalNumber = issued.number;
      draft.externalCreatedBy = webhook.deliveryKey;
      draft.externalStateVersion = draft.stateVersion ?? 0;
      steps.recordIn(draft, CREATE_STEP, undefined, {
        ...external,
        stateVersion: draft.externalStateVersion,
      });
      for (const next of planFor(external, result)) steps.claimIn(draft, next.name, next.qualifier);
      attached = true;
    }
    const claimed =
      mustExistExternally(draft) && !draft.externalId && steps.claimIn(draft, CREATE_STEP, undefined);
    return result.changed || claimed || attached ? draft : undefined;
  });
  const applied = result;
  if (!applied) throw new TransientError('order item kept changing under concurrent writers');
  if (issued && !attached)
    // Another delivery attached ids first, or the order no longer needs one: the number is skipped.
    deps.log.info('order number skipped', { orderKey, number: issued.number });
  if (attached) await deps.hooks?.afterStep?.(CREATE_STEP, orderKey);
  if (applied.keptFinal) {
    deps.metrics.count(METRIC.statusKeptOut);
    deps.log.warn('status word kept out of a settled order', {
      orderKey,
      status: applied.record.status,
      providerStatus: event.providerStatus,
      subscriptionStatus: event.subscriptionStatus,
    });
  }
  const outcome = applied.alreadyApplied
    ? 'duplicate'
    : applied.stale
      ? 'stale'
      : applied.ignored
        ? 'ignored'
        : 'applied';
  if (!steps.item) return outcome;

  if (mustExistExternally(steps.item) && !steps.item.externalId) {
    // Keyed by provider order, not delivery: every delivery of one order shares this step. A
    // delivery that finds it busy is retried, and then pushes whatever it changed meanwhile.
    setStep(CREATE_STEP);
    if (!steps.owns(CREATE_STEP))
      await steps.change((draft) => !draft.externalId && steps.claimIn(draft, CREATE_STEP, undefined));
    const created = steps.item as OrderRecord;
    if (!created.externalId) {
      if (!steps.owns(CREATE_STEP)) throw busy(CREATE_STEP, steps.view(CREATE_STEP, undefined), deps);
      const assigned = await deps.orderSystem.createOrder({
        ref: event.ref,
        order: orderWithAllLineItems(created.order, event.order),
        ...pushedState(created),
        version: created.stateVersion ?? 0,
        idempotencyKey: `${orderKey}:create`,
        deadline,
      });
      setStep('attach-external-ids');
      // One write: the ids (first writer wins), the create's completion, and the claims of the
      // follow-up steps those ids call for, so the first write-back needs no claim of its own.
      await steps.change((draft) => {
        if (!draft.externalId) {
          draft.externalId = assigned.id;
          draft.externalNumber = assigned.number;
          draft.externalCreatedBy = webhook.deliveryKey;
          // What the order system says it holds, not what this create sent: an earlier create whose
          // answer was lost may have left an older state there. Unknown (it does not say): 0, so
          // the current state is pushed once.
          draft.externalStateVersion = assigned.heldVersion ?? 0;
        }
        draft.updatedAt = now();
        const external = { id: String(draft.externalId), number: String(draft.externalNumber) };
        if (!steps.completeIn(draft, CREATE_STEP, { ...external, stateVersion: draft.externalStateVersion }))
          deps.log.warn('step claim lost before completion', { step: CREATE_STEP, orderKey });
        for (const next of planFor(external, applied)) steps.claimIn(draft, next.name, next.qualifier);
        return true;
      });
      await deps.hooks?.afterStep?.(CREATE_STEP, orderKey);
    }
  }
  const record = steps.item;
  if (!record?.externalId || !record.externalNumber) return outcome;
  const external: ExternalOrderRef = { id: record.externalId, number: record.externalNumber };

  const pushState = deps.orderSystem.pushState?.bind(deps.orderSystem);
  if (pushState && (record.stateVersion ?? 0) > (record.externalStateVersion ?? 0)) {
    setStep(PUSH_STEP);
    // Always the newest saved state (the item as last written or refused), never an older one. The
    // step keeps only the last version pushed, so the order item does not grow with each push.
    let version = 0;
    await steps.change((draft) => {
      version = draft.stateVersion ?? 0;
      if (version <= (draft.externalStateVersion ?? 0)) return false;
      return steps.claimIn(draft, PUSH_STEP, String(version));
    });
    const current = steps.item as OrderRecord;
    if (steps.owns(PUSH_STEP)) {
      const answer = await pushState({
        ref: event.ref,
        external,
        version,
        ...pushedState(current),
        updatedAt: current.updatedAt,
        idempotencyKey: `${orderKey}:state:${version}`,
        deadline,
      });
      const kept = await steps.complete(PUSH_STEP, {
        pushed: answer.outcome === 'pushed',
        superseded: answer.outcome === 'superseded',
        ...(answer.heldVersion !== undefined ? { heldVersion: answer.heldVersion } : {}),
      });
      if (!kept) deps.log.warn('step claim lost before completion', { step: PUSH_STEP, orderKey });
      await deps.hooks?.afterStep?.(PUSH_STEP, orderKey);
    } else if (version > (current.externalStateVersion ?? 0)) {
      const view = steps.view(PUSH_STEP, String(version));
      if (view.state === 'busy') throw busy(PUSH_STEP, view, deps);
    }
  }

  const planned = planFor(external, applied);
  let reserved: Map<string, ReservedSlot> | undefined;
  for (const [index, next] of planned.entries()) {
    setStep(next.name);
    let view = steps.view(next.name, next.qualifier);
    if (!steps.owns(next.name) && view.state === 'claimable') {
      // The remaining write-backs are claimed together (one write); completions are written after
      // the calls (see below), so a failure after the first never repeats it.
      await steps.change((draft) => {
        let claimed = false;
        for (const later of planned.slice(index))
          claimed = steps.claimIn(draft, later.name, later.qualifier) || claimed;
        return claimed;
      });
      view = steps.view(next.name, next.qualifier);
    }
    if (!steps.owns(next.name)) {
      if (view.state === 'completed') {
        next.done?.(view.result);
        continue;
      }
      throw busy(next.name, view, deps);
    }
    // A takeover (a crash, or a release after an uncertain outcome) may follow an effect that was
    // made: the run verifies first. It reports whether it leaves an outcome unknown in turn.
    reserved ??= await reserveWriteSlots(planned.slice(index), steps, deps, deadline);
    const attempt = {
      verifyFirst: steps.tookOver(next.name),
      uncertain: false,
      slot: reserved.get(next.name),
    };
    let value: unknown;
    try {
      value = await next.run(attempt);
    } catch (error) {
      if (attempt.uncertain) steps.markUncertain(next.name);
      throw error;
    }
    const following = planned[index + 1];
    if (following && steps.owns(following.name)) {
      // The next write-back is held already and runs now: this completion rides on its completion
      // (a prepaid order: one write for both). A failure in between completes it on the release path;
      // only a crash leaves it in progress, and the takeover verifies with ReCharge before any PUT.
      steps.noteMade(next.name, value);
      await deps.hooks?.afterStep?.(next.name, orderKey);
      next.done?.(value);
      continue;
    }
    const kept = await steps.complete(next.name, value);
    if (!kept) deps.log.warn('step claim lost before completion', { step: next.name, orderKey });
    await deps.hooks?.afterStep?.(next.name, orderKey);
    next.done?.(value);
  }
  return outcome;
}
