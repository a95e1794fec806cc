import { describeStoppedWriteBacks, findStoppedWriteBacks } from '../../scripts/cli/doctor-write-backs';
import { formatOrderDetail, listOrderEffects } from '../../scripts/cli/order-effects';
import type { FakeOrder } from '../../scripts/local/fake-recharge';
import { ATTENTION, METRIC } from '../../shared/metrics';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import { createWebhook } from '../../shared/recharge-api/webhooks';
import { runReconcilePass } from '../../shared/reconcile/pass';
import { must } from '../support/fake-worker';
import { createReconcileWorld, type ReconcileWorld, rechargeOrder } from '../support/reconcile-world';

const TOPICS = ['order/created', 'order/processed', 'order/updated'];
const SHOPIFY_ORDER_ID = '5960373420095';

async function registerSubscriptions(world: ReconcileWorld) {
  const { recharge } = world.reconcileDeps();
  for (const topic of TOPICS)
    await createWebhook(
      recharge,
      { address: `${world.api.url}/webhooks/recharge/${topic}`, topic },
      Date.now() + 5000,
    );
}

/** An external id field as `version` holds it. */
const field = (version: '2021-01' | '2021-11', value: string | null) =>
  version === '2021-01' ? value : { ecommerce: value };

/**
 * Changes what ReCharge holds on an order without any webhook (another integration's write, or a
 * 2xx that did not apply): only the reconciler's listing can see it.
 */
function rewriteHeldIds(world: ReconcileWorld, orderId: string, id: string | null, number: string | null) {
  const kept = world.recharge.orders.get(orderId) as FakeOrder;
  const next = new Date(Math.max(Date.now(), Date.parse(`${kept.updated_at}Z`) + 1000));
  world.recharge.orders.set(orderId, {
    ...kept,
    external_order_id: field(world.version, id),
    external_order_number: field(world.version, number),
    updated_at: next.toISOString().slice(0, 19),
  });
}

const calls = (world: ReconcileWorld, orderId: string, method: string) =>
  world.recharge.requests.filter((r) => r.method === method && r.path === `/orders/${orderId}`).length;

