import { randomUUID } from 'node:crypto';
import { applyOrderEvent, type OrderRecord } from '../../shared/domain/order-record';
import { OrderSteps } from '../../shared/idempotency/order-steps';
import { LedgerOrderSystem, listOrders, OrderStore } from '../../shared/order-system/ledger';
import { createTestTables, testDynamoClient } from '../support/aws';

const client = testDynamoClient();
let table: string;
beforeAll(async () => {
  table = (await createTestTables(client)).orders;
});

async function placeholder(store: OrderStore, orderId: string) {
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
  await store.save(record, undefined);
}

/** A create for a new Sevi order, as the worker sends it. */
const input = (orderId: string) => ({
  ref: { provider: 'sevi' as const, orderId },
  order: { source: { provider: 'sevi' as const, orderId }, references: {}, lineItems: [] },
  paymentStatus: 'paid',
  fulfilmentStatus: 'unfulfilled',
  version: 1,
  idempotencyKey: orderId,
});

describe('built-in ledger', () => {
  it('hands out strictly increasing order numbers from ORDER_NUMBER_START', async () => {
    const ledger = new LedgerOrderSystem(client, table, 1001);
    const numbers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ledger.createOrder(input(`n${i}`))),
    );
    const sorted = numbers.map((n) => Number(n.number)).sort((a, b) => a - b);
    expect(sorted).toEqual(Array.from({ length: 10 }, (_, i) => 1001 + i));
  });

  it('takes the numbers of creates that arrive together with one counter write, each its own, in arrival order', async () => {
    const counting = testDynamoClient();
    const updates: number[] = [];
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand') {
          const values = (args.input as { ExpressionAttributeValues?: Record<string, unknown> })
            .ExpressionAttributeValues;
          const n = values?.[':n'];
          updates.push(Number(typeof n === 'object' && n ? (n as { N?: string }).N : n));
        }
        return next(args);
      },
      { step: 'initialize', name: 'countUpdates' },
    );
    const own = (await createTestTables(client)).orders;
    const ledger = new LedgerOrderSystem(counting, own, 5001);

    const together = await Promise.all([0, 1, 2, 3].map((i) => ledger.createOrder(input(`t${i}`))));

    expect(together.map((n) => n.number)).toEqual(['5001', '5002', '5003', '5004']);
    expect(updates).toEqual([4]);

    // A create alone waits for nobody longer than the gathering time, and takes the next number.
    const alone = await ledger.createOrder(input('alone'));
    expect(alone.number).toBe('5005');
    expect(updates).toEqual([4, 1]);
  });

  it('fails every create waiting on a counter write that failed, and serves the next ones', async () => {
    const failing = testDynamoClient();
    let fail = true;
    failing.middlewareStack.add(
      (next) => async (args) => {
        if (fail) throw Object.assign(new Error('injected throttle'), { name: 'ThrottlingException' });
        return next(args);
      },
      { step: 'initialize', name: 'failOnce' },
    );
    const own = (await createTestTables(client)).orders;
    const ledger = new LedgerOrderSystem(failing, own, 1);

    const failed = await Promise.allSettled([ledger.createOrder(input('a')), ledger.createOrder(input('b'))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);

    fail = false;
    const served = await ledger.createOrder(input('c'));
    expect(served.number).toBe('1');
  });

  it('keeps the first ids when two creates for one provider order race', async () => {
    const store = new OrderStore(client, table);
    const orderId = randomUUID();
    await placeholder(store, orderId);
    const ref = { provider: 'sevi' as const, orderId };
    // Two attempts attach their ids as the worker does: a version-conditioned write, re-applied on the
    // item a refused write returns, setting ids only when the item has none.
    const attach = async (id: string, number: string) => {
      const steps = new OrderSteps(store, await store.get(ref), 60_000, Date.now);
      await steps.change((draft) => {
        if (draft.externalId) return false;
        draft.externalId = id;
        draft.externalNumber = number;
        return true;
      });
      return steps.item as OrderRecord;
    };
    const [a, b] = await Promise.all([attach('ord_a', '2001'), attach('ord_b', '2002')]);
    expect(a.externalId).toBe(b.externalId);
    expect(a.externalNumber).toBe(b.externalNumber);
    const stored = await store.get(ref);
    expect([stored?.externalId, stored?.externalNumber]).toEqual([a.externalId, a.externalNumber]);
  });

  it('refuses a whole-item write based on a stale version', async () => {
    const store = new OrderStore(client, table);
    const orderId = randomUUID();
    await placeholder(store, orderId);
    const ref = { provider: 'sevi' as const, orderId };
    const read = await store.get(ref);
    await store.write(
      { ...(read as OrderRecord), externalId: 'ord_x', externalNumber: '3001' },
      read?.version,
    );
    expect(
      await store.save({ ...(read as NonNullable<typeof read>), status: 'pending' }, read?.version),
    ).toBe(undefined);
    expect((await store.get(ref))?.externalId).toBe('ord_x');
  });

  it('lists orders with filters for the CLI', async () => {
    const orders = await listOrders(client, table, { provider: 'sevi', status: 'paid' });
    expect(orders).toHaveLength(2);
    expect(orders.every((o) => o.provider === 'sevi' && o.status === 'paid')).toBe(true);
  });
});
