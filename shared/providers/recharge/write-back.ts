import type { WriteBackMode } from '../../config';
import type { ExternalOrderRef } from '../../domain/order';
import type { StepState } from '../../domain/order-record';
import { TransientError } from '../../errors';
import { ATTENTION, countAttention, METRIC } from '../../metrics';
import { type HeldIds, heldByOther } from '../../recharge-api/client';
import type { FollowUpContext, FollowUpStep } from '../../worker/types';

/** The order write-back's step, and the two steps that repair it once and then stop. */
export const PUT_ORDER_STEP = 'recharge-put-order';
export const REPAIR_STEP = 'recharge-repair-order';
export const STOP_STEP = 'recharge-write-back-stopped';
/** The steps the reconciler reads with its snapshot of an order (projected, nothing else). */
export const RECHARGE_WRITE_BACK_STEPS = [PUT_ORDER_STEP, REPAIR_STEP, STOP_STEP] as const;

/**
 * What the order write-back step records. `updated: true`: ReCharge holds our ids (written, or found
 * written); otherwise what was kept (fill: another integration's ids) or what would have been
 * written (shadow).
 */
export type PutOrderResult =
  | { updated: true; mode?: WriteBackMode; replaced?: HeldIds }
  | { updated: false; outcome: 'held-by-other'; held: HeldIds }
  | { updated: false; outcome: 'shadow'; wouldWrite?: ExternalOrderRef; held?: HeldIds; chargeId?: string };

/** What a repair or stop step records after reading the order back. */
export interface RepairResult {
  /** in-place: the listing was older than ReCharge (our ids are there); order-gone: a 404. */
  outcome: 'in-place' | 'repaired' | 'stopped' | 'order-gone';
  reason?: 'held-by-other' | 'gone-again';
  held?: HeldIds;
}

/** A step's stored result when it completed for one of our external ids (`<id>` or `<id>@...`). */
function completedFor<T>(state: StepState | undefined, externalId: string): T | undefined {
  if (state?.status !== 'COMPLETED') return undefined;
  const q = state.qualifier ?? '';
  if (q !== externalId && !q.startsWith(`${externalId}@`) && !q.startsWith(`${externalId}:`))
    return undefined;
  return state.result as T | undefined;
}

/** How the write-back of one order stands, from the steps on its order item (for the reconciler, CLI, doctor). */
export type WriteBackState =
  | { state: 'none' }
  | { state: 'written' }
  | { state: 'held-by-other'; held: HeldIds }
  | { state: 'shadow'; wouldWrite?: ExternalOrderRef; held?: HeldIds }
  | { state: 'repaired' }
  | { state: 'stopped'; reason: string; held?: HeldIds }
  | { state: 'checked'; qualifier: string };

/**
 * The write-back's standing on an order item: stopped (a fight, reported once), kept (fill found
 * another integration's ids), shadow, repaired, written, or none yet.
 */
export function rechargeWriteBackState(
  steps: Record<string, StepState> | undefined,
  externalId: string | undefined,
): WriteBackState {
  if (!externalId || !steps) return { state: 'none' };
  for (const name of [STOP_STEP, REPAIR_STEP]) {
    const r = completedFor<RepairResult>(steps[name], externalId);
    if (r?.outcome === 'stopped') return { state: 'stopped', reason: r.reason ?? 'stopped', ...held(r.held) };
  }
  const repair = completedFor<RepairResult>(steps[REPAIR_STEP], externalId);
  const stop = completedFor<RepairResult>(steps[STOP_STEP], externalId);
  const put = completedFor<PutOrderResult>(steps[PUT_ORDER_STEP], externalId);
  if (put && !put.updated && put.outcome === 'held-by-other')
    return { state: 'held-by-other', held: put.held };
  if (put && !put.updated && put.outcome === 'shadow')
    return { state: 'shadow', ...(put.wouldWrite ? { wouldWrite: put.wouldWrite } : {}), ...held(put.held) };
  const checked =
    stop?.outcome === 'in-place'
      ? steps[STOP_STEP]
      : repair?.outcome === 'in-place'
        ? steps[REPAIR_STEP]
        : undefined;
  if (checked?.qualifier) return { state: 'checked', qualifier: checked.qualifier };
  if (repair?.outcome === 'repaired') return { state: 'repaired' };
  if (put?.updated) return { state: 'written' };
  return { state: 'none' };
}

function held(ids: HeldIds | undefined): { held?: HeldIds } {
  return ids && (ids.id || ids.number) ? { held: ids } : {};
}

