import type { ParsedWebhook } from '../../domain/order-event';
import { PermanentError } from '../../errors';
import type { QueuedWebhook } from '../../queue/message';
import type { ChargeWriteOutcome } from '../../recharge-api/client';
import type { FollowUpContext, FollowUpStep } from '../../worker/types';
import { mapRechargeStatus, rechargeTime, toCanonicalRechargeOrder } from './order';
import { RECHARGE_ORDER_TOPICS, rechargeOrderWebhookSchema } from './schemas';
import {
  PUT_ORDER_STEP,
  planOrderWriteBack,
  planWriteBackRepair,
  rechargeWriteBackState,
} from './write-back';

/**
 * ReCharge order topics to an order event. Only SUCCESS asks for an external order (created,
 * processed, or an updated that heals a missed created); every other status is recorded.
 */
export function parseRechargeWebhook(webhook: QueuedWebhook): ParsedWebhook {
  if (!(RECHARGE_ORDER_TOPICS as readonly string[]).includes(webhook.topic))
    return { kind: 'ignore', reason: `topic ${webhook.topic} is not handled` };
  let json: unknown;
  try {
    json = JSON.parse(webhook.body);
  } catch {
    throw new PermanentError('recharge body is not JSON');
  }
  const parsed = rechargeOrderWebhookSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].slice(0, 5);
    throw new PermanentError(`recharge order payload invalid at ${fields.join(', ')}`);
  }
  const o = parsed.data.order;
  const status = mapRechargeStatus(o.status);
  const chargeId = o.charge?.id ?? o.charge_id;
  return {
    kind: 'order',
    event: {
      ref: { provider: 'recharge', orderId: o.id },
      topic: webhook.topic,
      occurredAt: rechargeTime(o.updated_at),
      statusPath: status ? [status] : [],
      providerStatus: o.status,
      order: toCanonicalRechargeOrder(o),
      createExternal: o.status === 'success',
      recharge: {
        orderId: o.id,
        chargeId,
        prepaid: o.is_prepaid,
        heldExternalOrderId: o.external_order_id,
        heldExternalOrderNumber: o.external_order_number,
      },
    },
  };
}

/**
 * After the order exists externally: write our ids onto the ReCharge order, and for a prepaid order
 * onto its charge. When ReCharge already holds our ids (the `order/updated` echo of our own write)
 * nothing is called, so the write-back cannot loop. Each PUT is a step keyed by order and ids, so a
 * retry or a second delivery never repeats it; the worker claims them together with the external
 * ids (one write) and completes each right after its PUT, so a failure or crash after the first
 * never repeats it. A PUT whose outcome is unknown (timeout, network error, 5xx, a crash
 * mid-call) is verified with a GET before it is sent again (see RechargeClient).
 *
 * What is written follows RECHARGE_WRITE_BACK (fill, overwrite, shadow, off; see write-back.ts),
 * and a reconciler delivery showing ReCharge without our ids after a completed write-back goes to
 * the repair-once path instead (planWriteBackRepair).
 *
 * Charge write-back answered 404/405/422: the reference says `PUT /charges` may not exist in
 * 2021-11, so this is recorded as "unsupported" (logged, step completed) rather than dead-lettered:
 * the order itself is synced and its ids are on the ReCharge order; replaying cannot help.
 */
export function rechargeFollowUps(ctx: FollowUpContext): FollowUpStep[] {
  const facts = ctx.event.recharge;
  if (!facts) return [];
  const ids = ctx.external;
  const echoed =
    facts.heldExternalOrderId === ids.id && (facts.heldExternalOrderNumber ?? ids.number) === ids.number;
  if (echoed) return [];
  // A fresh listing (the reconciler's) without our ids, after the write-back completed: repair once.
  const written = rechargeWriteBackState(
    Object.fromEntries(
      [PUT_ORDER_STEP].flatMap((n) => {
        const state = ctx.stepState?.(n);
        return state ? [[n, state]] : [];
      }),
    ),
    ids.id,
  );
  if (ctx.origin === 'reconcile' && written.state === 'written')
    return planWriteBackRepair(ctx, facts.orderId) as FollowUpStep[];
  // A stale or repeated delivery's ids are what ReCharge held at some earlier state: unknown now.
  const held = ctx.stale
    ? undefined
    : {
        ...(facts.heldExternalOrderId ? { id: facts.heldExternalOrderId } : {}),
        ...(facts.heldExternalOrderNumber ? { number: facts.heldExternalOrderNumber } : {}),
      };
  let charge: { id: string; step: FollowUpStep } | undefined;
  if (facts.prepaid && facts.chargeId) {
    const chargeId = facts.chargeId;
    const step: FollowUpStep<ChargeWriteOutcome> = {
      name: `recharge-put-charge#${chargeId}`,
      qualifier: ids.id,
      rechargeWrite: true,
      run: (attempt) => ctx.recharge.updateCharge(chargeId, ids, ctx.deadline, attempt),
      done: (outcome) => {
        if (outcome.outcome === 'unsupported')
          ctx.log.warn('charge write-back unsupported', {
            chargeId,
            status: outcome.status,
            orderId: facts.orderId,
          });
      },
    };
    charge = { id: chargeId, step: step as FollowUpStep };
  }
  return planOrderWriteBack(ctx, facts.orderId, held, charge);
}
