import type { WriteBackMode } from '../../config';
import { checkTransition } from '../../domain/state-machine';
import type { RechargeClient } from '../../recharge-api/client';
import { listOrdersUpdatedSince } from '../../recharge-api/orders';
import type { ListedOrder, OrderSnapshot, ReconcileSource } from '../../reconcile/types';
import { mapRechargeStatus, rechargeTime } from './order';
import { type RechargeOrderPayload, rechargeOrderSchema } from './schemas';
import { RECHARGE_WRITE_BACK_STEPS, rechargeWriteBackState, repairQualifier } from './write-back';

/** Statuses of an order that was paid: it must exist in the order system and hold our ids. */
const PAID_STATUSES = new Set(['success', 'refunded', 'partially_refunded']);

/** The topic a synthetic delivery uses: the worker treats it like any update (and a SUCCESS one creates). */
export const RECONCILE_TOPIC = 'order/updated';

/**
 * Delivery key of a synthetic delivery: never equal to a real webhook's (`recharge:<sha256>`), and
 * the same for the same order state, so two passes over an unchanged order enqueue one message in
 * effect (the second changes nothing: the order already holds that state, and its steps keep it
 * from repeating an effect).
 */
export function rechargeReconcileKey(
  order: Pick<RechargeOrderPayload, 'id' | 'updated_at' | 'status'>,
): string {
  return `reconcile:recharge:${order.id}:${order.updated_at ?? ''}:${order.status}`;
}

/**
 * Why the worker's record of a ReCharge order is behind ReCharge, or undefined when it is in sync:
 * - never seen;
 * - ReCharge's `updated_at` is newer than the newest event we applied;
 * - ReCharge's status is one our state machine would still move to (forwards only: a status it
 *   would ignore as a step back is not "behind", or the order would be reported on every pass);
 * - paid (success, refunded, partially refunded) and we have no external order, or ReCharge does
 *   not hold our external order id (the write-back never happened).
 */
export function rechargeBehindReason(
  order: RechargeOrderPayload,
  record: OrderSnapshot | undefined,
  writeBack: WriteBackMode = 'fill',
): string | undefined {
  if (!record) return 'never-seen';
  const theirs = rechargeTime(order.updated_at);
  const ours = record.sourceUpdatedAt;
  if (theirs && (!ours || Date.parse(theirs) > Date.parse(ours))) return 'newer-update';
  const mapped = mapRechargeStatus(order.status);
  if (mapped && checkTransition(record.status as Parameters<typeof checkTransition>[0], mapped) === 'applied')
    return 'newer-status';
  if (PAID_STATUSES.has(order.status)) {
    if (!record.externalId) return 'not-created';
    if (order.external_order_id !== record.externalId && writeBackDue(order, record, writeBack))
      return 'ids-not-written-back';
  }
  return undefined;
}

/**
 * Whether an order without our ids in ReCharge calls for the worker: not when write-backs are off or
 * shadowed, not when fill kept another integration's ids or a fight was reported (stopped), and not
 * when the worker already read this very ReCharge state back and found our ids (a stale listing).
 * Otherwise it is re-queued, and the worker writes, or repairs once (see planWriteBackRepair).
 */
function writeBackDue(order: RechargeOrderPayload, record: OrderSnapshot, mode: WriteBackMode): boolean {
  if (mode === 'off' || mode === 'shadow') return false;
  const state = rechargeWriteBackState(record.steps, record.externalId);
  if (state.state === 'stopped') return false;
  if (state.state === 'held-by-other') return mode === 'overwrite';
  if (state.state === 'checked')
    return state.qualifier !== repairQualifier(record.externalId ?? '', rechargeTime(order.updated_at));
  return true;
}

/** ReCharge as a reconcile source: `GET /orders?updated_at_min=...`, through the shared client. */
export function rechargeReconcileSource(
  client: RechargeClient,
  writeBack: WriteBackMode = 'fill',
): ReconcileSource {
  return {
    provider: 'recharge',
    snapshotSteps: RECHARGE_WRITE_BACK_STEPS,
    listChangedSince: (sinceMs, deadline) => listOrdersUpdatedSince(client, sinceMs, deadline),
    read(item): ListedOrder | { unreadable: string } {
      const parsed = rechargeOrderSchema.safeParse(item);
      if (!parsed.success) {
        const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].slice(0, 5);
        return { unreadable: `order payload invalid at ${fields.join(', ')}` };
      }
      const order = parsed.data;
      return {
        orderId: order.id,
        behind: (record) => rechargeBehindReason(order, record, writeBack),
        delivery: (receivedAt) => ({
          provider: 'recharge',
          topic: RECONCILE_TOPIC,
          deliveryKey: rechargeReconcileKey(order),
          receivedAt,
          verification: 'recharge-api',
          origin: 'reconcile',
          // The order exactly as the API returned it, wrapped as a webhook wraps it.
          body: JSON.stringify({ order: item }),
        }),
      };
    },
  };
}
