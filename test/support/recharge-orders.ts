import type { FakeOrder } from '../../scripts/local/fake-recharge';
import { samplePayload } from '../../scripts/samples/index';
import type { JsonObject } from './fake-worker';

let nextId = 700_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;

/** A ReCharge order of `version`'s shape from the built-in samples, with fresh ids and the given state. */
export function rechargeOrder(
  version: '2021-01' | '2021-11',
  options: { prepaid?: boolean; status?: string; updatedAt?: string } = {},
): FakeOrder {
  nextId += 2;
  const name = `${version}-created-${options.prepaid ? 'prepaid' : 'regular'}`;
  const order = samplePayload<JsonObject>('recharge', name).order as FakeOrder;
  order.id = nextId;
  if (order.charge) order.charge.id = nextId + 1;
  else order.charge_id = nextId + 1;
  const status = options.status ?? 'success';
  order.status = version === '2021-01' ? status.toUpperCase() : status;
  const at = options.updatedAt ?? new Date().toISOString().slice(0, 19);
  order.created_at = at;
  order.updated_at = at;
  return order;
}

export function chargeIdOf(order: FakeOrder): string {
  return String(order.charge?.id ?? order.charge_id);
}

/** Whether ReCharge shows the order as paid at some point (it must exist in the order system). */
export function isPaid(order: FakeOrder): boolean {
  return ['success', 'refunded', 'partially_refunded'].includes(String(order.status).toLowerCase());
}

export function isPrepaid(order: FakeOrder): boolean {
  return order.is_prepaid === true || order.is_prepaid === 1;
}

/** ReCharge's zone-less timestamp `minutes` ago. */
export const minutesAgo = (minutes: number) =>
  new Date(Date.now() - minutes * 60_000).toISOString().slice(0, 19);
