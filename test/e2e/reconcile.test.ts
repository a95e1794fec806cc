import { DEV_SECRETS } from '../../scripts/local/dev-defaults';
import { type FakeOrder, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { ordersDocumentClient } from '../../shared/order-system/ledger';
import type { ReconcilePassResult } from '../../shared/reconcile/pass';
import { makeStateStore } from '../../shared/reconcile/state-store';
import { chargeIdOf, isPaid, isPrepaid, minutesAgo, rechargeOrder } from '../support/recharge-orders';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { deliverWithRetries, depths, orders, runCli } from './helpers/webhooks';

jest.setTimeout(240_000);

const TOPICS = ['order/created', 'order/processed', 'order/updated'];
const ORDERS = 300;

/**
 * Reconciliation on the local mode as `npm start` runs it (a child process, its reconciler and
 * subscription guard on), against a fake ReCharge over HTTP that delivers webhooks to it and loses
 * two thirds of them. Passes are run by the CLI (`reconcile --json`) and by the local reconciler
 * itself (SIGUSR2 runs its scheduled pass and check now). The fake lives in this process (passed as
 * RECHARGE_API_URL) so the test can count the PUTs it received and make it answer 429.
 */
describe.each(['2021-11', '2021-01'] as const)('reconciliation on the local mode, ReCharge %s', (version) => {
  let fake: FakeRecharge;
  let lp: LocalProcess;
  const fail = (error: Error) => {
    throw new Error(`${error.message}\n${lp?.problems()}`);
  };

  /** The fake has nothing in flight and the queue is empty, twice in a row. */
  const settle = async (what: string) => {
    let quiet = 0;
    await waitFor(
      async () => {
        await fake.idle();
        quiet = (await depths(lp)).queueEmpty ? quiet + 1 : 0;
        return quiet >= 2;
      },
      what,
      120_000,
      300,
    ).catch(fail);
  };

  const cliPass = async (): Promise<{ code: number | null; result: ReconcilePassResult }> => {
    const { code, stdout, stderr } = await runCli(['reconcile', '--json'], lp.stateFile);
    try {
      return { code, result: JSON.parse(stdout) as ReconcilePassResult };
    } catch {
      throw new Error(`reconcile printed no JSON (exit ${code}):\n${stdout}\n${stderr}`);
    }
  };

  /** Runs the local reconciler's scheduled pass and check now (SIGUSR2) and returns the line it prints. */
  const scheduledRun = async () => {
    const from = lp.output().length;
    lp.child.kill('SIGUSR2');
    return waitFor(
      () =>
        lp
          .output()
          .slice(from)
          .match(/reconcile run[^\n]*/)?.[0],
      'the scheduled run triggered by SIGUSR2',
      120_000,
    ).catch(fail);
  };

  const watermark = async () =>
    (await makeStateStore(ordersDocumentClient(lp.dynamo), lp.state.ordersTable).get('recharge')).watermark;

  beforeAll(async () => {
    fake = await startFakeRecharge({
      tokens: [DEV_SECRETS.RECHARGE_API_TOKEN],
      webhookSecret: DEV_SECRETS.RECHARGE_WEBHOOK_SECRETS,
    });
    lp = await startLocalProcess({
      env: {
        RECHARGE_API_URL: fake.url,
        RECHARGE_API_VERSION: version,
        // Runs once at start (registering the subscriptions), then only when told (SIGUSR2) or by the CLI.
        RECONCILE_INTERVAL_SECONDS: '3600',
        // The fake has no rate limit: ReCharge's 2 calls/s would make 360 write-backs take 3 minutes.
        RECHARGE_RATE_CAPACITY: '1000',
        RECHARGE_RATE_PER_SECOND: '1000',
        // Lambda-like working time per batch (the suite default of 8 s leaves 3 s): a batch cut off at
        // its deadline after ReCharge applied a PUT would PUT again on redelivery, and this test
        // counts PUTs. The lease outlives the batch, as in the stack.
        LOCAL_VISIBILITY_TIMEOUT_SECONDS: '60',
        LOCAL_WORKER_TIMEOUT_SECONDS: '60',
        IDEMPOTENCY_LEASE_SECONDS: '70',
      },
    });
    await waitFor(
      () => fake.webhooks.length === TOPICS.length,
      'the subscriptions registered at start',
    ).catch(fail);
  }, 120_000);
  afterAll(async () => {
    await lp?.stop();
    await fake?.close();
  });

  it('registers one subscription per topic at the local URL when it starts, as a first registration (no "recreated" warning)', async () => {
    expect(fake.webhooks.map((w) => `${w.topic} ${w.address}`).sort()).toEqual(
      TOPICS.map((t) => `${t} ${lp.state.apiUrl}/webhooks/recharge/${t}`).sort(),
    );
    // The guard records the topics it has seen as the last step of its run (after its log lines).
    await waitFor(async () => {
      const state = await makeStateStore(ordersDocumentClient(lp.dynamo), lp.state.ordersTable).get(
        'recharge',
      );
      return state.subscriptionsSeen?.length === TOPICS.length;
    }, 'the guard recording the subscriptions it registered');
    expect(lp.output()).not.toMatch(/webhook subscription recreated/);
  });

  it('brings 300 orders, two thirds of whose webhooks were lost, into sync with one write-back each; a second pass enqueues nothing', async () => {
    // Arrange: every 5th prepaid, some queued or failed, a few paid then refunded with every
    // webhook lost; a third delivered (some twice), a few out of order (the update first, the
    // created retried late), the rest lost.
    const all: FakeOrder[] = [];
    const delivered = new Set<string>();
    const outOfOrder = new Set<string>();
    const refunded = new Set<string>();
    for (let i = 0; i < ORDERS; i++) {
      const status = i % 10 === 7 ? 'queued' : i % 10 === 8 ? 'error' : 'success';
      const order = rechargeOrder(version, { prepaid: i % 5 === 0, status, updatedAt: minutesAgo(30) });
      all.push(order);
      const id = String(order.id);
      if (i % 30 === 29) refunded.add(id);
      else if (i % 3 === 0) delivered.add(id);
      else if (i % 9 === 4) outOfOrder.add(id);
    }
    fake.setDeliveryDrop(
      ({ topic, orderId }) => refunded.has(orderId) || (topic === 'order/created' && !delivered.has(orderId)),
    );
    const arrange = async (order: FakeOrder, i: number) => {
      const id = String(order.id);
      if (refunded.has(id)) {
        await fake.upsertOrder(order, 'order/created');
        const refund = { ...order, status: version === '2021-01' ? 'REFUNDED' : 'refunded' };
        await fake.upsertOrder({ ...refund, updated_at: minutesAgo(10) }, 'order/updated');
        return;
      }
      if (outOfOrder.has(id)) {
        await fake.upsertOrder(
          { ...order, updated_at: minutesAgo(20), note: 'address changed' },
          'order/updated',
        );
        // ReCharge's retry of the created, late: older than the update the ingest already queued.
        const late = await deliverWithRetries(lp.state.apiUrl, {
          provider: 'recharge',
          topic: 'order/created',
          body: JSON.stringify({ order }),
        });
        expect(late.status).toBe(200);
        return;
      }
      await fake.upsertOrder(order, 'order/created');
      if (i % 6 === 0) await fake.upsertOrder(order, 'order/created');
    };
    for (let i = 0; i < all.length; i += 20)
      await Promise.all(all.slice(i, i + 20).map((order, j) => arrange(order, i + j)));
    await settle('the delivered webhooks to be applied');
    const before = await orders(lp);
    expect(before.length).toBeLessThan(ORDERS * 0.5);
    expect(before.filter((o) => refunded.has(o.providerOrderId))).toEqual([]);

    // Act: the local reconciler's next scheduled pass (two pages of 250), then the worker applies
    // what it enqueued. ReCharge delivers again (the echoes of the write-backs included).
    fake.setDeliveryDrop(0);
    const listsBefore = fake.requests.length;
    const line = await scheduledRun();
    await settle('the enqueued orders to be applied');

    // Assert
    const [, outcome, listed, behind, enqueued] =
      /pass (\w+), listed (\d+), behind (\d+), enqueued (\d+)/.exec(line) ?? [];
    expect({ outcome, listed: Number(listed) }).toEqual({ outcome: 'completed', listed: ORDERS });
    expect(Number(behind)).toBeGreaterThanOrEqual(ORDERS - delivered.size - outOfOrder.size);
    expect(Number(enqueued)).toBe(Number(behind));
    const lists = fake.requests
      .slice(listsBefore)
      .filter((r) => r.method === 'GET' && r.path === '/orders' && r.status === 200);
    expect(lists).toHaveLength(2);
    expect(await watermark()).toBeDefined();

    const ledger = await orders(lp);
    expect(ledger.map((o) => o.providerOrderId).sort()).toEqual(all.map((o) => String(o.id)).sort());
    const paidRecords = ledger.filter((o) => o.externalId);
    expect(new Set(paidRecords.map((o) => o.externalNumber)).size).toBe(paidRecords.length);
    const puts = fake.applied().filter((r) => r.method === 'PUT');
    for (const order of all) {
      const record = ledger.find((o) => o.providerOrderId === String(order.id));
      const paid = isPaid(order);
      expect(Boolean(record?.externalId)).toBe(paid);
      const orderPuts = puts.filter((r) => r.path === `/orders/${order.id}`);
      expect(orderPuts).toHaveLength(paid ? 1 : 0);
      if (paid)
        // 2021-11 writes `{ ecommerce: id }`, 2021-01 the id itself.
        expect(JSON.stringify(orderPuts[0]?.body)).toContain(`"${record?.externalId}"`);
      expect(puts.filter((r) => r.path === `/charges/${chargeIdOf(order)}`)).toHaveLength(
        paid && isPrepaid(order) ? 1 : 0,
      );
    }
    // Paid, then refunded, every webhook lost: created from its state, refunded, ids written back once.
    expect(refunded.size).toBeGreaterThan(0);
    for (const id of refunded) {
      expect(ledger.find((o) => o.providerOrderId === id)).toMatchObject({ status: 'refunded' });
      expect(ledger.find((o) => o.providerOrderId === id)?.externalId).toBeTruthy();
    }
    const { dlq } = await depths(lp);
    expect(dlq.visible + dlq.inFlight + dlq.delayed).toBe(0);
    // A pass by hand (the CLI against the local mode) now finds nothing behind and moves the watermark.
    const second = await cliPass();
    expect(second.code).toBe(0);
    expect(second.result).toMatchObject({ outcome: 'completed', listed: ORDERS, behind: 0, enqueued: 0 });
    expect(await watermark()).toBe(second.result.startedAt);
  });

  it('recreates a subscription ReCharge deleted on the next scheduled run, reports it, and leaves a foreign one alone', async () => {
    await fetch(`${fake.url}/webhooks`, {
      method: 'POST',
      headers: rechargeHeaders(version),
      body: JSON.stringify({ address: 'https://other-app.example.com/hooks/orders', topic: 'order/created' }),
    });
    const victim = fake.webhooks.find((w) => w.topic === 'order/processed');
    const deleted = await fetch(`${fake.url}/webhooks/${victim?.id}`, {
      method: 'DELETE',
      headers: rechargeHeaders(version),
    });
    expect(deleted.status).toBe(200);
    const posts = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/webhooks');
    const postsBefore = posts().length;

    const line = await scheduledRun();

    expect(line).toMatch(/pass completed, .* subscriptions recreated, recreated 1 \(order\/processed\)/);
    expect(lp.output()).toMatch(/webhook subscription recreated[^\n]*order\/processed/);
    expect(
      posts()
        .slice(postsBefore)
        .map((r) => r.body),
    ).toEqual([
      { address: `${lp.state.apiUrl}/webhooks/recharge/order/processed`, topic: 'order/processed' },
    ]);
    expect(fake.webhooks.map((w) => `${w.topic} ${w.address}`).sort()).toEqual(
      [
        ...TOPICS.map((t) => `${t} ${lp.state.apiUrl}/webhooks/recharge/${t}`),
        'order/created https://other-app.example.com/hooks/orders',
      ].sort(),
    );
  });

  it('leaves the watermark where it was when ReCharge answers 429 in the middle of the listing', async () => {
    expect(fake.orders.size).toBeGreaterThan(250);
    const before = await watermark();
    expect(before).toBeDefined();
    // The second page is throttled for longer than the pass may run: the client gives up at once.
    fake.setBehaviour({ mode: 429, method: 'GET', pathPrefix: '/orders', skip: 1, retryAfterSeconds: 3600 });

    const failed = await cliPass();
    fake.setBehaviour({ mode: 'ok' });

    expect(failed.code).toBe(1);
    expect(failed.result).toMatchObject({ outcome: 'failed', listed: 250, failuresInARow: 1 });
    expect(failed.result.error).toMatch(/429/);
    expect(fake.requests.filter((r) => r.status === 429).map((r) => r.path)).toEqual(['/orders']);
    expect(await watermark()).toBe(before);
  });
});

function rechargeHeaders(version: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-recharge-access-token': DEV_SECRETS.RECHARGE_API_TOKEN,
    'x-recharge-version': version,
  };
}
