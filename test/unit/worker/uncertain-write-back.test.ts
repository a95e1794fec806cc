import type { OrderRecord } from '../../../shared/domain/order-record';
import { OrderSteps, viewStep } from '../../../shared/idempotency/order-steps';
import type { WriteOutcome } from '../../../shared/order-system/ledger';
import { rechargeHoldsIds } from '../../../shared/recharge-api/client';

const ours = { id: 'ledger-1', number: '1001' };

describe('rechargeHoldsIds (verification read)', () => {
  it('recognises our ids on a 2021-01 order (plain strings)', () => {
    const order = { id: 7, external_order_id: 'ledger-1', external_order_number: '1001' };
    expect(rechargeHoldsIds(order, ours, true)).toBe(true);
  });

  it('recognises our ids on a 2021-11 order ({ecommerce} objects)', () => {
    const order = {
      id: 7,
      external_order_id: { ecommerce: 'ledger-1' },
      external_order_number: { ecommerce: '1001' },
    };
    expect(rechargeHoldsIds(order, ours, true)).toBe(true);
  });

  it('accepts a numeric order number as ReCharge may return it', () => {
    expect(rechargeHoldsIds({ external_order_id: 'ledger-1', external_order_number: 1001 }, ours, true)).toBe(
      true,
    );
  });

  it('does not take an order without ids, with another id, or with another number as written', () => {
    expect(rechargeHoldsIds({ id: 7 }, ours, true)).toBe(false);
    expect(rechargeHoldsIds({ external_order_id: { ecommerce: null } }, ours, true)).toBe(false);
    expect(
      rechargeHoldsIds({ external_order_id: 'ledger-2', external_order_number: '1001' }, ours, true),
    ).toBe(false);
    expect(
      rechargeHoldsIds(
        { external_order_id: { ecommerce: 'ledger-1' }, external_order_number: { ecommerce: '1002' } },
        ours,
        true,
      ),
    ).toBe(false);
    // 2021-01 id with the number missing: the PUT did not (fully) land.
    expect(rechargeHoldsIds({ external_order_id: 'ledger-1' }, ours, true)).toBe(false);
  });

  it('checks only external_order_id on a charge, in both shapes', () => {
    expect(rechargeHoldsIds({ id: 8, external_order_id: 'ledger-1' }, ours, false)).toBe(true);
    expect(rechargeHoldsIds({ id: 8, external_order_id: { ecommerce: 'ledger-1' } }, ours, false)).toBe(true);
    expect(rechargeHoldsIds({ id: 8, external_order_id: { ecommerce: 'other' } }, ours, false)).toBe(false);
  });
});

/** An in-memory order item with the store's version condition (the DynamoDB one is tested in integration). */
function memoryStore(initial: OrderRecord) {
  const box = { item: initial };
  return {
    box,
    async write(record: OrderRecord, expected: number | undefined): Promise<WriteOutcome> {
      if (expected !== box.item.version) return { written: false, current: box.item } as WriteOutcome;
      box.item = { ...structuredClone(record), version: box.item.version + 1 };
      return { written: true, record: box.item } as WriteOutcome;
    },
  };
}

function orderItem(): OrderRecord {
  return { version: 1, steps: {} } as unknown as OrderRecord;
}

describe('OrderSteps release after an uncertain outcome', () => {
  it('keeps an uncertain step with a lapsed lease, so the next attempt takes it over and verifies', async () => {
    let now = 1_000;
    const store = memoryStore(orderItem());
    const first = new OrderSteps(store, store.box.item, 60_000, () => now);
    await first.change((draft) => first.claimIn(draft, 'recharge-put-order', 'ledger-1'));
    expect(first.tookOver('recharge-put-order')).toBe(false);

    first.markUncertain('recharge-put-order');
    await first.releaseAll();

    const kept = store.box.item.steps?.['recharge-put-order'];
    expect(kept).toMatchObject({ status: 'IN_PROGRESS', uncertain: true });
    now += 1;
    expect(viewStep(kept, 'ledger-1', now)).toEqual({ state: 'claimable', takenOver: true });
    const next = new OrderSteps(store, store.box.item, 60_000, () => now);
    await next.change((draft) => next.claimIn(draft, 'recharge-put-order', 'ledger-1'));
    expect(next.owns('recharge-put-order')).toBe(true);
    expect(next.tookOver('recharge-put-order')).toBe(true);
  });

  it('deletes a step released after a certain failure: the next attempt starts without verifying', async () => {
    const now = 1_000;
    const store = memoryStore(orderItem());
    const first = new OrderSteps(store, store.box.item, 60_000, () => now);
    await first.change((draft) => first.claimIn(draft, 'recharge-put-order', 'ledger-1'));
    await first.releaseAll();

    expect(store.box.item.steps?.['recharge-put-order']).toBeUndefined();
    const next = new OrderSteps(store, store.box.item, 60_000, () => now);
    await next.change((draft) => next.claimIn(draft, 'recharge-put-order', 'ledger-1'));
    expect(next.tookOver('recharge-put-order')).toBe(false);
  });
});