/** The qualifier of a repair or stop step: our id and the ReCharge state (`updated_at`) it reacts to. */
export function repairQualifier(externalId: string, occurredAt: string | undefined): string {
  return `${externalId}@${occurredAt ?? ''}`;
}

/**
 * The order write-back per mode. The ReCharge order's current external ids come with the webhook
 * (and with the reconciler's listing), so `fill` decides from the payload without a read: the happy
 * path stays one PUT. When the payload is stale (another integration wrote between ReCharge sending
 * it and our PUT), fill writes over that value; the other side's next write is then seen as ours
 * missing, and the reconciler's repair reads before it writes and stops at a fight (never a loop).
 * A PUT whose outcome was unknown is read back before it is repeated, and that read keeps another
 * integration's ids in fill too. Never record what we sent as what they hold: `updated` is set only
 * after a 2xx or a read that showed our ids.
 *
 * The prepaid charge has no ids in the payload: in fill it follows the order (written only when the
 * order's field was free), rather than paying a GET per charge.
 *
 * `held` undefined: the payload cannot say what ReCharge holds now (a stale delivery). Fill then
 * reads the order before it writes (one GET, paid only on that rare path).
 */
export function planOrderWriteBack(
  ctx: FollowUpContext,
  orderId: string,
  heldOrUnknown: HeldIds | undefined,
  charge: { id: string; step: FollowUpStep } | undefined,
): FollowUpStep[] {
  const ids = ctx.external;
  const mode = ctx.writeBackMode ?? 'fill';
  if (mode === 'off') return [];
  const readFirst = heldOrUnknown === undefined && mode === 'fill';
  const held: HeldIds = heldOrUnknown ?? {};
  const stored = completedFor<PutOrderResult>(ctx.stepState?.(PUT_ORDER_STEP), ids.id);
  if (mode === 'shadow') {
    const keep = heldByOther(held, ids);
    return [
      {
        name: PUT_ORDER_STEP,
        // Its own qualifier: switching to fill or overwrite later makes the step due again.
        qualifier: `${ids.id}:shadow`,
        run: async () => {
          const result: PutOrderResult = {
            updated: false,
            outcome: 'shadow',
            ...(keep ? {} : { wouldWrite: ids }),
            ...(held.id || held.number ? { held } : {}),
            ...(charge && !keep ? { chargeId: charge.id } : {}),
          };
          ctx.count?.(METRIC.writeBackShadow);
          ctx.log.info('recharge write-back shadowed', {
            orderId,
            wouldWrite: keep ? 'nothing (field held by another integration)' : ids,
            ...(keep ? { held } : {}),
          });
          return result;
        },
      },
    ];
  }
  if (mode === 'fill' && heldByOther(held, ids)) {
    // Another integration's ids (a Shopify order id): kept, said once per order (the step completes).
    return [
      {
        name: PUT_ORDER_STEP,
        qualifier: ids.id,
        run: async () => keptResult(ctx, orderId, held),
      },
    ];
  }
  const overwritingKept = mode === 'overwrite' && stored && !stored.updated;
  const put: FollowUpStep<PutOrderResult> = {
    name: PUT_ORDER_STEP,
    // A fill that kept another's ids does not stop an explicit overwrite from writing later.
    qualifier: overwritingKept ? `${ids.id}:overwrite` : ids.id,
    rechargeWrite: true,
    run: async (attempt) => {
      const out = await ctx.recharge.updateOrder(
        orderId,
        ids,
        ctx.deadline,
        readFirst ? Object.assign(attempt, { verifyFirst: true }) : attempt,
        { keepOthers: mode === 'fill' },
      );
      if (out.outcome === 'held-by-other') return keptResult(ctx, orderId, out.held);
      if (mode === 'overwrite' && heldByOther(held, ids))
        ctx.log.warn('recharge write-back replaced ids of another integration', { orderId, held });
      // The plain `{updated: true}` of every write-back; an overwrite says what it replaced.
      return {
        updated: true,
        ...(mode === 'overwrite' && heldByOther(held, ids) ? { mode, replaced: held } : {}),
      };
    },
  };
  const steps: FollowUpStep[] = [put as FollowUpStep];
  if (charge)
    steps.push({
      ...charge.step,
      // The charge follows the order: skipped when the order's write-back kept another's ids.
      run: async (attempt) => {
        const order = completedFor<PutOrderResult>(ctx.stepState?.(PUT_ORDER_STEP), ids.id);
        if (order && !order.updated)
          return { outcome: 'skipped', reason: 'order field held by another integration' };
        return charge.step.run(attempt);
      },
    });
  return steps;
}

