import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { OrderRecord } from '../../shared/domain/order-record';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import type { Provider, QueuedWebhook } from '../../shared/queue/message';
import { processBatch } from '../../shared/worker/process-batch';
import type { WorkerDeps } from '../../shared/worker/process-record';
import { type FakeOrderSystem, startFakeOrderSystem } from '../support/fake-order-system';
import {
  createWorkerWorld,
  type JsonObject,
  lambdaContext,
  sampleWebhook,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

/**
 * Converge, don't replay: whatever order one order's deliveries arrive in, however often each is
 * redelivered, and wherever a worker crashes, the order ends in the state in-order delivery gives,
 * in our table and in the merchant's system, and no external effect happens twice. Real worker code
 * against DynamoDB Local, a fake ReCharge and a fake merchant order system (both real HTTP servers).
 */

const SECRET = 'converge-order-system-secret-0123456789';
let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
beforeAll(async () => {
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(SECRET)]);
});
afterAll(async () => {
  await Promise.all([world.close(), orderSystem.close()]);
});

interface Scenario {
  provider: Provider;
  /** The deliveries of one order, in the order the provider produced them. */
  events: ((ids: OrderIds) => QueuedWebhook)[];
}
interface OrderIds {
  orderId: string;
  numericId: number;
}

const recharge =
  (name: string, status: string, updatedAt: string) =>
  ({ numericId }: OrderIds): QueuedWebhook =>
    sampleWebhook('recharge', name, (p) => {
      p.order.id = numericId;
      p.order.charge.id = numericId + 1;
      p.order.is_prepaid = true;
      p.order.status = status;
      p.order.updated_at = updatedAt;
    });
const wix =
  (name: string) =>
  ({ orderId }: OrderIds): QueuedWebhook =>
    sampleWebhook('wix-cashier-pay', name, (p: JsonObject) => {
      const event = p.expiredOrderEvent ?? p.transactionEvent ?? p.subscriptionStatusChangeEvent;
      event.orderId = orderId;
    });
const sevi =
  (name: 'pending' | 'paid') =>
  ({ orderId }: OrderIds): QueuedWebhook =>
    sampleWebhook('sevi', name, (p) => {
      p.order.id = orderId;
    });

const SCENARIOS: Record<string, Scenario> = {
  'recharge prepaid': {
    provider: 'recharge',
    events: [
      recharge('2021-11-created-prepaid', 'queued', '2026-11-20T08:00:00'),
      recharge('2021-11-created-prepaid', 'success', '2026-11-20T08:15:02'),
      recharge('2021-11-processed-prepaid', 'success', '2026-11-20T08:15:05'),
      recharge('2021-11-updated-refunded', 'partially_refunded', '2026-11-21T09:00:00'),
      recharge('2021-11-updated-refunded', 'refunded', '2026-11-21T10:00:00'),
    ],
  },
  'wix cashier pay': {
    provider: 'wix-cashier-pay',
    events: [
      wix('transaction-pending'),
      wix('transaction-declined'),
      wix('transaction-approved'),
      wix('order-expired'),
      wix('subscription-active'),
      wix('subscription-cancelled'),
    ],
  },
  sevi: { provider: 'sevi', events: [sevi('pending'), sevi('paid')] },
};

/** One delivery attempt: which webhook, and whether the worker crashes after a step or the merchant answers 503. */
interface Attempt {
  event: number;
  crashAfter?: string;
  orderSystem503?: boolean;
}

let crash: string | undefined;
function deps(http: boolean): WorkerDeps {
  const env: Record<string, string> = http
    ? { ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: orderSystem.url, ORDER_SYSTEM_SECRET: SECRET }
    : {};
  return world.deps({
    env,
    hooks: {
      afterStep: (step) => {
        if (crash === step) {
          crash = undefined;
          throw new Error(`injected crash after ${step}`);
        }
      },
    },
  });
}

/**
 * Delivers `plan` in waves of up to `parallel` concurrent invocations (like Lambda containers);
 * whatever an invocation reports failed is redelivered after the rest, as SQS does.
 */
async function deliver(
  workerDeps: WorkerDeps,
  webhooks: QueuedWebhook[],
  plan: Attempt[],
  parallel: number,
): Promise<void> {
  const queue = plan.map((a) => ({ ...a, record: sqsRecord(must(webhooks[a.event])) }));
  for (let round = 0; queue.length > 0; round++) {
    if (round > 60) throw new Error('deliveries never settled');
    const wave = queue.splice(0, parallel);
    const results = await Promise.all(
      wave.map(async (attempt) => {
        crash = attempt.crashAfter;
        if (attempt.orderSystem503) orderSystem.failNext(503);
        const { results } = await processBatch([attempt.record], workerDeps, lambdaContext());
        return { attempt, result: must(results[0]) };
      }),
    );
    crash = undefined;
    orderSystem.failNext(503, 0);
    for (const { attempt, result } of results) {
      expect(result.outcome).not.toBe('dead-lettered');
      if (result.failed) queue.push({ ...attempt, crashAfter: undefined, orderSystem503: false });
    }
  }
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('missing value');
  return value;
}

