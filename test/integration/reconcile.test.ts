import type { FakeOrder } from '../../scripts/local/fake-recharge';
import { ATTENTION, METRIC } from '../../shared/metrics';
import { listOrders, ordersDocumentClient } from '../../shared/order-system/ledger';
import { signRechargeBody } from '../../shared/providers/recharge/signature';
import { createWebhook } from '../../shared/recharge-api/webhooks';
import { runReconcilePass } from '../../shared/reconcile/pass';
import { runScheduledReconcile } from '../../shared/reconcile/run';
import { makeStateStore, reconcileStateKey } from '../../shared/reconcile/state-store';
import {
  chargeIdOf,
  createReconcileWorld,
  isPaid,
  type ReconcileWorld,
  rechargeOrder,
  WEBHOOK_SECRET,
} from '../support/reconcile-world';

const TOPICS = ['order/created', 'order/processed', 'order/updated'];
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().slice(0, 19);

async function registerSubscriptions(world: ReconcileWorld) {
  const { recharge } = world.reconcileDeps();
  for (const topic of TOPICS)
    await createWebhook(
      recharge,
      { address: `${world.api.url}/webhooks/recharge/${topic}`, topic },
      Date.now() + 5000,
    );
}

/** Posts a signed webhook for `order` straight to the ingest (an older version ReCharge retried late). */
async function deliverDirectly(world: ReconcileWorld, order: FakeOrder, topic: string) {
  const body = JSON.stringify({ order });
  const res = await fetch(`${world.api.url}/webhooks/recharge/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signRechargeBody(body, WEBHOOK_SECRET) },
    body,
  });
  expect(res.status).toBe(200);
}

describe.each(['2021-11', '2021-01'] as const)('reconciliation against ReCharge %s', (version) => {
  let world: ReconcileWorld;
  beforeAll(async () => {
    world = await createReconcileWorld(version);
    await registerSubscriptions(world);
  }, 30_000);
  afterAll(async () => {
    await world?.close();
  });

  it('brings 300 orders, two thirds of whose webhooks were lost, into sync with one write-back each; a second pass finds nothing', async () => {
    // Arrange: 300 orders, every 5th prepaid, some queued or failed; a third delivered (some
    // twice), a few delivered out of order (the newer update first, the created retried late).
    // And every 30th paid, then refunded, with all its webhooks lost (created from its state).
    const orders: FakeOrder[] = [];
    const delivered = new Set<string>();
    const outOfOrder = new Set<string>();
    const refunded = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const status = i % 10 === 7 ? 'queued' : i % 10 === 8 ? 'error' : 'success';
      const order = rechargeOrder(version, { prepaid: i % 5 === 0, status, updatedAt: minutesAgo(30) });
      orders.push(order);
      if (i % 30 === 29) refunded.add(String(order.id));
      else if (i % 3 === 0) delivered.add(String(order.id));
      else if (i % 9 === 4) outOfOrder.add(String(order.id));
    }
    world.recharge.setDeliveryDrop(
      ({ topic, orderId }) => refunded.has(orderId) || (topic === 'order/created' && !delivered.has(orderId)),
    );
    const arrange = async (order: FakeOrder, i: number) => {
      if (refunded.has(String(order.id))) {
        await world.recharge.upsertOrder(order, 'order/created');
        const status = version === '2021-01' ? 'REFUNDED' : 'refunded';
        await world.recharge.upsertOrder({ ...order, status, updated_at: minutesAgo(10) }, 'order/updated');
        return;
      }
      if (outOfOrder.has(String(order.id))) {
        const later = { ...order, updated_at: minutesAgo(20), note: 'address changed' };
        await world.recharge.upsertOrder(later, 'order/updated');
        await deliverDirectly(world, order, 'order/created');
        return;
      }
      await world.recharge.upsertOrder(order, 'order/created');
      if (i % 6 === 0) await world.recharge.upsertOrder(order, 'order/created');
    };
    for (let i = 0; i < orders.length; i += 20)
      await Promise.all(orders.slice(i, i + 20).map((order, j) => arrange(order, i + j)));
    await world.settle(500_000);
    const before = await listOrders(world.dynamo, world.tables.orders, { provider: 'recharge' });
    expect(before.length).toBeLessThan(orders.length * 0.5);

    // Act: one pass (2 pages of 250), then let the worker apply what it enqueued.
    // ReCharge delivers again (the echoes of the write-backs below included).
    world.recharge.setDeliveryDrop(0);
    const deps = world.reconcileDeps();
    const first = await runReconcilePass(deps.ports, {
      deadline: Date.now() + 30_000,
      overlapSeconds: 3600,
      lookbackSeconds: 259_200,
    });
    await world.settle(500_000);

    // Assert
    expect(first).toMatchObject({ outcome: 'completed', listed: 300, unreadable: 0 });
    expect(first.behind).toBeGreaterThanOrEqual(300 - delivered.size - outOfOrder.size);
    expect(first.enqueued).toBe(first.behind);
    // The first pass (no watermark yet) is a backfill: counted apart, no "orders behind" alarm.
    expect(deps.metrics.counts[METRIC.reconcileBackfilled]).toBe(first.behind);
    expect(deps.metrics.counts[METRIC.reconcileBehind]).toBe(0);
    expect(deps.metrics.attention).toEqual({});
    const listCalls = world.recharge.requests.filter((r) => r.method === 'GET' && r.path === '/orders');
    expect(listCalls).toHaveLength(2);

    const stored = await listOrders(world.dynamo, world.tables.orders, { provider: 'recharge' });
    expect(stored.map((o) => o.providerOrderId).sort()).toEqual(orders.map((o) => String(o.id)).sort());
    const puts = world.recharge.applied().filter((r) => r.method === 'PUT');
    for (const order of orders) {
      const paid = isPaid(order);
      const orderPuts = puts.filter((r) => r.path === `/orders/${order.id}`);
      expect(orderPuts).toHaveLength(paid ? 1 : 0);
      const prepaid = order.is_prepaid === true || order.is_prepaid === 1;
      expect(puts.filter((r) => r.path === `/charges/${chargeIdOf(order)}`)).toHaveLength(
        paid && prepaid ? 1 : 0,
      );
    }
    for (const id of refunded) {
      const record = stored.find((o) => o.providerOrderId === id);
      expect(record).toMatchObject({ status: 'refunded' });
      expect(record?.externalId).toBeTruthy();
      expect(JSON.stringify(puts.find((r) => r.path === `/orders/${id}`)?.body)).toContain(
        `"${record?.externalId}"`,
      );
    }
    expect(await world.deadLetters()).toBe(0);

    const second = await runReconcilePass(deps.ports, {
      deadline: Date.now() + 30_000,
      overlapSeconds: 3600,
      lookbackSeconds: 259_200,
    });
    expect(second).toMatchObject({ outcome: 'completed', listed: 300, behind: 0, enqueued: 0 });
  }, 600_000);

  it('leaves the watermark where it was when ReCharge answers 429 in the middle of the listing, and counts failures in a row', async () => {
    const deps = world.reconcileDeps({}, { sleep: async () => undefined });
    const state = makeStateStore(ordersDocumentClient(world.dynamo), world.tables.orders);
    for (let i = 0; i < 260; i++)
      world.recharge.orders.set(
        String(i + 1),
        rechargeOrder(version, { status: 'queued', updatedAt: minutesAgo(5) }),
      );
    const established = await runReconcilePass(deps.ports, {
      deadline: Date.now() + 60_000,
      overlapSeconds: 3600,
      lookbackSeconds: 259_200,
      dryRun: true,
    });
    expect(established).toMatchObject({ outcome: 'dry-run', enqueued: 0 });
    expect(established.behind).toBeGreaterThanOrEqual(260);
    // A dry run is an operator looking: nothing re-queued, nothing that needs a person.
    expect(deps.metrics.attention).toEqual({});
    await state.recordCompleted('recharge', minutesAgo(60), new Date().toISOString());
    const watermarkBefore = (await state.get('recharge')).watermark;
    expect(watermarkBefore).toBeDefined();

    const failedPass = async () => {
      // The 429 asks for 8 s, beyond the pass's 5 s: the client gives up rather than overrun its
      // deadline (5 s is generous enough for a loaded machine to reach the 429 first).
      world.recharge.setBehaviour({
        mode: 429,
        method: 'GET',
        pathPrefix: '/orders',
        skip: 1,
        retryAfterSeconds: 8,
      });
      return runReconcilePass(deps.ports, {
        deadline: Date.now() + 5000,
        overlapSeconds: 3600,
        lookbackSeconds: 259_200,
      });
    };
    const first = await failedPass();
    const attentionAfterOne = { ...deps.metrics.attention };
    const second = await failedPass();
    world.recharge.setBehaviour({ mode: 'ok' });

    expect(first).toMatchObject({ outcome: 'failed', failuresInARow: 1 });
    expect(first.error).toMatch(/429|rate limit/);
    expect(world.recharge.requests.some((r) => r.status === 429)).toBe(true);
    expect(second.failuresInARow).toBe(2);
    expect(deps.metrics.counts[METRIC.reconcilePassFailed]).toBe(2);
    // One failed pass may be a blip; the second in a row needs a person, and says so in its log line.
    expect(attentionAfterOne[ATTENTION.reconcileFailedTwiceInARow]).toBeUndefined();
    expect(deps.metrics.attention[ATTENTION.reconcileFailedTwiceInARow]).toBe(1);
    const passLines = deps.log.lines.filter((l) => l.message === 'reconcile pass');
    expect(passLines.at(-1)?.extra).toMatchObject({ needsAttention: ATTENTION.reconcileFailedTwiceInARow });
    expect((await state.get('recharge')).watermark).toBe(watermarkBefore);

    const behindBefore = deps.metrics.attention[ATTENTION.reconcileOrdersBehind] ?? 0;
    const recovered = await runReconcilePass(deps.ports, {
      deadline: Date.now() + 30_000,
      overlapSeconds: 3600,
      lookbackSeconds: 259_200,
    });
    expect(recovered.outcome).toBe('completed');
    // The orders it found behind past a watermark are missed webhooks: each one counted for a person.
    expect(recovered.behind).toBeGreaterThanOrEqual(260);
    expect(deps.metrics.attention[ATTENTION.reconcileOrdersBehind]).toBe(behindBefore + recovered.behind);
    expect(deps.log.lines.filter((l) => l.message === 'reconcile pass').at(-1)?.extra).toMatchObject({
      needsAttention: ATTENTION.reconcileOrdersBehind,
    });
    const after = await state.get('recharge');
    expect(after.failuresInARow).toBe(0);
    expect(after.watermark).toBe(recovered.startedAt);
    expect(Date.parse(after.watermark as string)).toBeGreaterThan(Date.parse(watermarkBefore as string));
    // The state item is not an order: the ledger listing never shows it.
    expect((await listOrders(world.dynamo, world.tables.orders)).some((o) => !o.providerOrderId)).toBe(false);
    expect(reconcileStateKey('recharge').pk).toBe('RECONCILE#recharge');
    await world.settle(500_000);
    for (let i = 0; i < 260; i++) world.recharge.orders.delete(String(i + 1));
  }, 200_000);

  it('recreates a deleted subscription after a complete pass, counts it, and never touches a foreign one', async () => {
    const { recharge } = world.reconcileDeps();
    await createWebhook(
      recharge,
      { address: 'https://other-app.example.com/hooks/orders', topic: 'order/created' },
      Date.now() + 5000,
    );
    // The guard has seen our three subscriptions (a run before the loss): a later loss is a re-creation.
    await runScheduledReconcile(
      world.reconcileDeps({ RECHARGE_WEBHOOK_GUARD: 'check' }),
      Date.now() + 30_000,
    );
    const victim = world.recharge.webhooks.find((w) => w.topic === 'order/processed');
    const del = await fetch(`${world.recharge.url}/webhooks/${victim?.id}`, {
      method: 'DELETE',
      headers: { 'x-recharge-access-token': 'test-recharge-token', 'x-recharge-version': version },
    });
    expect(del.status).toBe(200);

    const check = world.reconcileDeps({ RECHARGE_WEBHOOK_GUARD: 'check' });
    const reported = await runScheduledReconcile(check, Date.now() + 30_000);
    expect(reported.guard?.stillMissing.map((m) => m.topic)).toEqual(['order/processed']);
    expect(check.metrics.counts[METRIC.subscriptionRecreated]).toBe(0);
    expect(check.metrics.counts[METRIC.subscriptionMissing]).toBe(1);
    expect(check.metrics.attention[ATTENTION.subscriptionMissing]).toBe(1);
    expect(check.log.lines.find((l) => l.message === 'webhook subscriptions checked')?.extra).toMatchObject({
      needsAttention: ATTENTION.subscriptionMissing,
    });

    const deps = world.reconcileDeps();
    const repaired = await runScheduledReconcile(deps, Date.now() + 30_000);

    expect(repaired.pass.outcome).toBe('completed');
    expect(repaired.guard?.recreated).toEqual([
      { topic: 'order/processed', address: `${world.api.url}/webhooks/recharge/order/processed` },
    ]);
    expect(deps.metrics.counts[METRIC.subscriptionRecreated]).toBe(1);
    expect(deps.metrics.attention[ATTENTION.subscriptionRecreated]).toBe(1);
    expect(deps.metrics.attention[ATTENTION.subscriptionMissing]).toBeUndefined();
    expect(deps.log.lines.find((l) => l.message === 'webhook subscription recreated')?.extra).toMatchObject({
      needsAttention: ATTENTION.subscriptionRecreated,
    });
    const posted = world.recharge.requests
      .filter((r) => r.method === 'POST' && r.path === '/webhooks')
      .at(-1);
    expect(posted?.body).toEqual({
      address: `${world.api.url}/webhooks/recharge/order/processed`,
      topic: 'order/processed',
    });
    expect(world.recharge.webhooks.map((w) => `${w.topic} ${w.address}`).sort()).toEqual(
      [
        ...TOPICS.map((t) => `${t} ${world.api.url}/webhooks/recharge/${t}`),
        'order/created https://other-app.example.com/hooks/orders',
      ].sort(),
    );

    const again = world.reconcileDeps();
    await runScheduledReconcile(again, Date.now() + 30_000);
    expect(again.metrics.counts[METRIC.subscriptionRecreated]).toBe(0);
    expect(again.metrics.attention[ATTENTION.subscriptionRecreated]).toBeUndefined();
  }, 200_000);
});
