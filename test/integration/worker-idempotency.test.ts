import { randomUUID } from 'node:crypto';
import { applyOrderEvent, type OrderRecord } from '../../shared/domain/order-record';
import { OrderSteps } from '../../shared/idempotency/order-steps';
import { OrderStore } from '../../shared/order-system/ledger';
import { createTestTables, testDynamoClient } from '../support/aws';

const client = testDynamoClient();
let store: OrderStore;
beforeAll(async () => {
  store = new OrderStore(client, (await createTestTables(client)).orders);
});

/** A stored paid order (the state a worker claims create-order on). */
async function storedOrder(): Promise<OrderRecord> {
  const orderId = randomUUID();
  const { record } = applyOrderEvent(
    undefined,
    {
      ref: { provider: 'sevi', orderId },
      topic: 'order/payment',
      statusPath: ['paid'],
      createExternal: true,
    },
    { deliveryKey: `d-${orderId}`, now: new Date().toISOString() },
  );
  const saved = await store.save(record, undefined);
  if (!saved) throw new Error('could not store the order');
  return saved;
}

const refOf = (o: OrderRecord) => ({ provider: o.provider, orderId: o.providerOrderId });

/** One attempt, as a worker starts one: it reads the item, then claims through writes. */
async function attempt(order: OrderRecord, clock: { now: number }, leaseSeconds = 60) {
  return new OrderSteps(store, await store.get(refOf(order)), leaseSeconds * 1000, () => clock.now);
}

async function claim(steps: OrderSteps, name = 'create-order', qualifier?: string): Promise<boolean> {
  await steps.change((draft) => steps.claimIn(draft, name, qualifier));
  return steps.owns(name);
}

describe('effect steps on the order item', () => {
  it('gives a step to exactly one of ten concurrent claimers', async () => {
    const order = await storedOrder();
    const clock = { now: Date.now() };
    const attempts = await Promise.all(Array.from({ length: 10 }, () => attempt(order, clock)));
    const owners = await Promise.all(attempts.map((a) => claim(a)));
    expect(owners.filter(Boolean)).toHaveLength(1);
    for (const a of attempts.filter((_, i) => !owners[i]))
      expect(a.view('create-order', undefined).state).toBe('busy');
  });

  it('returns the stored result to later attempts once completed', async () => {
    const order = await storedOrder();
    const clock = { now: Date.now() };
    const first = await attempt(order, clock);
    expect(await claim(first)).toBe(true);
    expect(await first.complete('create-order', { id: 'ord_1', number: '1001' })).toBe(true);
    clock.now += 71 * 3600 * 1000;
    const later = await attempt(order, clock);
    expect(await claim(later)).toBe(false);
    expect(later.view('create-order', undefined)).toEqual({
      state: 'completed',
      result: { id: 'ord_1', number: '1001' },
    });
  });

  it('lets a crashed in-progress step be taken over once its lease expires, not before', async () => {
    const order = await storedOrder();
    const clock = { now: Date.now() };
    const crashed = await attempt(order, clock, 30);
    expect(await claim(crashed)).toBe(true);
    clock.now += 29_000;
    expect(await claim(await attempt(order, clock, 30))).toBe(false);
    clock.now += 2_000;
    const takeover = await attempt(order, clock, 30);
    expect(takeover.view('create-order', undefined)).toEqual({ state: 'claimable', takenOver: true });
    expect(await claim(takeover)).toBe(true);
    // The crashed attempt, if it ever wakes up, can no longer complete the step it lost.
    expect(await crashed.complete('create-order', { id: 'late' })).toBe(false);
    expect((await store.get(refOf(order)))?.steps?.['create-order']?.status).toBe('IN_PROGRESS');
  });

  it('frees released steps at once so a redelivery can proceed', async () => {
    const order = await storedOrder();
    const clock = { now: Date.now() };
    const first = await attempt(order, clock);
    expect(await claim(first, 'recharge-put-order', 'ord_1')).toBe(true);
    expect(await claim(first, 'recharge-put-charge#9', 'ord_1')).toBe(true);
    await first.releaseAll();
    const next = await attempt(order, clock);
    expect(await claim(next, 'recharge-put-order', 'ord_1')).toBe(true);
  });

  it('keeps a claim when another delivery saves the whole item from an older read', async () => {
    const order = await storedOrder();
    const clock = { now: Date.now() };
    const before = await store.get(refOf(order));
    const holder = await attempt(order, clock);
    expect(await claim(holder)).toBe(true);
    // A whole-item save based on the read before the claim is refused (version), never erasing it.
    expect(await store.save({ ...(before as OrderRecord), status: 'delivered' }, before?.version)).toBe(
      undefined,
    );
    expect(await holder.complete('create-order', { id: 'ord_1' })).toBe(true);
  });

  it('keeps one entry per step: a newer push-state version replaces the last one pushed', async () => {
    const order = await storedOrder();
    const clock = { now: Date.now() };
    for (let version = 1; version <= 30; version++) {
      const steps = await attempt(order, clock);
      expect(await claim(steps, 'push-state', String(version))).toBe(true);
      expect(await steps.complete('push-state', { pushed: true })).toBe(true);
    }
    const stored = await store.get(refOf(order));
    expect(stored?.steps).toEqual({
      'push-state': {
        status: 'COMPLETED',
        qualifier: '30',
        result: { pushed: true },
        completedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
  });
});