/** What the outside world holds for one order after delivery. */
async function outcome(provider: Provider, ids: OrderIds) {
  const record = (await getOrderByProviderRef(world.dynamo, world.tables.orders, {
    provider,
    orderId: ids.orderId,
  })) as OrderRecord | undefined;
  const external = record?.externalId;
  const creates = orderSystem.requests.filter(
    (r) => r.method === 'POST' && r.status === 201 && (r.body as JsonObject)?.source?.orderId === ids.orderId,
  );
  const pushes = external
    ? orderSystem.requests.filter(
        (r) =>
          r.method === 'PATCH' && r.path === `/orders/${encodeURIComponent(external)}` && r.status === 200,
      )
    : [];
  const rechargeWrites = world.recharge
    .applied()
    .filter((r) => r.path === `/orders/${ids.numericId}` || r.path === `/charges/${ids.numericId + 1}`)
    .map(
      (r) =>
        `${r.method} ${r.path.replace(String(ids.numericId + 1), 'C').replace(String(ids.numericId), 'O')}`,
    );
  return {
    status: record?.status,
    subscriptionStatus: record?.subscriptionStatus,
    exists: external !== undefined,
    merchant: external ? orderSystem.states.get(external) : undefined,
    creates: creates.length,
    pushedVersions: pushes.map((r) => Number(r.headers['x-order-webhooks-version'])),
    rechargeWrites: rechargeWrites.sort(),
  };
}

const freshIds = (): OrderIds => {
  const numericId = 600_000_000 + Math.floor(Math.random() * 100_000_000) * 2;
  return { orderId: randomUUID(), numericId };
};

const arbitraryRun = fc.constantFrom(...Object.keys(SCENARIOS)).chain((name) => {
  const scenario = SCENARIOS[name] as Scenario;
  const indices = scenario.events.map((_, i) => i);
  return fc.record({
    name: fc.constant(name),
    // A random subset of the order's deliveries, in a random order...
    order: fc.shuffledSubarray(indices, { minLength: 1 }),
    // ...some of them delivered again (duplicates and redeliveries)...
    duplicates: fc.array(fc.nat(), { maxLength: 3 }),
    // ...crashes after a step, merchant 503s, and concurrent invocations.
    crashes: fc.array(
      fc.option(fc.constantFrom('create-order', 'push-state', 'recharge-put-order', 'apply-event'), {
        nil: undefined,
      }),
      { maxLength: 8 },
    ),
    failures: fc.array(fc.boolean(), { maxLength: 8 }),
    parallel: fc.integer({ min: 1, max: 3 }),
  });
});

describe.each([
  ['the built-in ledger', false],
  ['an HTTP order system', true],
] as const)('order-independent convergence with %s', (_, http) => {
  it('ends where in-order delivery ends, with no external effect twice', async () => {
    const workerDeps = deps(http);
    await fc.assert(
      fc.asyncProperty(arbitraryRun, async (run) => {
        const scenario = SCENARIOS[run.name] as Scenario;
        const inOrder = [...run.order].sort((a, b) => a - b);

        const baselineIds = freshIds();
        const baselineHooks = scenario.events.map((make) => make(baselineIds));
        await deliver(
          workerDeps,
          baselineHooks,
          inOrder.map((event) => ({ event })),
          1,
        );
        const expected = await outcome(scenario.provider, baselineIds);

        const ids = freshIds();
        const webhooks = scenario.events.map((make) => make(ids));
        const plan: Attempt[] = run.order.map((event, i) => ({
          event,
          crashAfter: run.crashes[i],
          orderSystem503: http && run.failures[i] === true,
        }));
        for (const d of run.duplicates) plan.push({ event: must(run.order[d % run.order.length]) });
        await deliver(workerDeps, webhooks, plan, run.parallel);
        const actual = await outcome(scenario.provider, ids);

        expect(actual.status).toBe(expected.status);
        expect(actual.subscriptionStatus).toBe(expected.subscriptionStatus);
        expect(actual.exists).toBe(expected.exists);
        expect(actual.rechargeWrites).toEqual(expected.rechargeWrites);
        // No effect twice: one write per ReCharge order and charge, one create, one push per version.
        expect(new Set(actual.rechargeWrites).size).toBe(actual.rechargeWrites.length);
        if (http) {
          expect(actual.creates).toBe(actual.exists ? 1 : 0);
          expect(new Set(actual.pushedVersions).size).toBe(actual.pushedVersions.length);
          // The merchant's system ends at our final state, as it does after in-order delivery.
          expect(actual.merchant?.status).toBe(actual.status && actual.exists ? actual.status : undefined);
          expect(actual.merchant?.status).toBe(expected.merchant?.status);
          expect(actual.merchant?.subscriptionStatus).toBe(expected.merchant?.subscriptionStatus);
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 20) },
    );
  }, 300_000);
});