describe.each(['2021-11', '2021-01'] as const)('write-backs that did not stick, ReCharge %s', (version) => {
  let world: ReconcileWorld;
  beforeAll(async () => {
    world = await createReconcileWorld(version);
    await registerSubscriptions(world);
  }, 30_000);
  afterAll(async () => {
    await world?.close();
  });

  const pass = (deps: ReturnType<ReconcileWorld['reconcileDeps']>) =>
    runReconcilePass(deps.ports, {
      deadline: Date.now() + 30_000,
      overlapSeconds: 3600,
      lookbackSeconds: 3600,
    });
  const behind = (result: Awaited<ReturnType<typeof pass>>, orderId: string) =>
    result.behindOrders.filter((o) => o.orderId === orderId).length;

  it('puts the ids back once when they vanish, then stops and reports the order once when they vanish again: no re-queue on every pass', async () => {
    // Arrange: an order created and written back through its webhook.
    const order = rechargeOrder(version);
    const orderId = String(order.id);
    await world.recharge.upsertOrder(order, 'order/created');
    await world.settle();
    const stored = await getOrderByProviderRef(world.dynamo, world.tables.orders, {
      provider: 'recharge',
      orderId,
    });
    const ours = { id: String(stored?.externalId), number: String(stored?.externalNumber) };
    expect(calls(world, orderId, 'PUT')).toBe(1);
    const deps = world.reconcileDeps();

    // Act 1: ReCharge loses our ids (no webhook says so); a pass finds it, the worker repairs it.
    rewriteHeldIds(world, orderId, null, null);
    const first = await pass(deps);
    await world.settle();

    // Assert 1: read back once, put back once, counted; ReCharge holds our ids again.
    expect(behind(first, orderId)).toBe(1);
    expect(calls(world, orderId, 'GET')).toBe(1);
    expect(calls(world, orderId, 'PUT')).toBe(2);
    expect(world.workerMetrics.counts[METRIC.writeBackRepaired]).toBe(1);
    const held = world.recharge.orders.get(orderId) as FakeOrder;
    expect(held.external_order_id).toEqual(field(version, ours.id));
    expect(behind(await pass(deps), orderId)).toBe(0);

    // Act 2: gone again. Then three more passes.
    rewriteHeldIds(world, orderId, null, null);
    const again = await pass(deps);
    await world.settle();
    const later = [];
    for (let i = 0; i < 3; i++) {
      later.push(await pass(deps));
      await world.settle();
    }

    // Assert 2: one more read, no third PUT; stopped and reported once; never re-queued again.
    expect(behind(again, orderId)).toBe(1);
    expect(calls(world, orderId, 'GET')).toBe(2);
    expect(calls(world, orderId, 'PUT')).toBe(2);
    expect(world.workerMetrics.counts[METRIC.writeBackStopped]).toBe(1);
    expect(world.workerMetrics.attention[ATTENTION.writeBackStopped]).toBe(1);
    expect(world.workerMetrics.counts[METRIC.writeBackRepaired]).toBe(1);
    expect(later.map((p) => behind(p, orderId))).toEqual([0, 0, 0]);
    const stopped = world.workerLog.lines.filter((l) => l.message === 'recharge write-back stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.extra).toMatchObject({
      orderId,
      reason: 'gone-again',
      needsAttention: ATTENTION.writeBackStopped,
    });
    expect(await world.deadLetters()).toBe(0);
    // Reported where an operator looks: doctor names the order, `orders --id` says it stopped.
    const found = await findStoppedWriteBacks({ dynamo: world.dynamo, ordersTable: world.tables.orders });
    expect(found).toContainEqual({ orderId, reason: 'gone-again' });
    expect(describeStoppedWriteBacks(found)).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining(`${orderId} (gone-again)`),
    });
    const record = await getOrderByProviderRef(world.dynamo, world.tables.orders, {
      provider: 'recharge',
      orderId,
    });
    expect(formatOrderDetail(must(record), listOrderEffects(must(record)))).toMatch(
      /recharge write-back: STOPPED \(gone-again\)/,
    );
  }, 240_000);

  it('stops at once, writing nothing, when another integration took the field after our write-back (fill)', async () => {
    const order = rechargeOrder(version);
    const orderId = String(order.id);
    await world.recharge.upsertOrder(order, 'order/created');
    await world.settle();
    const deps = world.reconcileDeps();
    const stoppedBefore = world.workerMetrics.counts[METRIC.writeBackStopped] ?? 0;
    const attentionBefore = world.workerMetrics.attention[ATTENTION.writeBackStopped] ?? 0;

    rewriteHeldIds(world, orderId, SHOPIFY_ORDER_ID, '#1042');
    const first = await pass(deps);
    await world.settle();
    const next = await pass(deps);
    await world.settle();

    expect(behind(first, orderId)).toBe(1);
    expect(calls(world, orderId, 'GET')).toBe(1);
    expect(calls(world, orderId, 'PUT')).toBe(1);
    expect((world.recharge.orders.get(orderId) as FakeOrder).external_order_id).toEqual(
      field(version, SHOPIFY_ORDER_ID),
    );
    expect(world.workerMetrics.counts[METRIC.writeBackStopped]).toBe(stoppedBefore + 1);
    expect(world.workerMetrics.attention[ATTENTION.writeBackStopped]).toBe(attentionBefore + 1);
    expect(behind(next, orderId)).toBe(0);
  }, 240_000);

  it('never re-queues an order whose field another integration held from the start (fill kept it)', async () => {
    const order: FakeOrder = {
      ...rechargeOrder(version),
      external_order_id: field(version, SHOPIFY_ORDER_ID),
      external_order_number: field(version, '#1043'),
    };
    const orderId = String(order.id);
    await world.recharge.upsertOrder(order, 'order/created');
    await world.settle();

    const result = await pass(world.reconcileDeps());
    await world.settle();

    expect(behind(result, orderId)).toBe(0);
    expect(calls(world, orderId, 'PUT')).toBe(0);
    expect(calls(world, orderId, 'GET')).toBe(0);
    const record = await getOrderByProviderRef(world.dynamo, world.tables.orders, {
      provider: 'recharge',
      orderId,
    });
    expect(formatOrderDetail(must(record), listOrderEffects(must(record)))).toContain(
      `recharge write-back: kept another integration's ids (fill): ReCharge holds external_order_id ${SHOPIFY_ORDER_ID}`,
    );
  }, 240_000);
});

describe('a write-back fight with overwrite on (ReCharge 2021-11)', () => {
  let world: ReconcileWorld;
  const overwrite = { RECHARGE_WRITE_BACK: 'overwrite' };
  beforeAll(async () => {
    world = await createReconcileWorld('2021-11', { workerEnv: overwrite });
    await registerSubscriptions(world);
  }, 30_000);
  afterAll(async () => {
    await world?.close();
  });

  it('takes the field back once from another integration, then stops when it is taken again: one repair, never a loop', async () => {
    const order = rechargeOrder('2021-11');
    const orderId = String(order.id);
    await world.recharge.upsertOrder(order, 'order/created');
    await world.settle();
    const deps = world.reconcileDeps(overwrite);
    const pass = () =>
      runReconcilePass(deps.ports, {
        deadline: Date.now() + 30_000,
        overlapSeconds: 3600,
        lookbackSeconds: 3600,
      });

    rewriteHeldIds(world, orderId, SHOPIFY_ORDER_ID, '#1050');
    await pass();
    await world.settle();
    expect(calls(world, orderId, 'PUT')).toBe(2);
    expect(world.workerMetrics.counts[METRIC.writeBackRepaired]).toBe(1);

    rewriteHeldIds(world, orderId, SHOPIFY_ORDER_ID, '#1050');
    await pass();
    await world.settle();
    const after = [await pass(), await pass()];

    expect(calls(world, orderId, 'PUT')).toBe(2);
    expect(world.workerMetrics.counts[METRIC.writeBackStopped]).toBe(1);
    expect((world.recharge.orders.get(orderId) as FakeOrder).external_order_id).toEqual({
      ecommerce: SHOPIFY_ORDER_ID,
    });
    expect(after.map((p) => p.behindOrders.filter((o) => o.orderId === orderId).length)).toEqual([0, 0]);
  }, 240_000);
});
