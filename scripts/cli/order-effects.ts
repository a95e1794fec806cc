import type { OrderRecord, StepState } from '../../shared/domain/order-record';
import { rechargeWriteBackState } from '../../shared/providers/recharge/write-back';

/** One external effect of an order as its step on the order item holds it. */
export interface OrderEffect {
  /** create-order, push-state, recharge-put-order, recharge-put-charge#<chargeId>, ... */
  step: string;
  /** The step's qualifier (state version pushed, external id written back), if any. */
  qualifier?: string;
  /**
   * COMPLETED; IN_PROGRESS while an attempt holds it (or crashed holding it); UNCERTAIN when an attempt
   * may have made the call without learning the answer (the next attempt reads ReCharge before writing).
   */
  status: string;
  result?: unknown;
  /** COMPLETED: when; IN_PROGRESS or UNCERTAIN: until when the attempt holding it may keep it. */
  at?: string;
}

/** The write-backs and pushes of one order: the steps kept on its order item (no other read). */
export function listOrderEffects(order: Pick<OrderRecord, 'steps'>): OrderEffect[] {
  return Object.entries(order.steps ?? {})
    .map(([step, state]) => ({
      step,
      ...(state.qualifier !== undefined ? { qualifier: state.qualifier } : {}),
      status: state.uncertain && state.status === 'IN_PROGRESS' ? 'UNCERTAIN' : state.status,
      ...(state.result !== undefined ? { result: state.result } : {}),
      ...(stepTime(state) ? { at: stepTime(state) } : {}),
    }))
    .sort((a, b) => a.step.localeCompare(b.step));
}

function stepTime(state: StepState): string | undefined {
  if (state.status === 'COMPLETED') return state.completedAt;
  return state.leaseUntil ? new Date(Number(state.leaseUntil)).toISOString() : undefined;
}

/** The order's history and effects as text, under its table row. */
export function formatOrderDetail(order: OrderRecord, effects: OrderEffect[] | undefined): string {
  const lines = ['', `${order.provider} ${order.providerOrderId}: history (newest last)`];
  for (const h of order.history) {
    const change = h.from || h.to ? ` ${h.from ?? '-'} -> ${h.to ?? '-'}` : '';
    const extra = [
      h.providerStatus && `provider status ${h.providerStatus}`,
      h.transactionId && `transaction ${h.transactionId}`,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${h.at}  ${h.topic}  ${h.field}${change}  ${h.outcome}${extra ? `  (${extra})` : ''}`);
  }
  lines.push('', 'write-backs and pushes (steps on the order item)');
  if (!effects) lines.push('  (not known)');
  else if (effects.length === 0) lines.push('  none');
  for (const e of effects ?? [])
    lines.push(
      `  ${e.step}${e.qualifier ? ` [${e.qualifier}]` : ''}  ${e.status}${e.result !== undefined ? `  ${JSON.stringify(e.result)}` : ''}${e.at ? `  (${e.status === 'COMPLETED' ? 'at' : 'held until'} ${e.at})` : ''}`,
    );
  const writeBack = order.provider === 'recharge' ? describeWriteBack(order) : undefined;
  if (writeBack) lines.push('', `recharge write-back: ${writeBack}`);
  return lines.join('\n');
}

/** The ReCharge write-back of an order in words (kept, shadowed, repaired, stopped), from its steps. */
export function describeWriteBack(order: Pick<OrderRecord, 'steps' | 'externalId'>): string | undefined {
  const state = rechargeWriteBackState(order.steps, order.externalId);
  const held = (ids?: { id?: string; number?: string }) =>
    ids?.id || ids?.number ? `external_order_id ${ids.id ?? '-'}, number ${ids.number ?? '-'}` : 'nothing';
  switch (state.state) {
    case 'written':
      return 'ReCharge holds our ids';
    case 'held-by-other':
      return `kept another integration's ids (fill): ReCharge holds ${held(state.held)}`;
    case 'shadow':
      return state.wouldWrite
        ? `shadow: would write ${state.wouldWrite.id} / ${state.wouldWrite.number}; nothing written`
        : `shadow: would keep another integration's ids (${held(state.held)}); nothing written`;
    case 'repaired':
      return 'repaired once (our ids had vanished from ReCharge and were put back)';
    case 'stopped':
      return `STOPPED (${state.reason}): ReCharge holds ${held(state.held)}; reported once, no longer written or re-queued`;
    case 'checked':
      return 'ReCharge holds our ids (read back)';
    default:
      return undefined;
  }
}