function keptResult(ctx: FollowUpContext, orderId: string, held: HeldIds): PutOrderResult {
  ctx.count?.(METRIC.writeBackKept);
  ctx.log.warn('recharge write-back kept ids of another integration', {
    orderId,
    held,
    ours: ctx.external,
    mode: 'fill',
  });
  return { updated: false, outcome: 'held-by-other', held };
}

/**
 * A reconciler delivery of an order whose write-back completed, yet the listing shows ReCharge
 * without our ids (another integration replaced them, or a 2xx that did not apply). Repaired once,
 * then stopped: the first time, one GET (the listing may be minutes old) and, where the field is
 * empty (or overwrite is on), one PUT, counted as WriteBackRepaired; another integration's ids in
 * fill, or our ids gone again at a later pass, stop it: WriteBackStopped and NeedsAttention once, a warning, and the
 * order item says so (the reconciler no longer re-queues it). Both reads happen only on this path,
 * never on the happy one.
 */
export function planWriteBackRepair(ctx: FollowUpContext, orderId: string): FollowUpStep<RepairResult>[] {
  const ids = ctx.external;
  const mode = ctx.writeBackMode ?? 'fill';
  const readOrderIds = ctx.recharge.readOrderIds?.bind(ctx.recharge);
  if ((mode !== 'fill' && mode !== 'overwrite') || !readOrderIds) return [];
  const state = rechargeWriteBackState(
    Object.fromEntries(
      [PUT_ORDER_STEP, REPAIR_STEP, STOP_STEP].flatMap((n) => {
        const s = ctx.stepState?.(n);
        return s ? [[n, s]] : [];
      }),
    ),
    ids.id,
  );
  if (state.state === 'stopped' || state.state === 'held-by-other' || state.state === 'shadow') return [];
  const repairedBefore =
    completedFor<RepairResult>(ctx.stepState?.(REPAIR_STEP), ids.id)?.outcome === 'repaired';
  const qualifier = repairQualifier(ids.id, ctx.event.occurredAt);
  const stop = (reason: 'held-by-other' | 'gone-again', seen: HeldIds): RepairResult => {
    ctx.count?.(METRIC.writeBackStopped);
    if (ctx.count) countAttention({ count: ctx.count }, ATTENTION.writeBackStopped);
    ctx.log.warn('recharge write-back stopped', {
      orderId,
      needsAttention: ATTENTION.writeBackStopped,
      reason,
      ours: ids,
      ...held(seen),
      action: 'reported once; the reconciler no longer re-queues this order',
    });
    return { outcome: 'stopped', reason, ...held(seen) };
  };
  const read = async (): Promise<HeldIds | 'gone'> => {
    const seen = await readOrderIds(orderId, ctx.deadline);
    if (seen === 'unknown') throw new TransientError(`recharge order ${orderId} could not be read back`);
    return seen;
  };
  const ours = (seen: HeldIds) => seen.id === ids.id && (seen.number ?? ids.number) === ids.number;
  if (repairedBefore)
    return [
      {
        name: STOP_STEP,
        qualifier,
        run: async () => {
          const seen = await read();
          if (seen === 'gone') return { outcome: 'order-gone' };
          if (ours(seen)) return { outcome: 'in-place' };
          // Repaired once already: whoever took the ids again is a fight, reported rather than looped.
          return stop(heldByOther(seen, ids) ? 'held-by-other' : 'gone-again', seen);
        },
      },
    ];
  return [
    {
      name: REPAIR_STEP,
      qualifier,
      run: async (attempt) => {
        const seen = await read();
        if (seen === 'gone') return { outcome: 'order-gone' };
        if (ours(seen)) return { outcome: 'in-place' };
        const other = heldByOther(seen, ids);
        if (other && mode === 'fill') return stop('held-by-other', seen);
        const out = await ctx.recharge.updateOrder(orderId, ids, ctx.deadline, attempt, {
          keepOthers: mode === 'fill',
        });
        if (out.outcome === 'held-by-other') return stop('held-by-other', out.held);
        ctx.count?.(METRIC.writeBackRepaired);
        ctx.log.warn('recharge write-back repaired', { orderId, ours: ids, ...held(seen) });
        return { outcome: 'repaired', ...held(seen) };
      },
    },
  ];
}
