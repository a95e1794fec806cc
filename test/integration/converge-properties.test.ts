import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { OrderRecord } from '../../shared/domain/order-record';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import type { Provider, QueuedWebhook } from '../../shared/queue/message';
import { MemoryRateBudget } from '../../shared/recharge-api/rate-budget';
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
/** Runs per order system; the bound allows 15 s a run, far more than a loaded machine needs. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 20);
let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
beforeAll(async () => {
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(SECRET)]);
});
afterAll(async () => {
  await Promise.all([world.close(), orderSystem.close()]);
});

/** Every status word each provider documents, by family, and some words the product cannot place. */
const WORDS = {
  recharge202111: {
    pending: ['queued'],
    failed: ['error'],
    open: ['skipped'],
    paid: ['success'],
    refund: ['partially_refunded'],
    refunded: ['refunded'],
    cancelled: ['cancelled', 'canceled'],
    unknown: ['pending_review', 'archived'],
  },
  recharge202101: {
    pending: ['QUEUED'],
    failed: ['ERROR'],
    open: ['SKIPPED'],
    paid: ['SUCCESS'],
    refund: ['PARTIALLY_REFUNDED'],
    refunded: ['REFUNDED'],
    cancelled: ['CANCELLED'],
    unknown: ['PENDING_REVIEW', 'ARCHIVED'],
  },
  wixTransaction: {
    pending: [
      'PENDING',
      'IN_PROCESS',
      'PROCESSING',
      'INITIALIZED',
      'AUTHORIZED',
      'WAITING',
      'PENDING_MERCHANT',
    ],
    declined: [
      'DECLINED',
      'FAILED',
      'FAILURE',
      'ERROR',
      'REJECTED',
      'NOT_APPROVED',
      'CANCELED',
      'CANCELLED',
      'VOIDED',
      'TIMEOUT',
    ],
    approved: ['APPROVED', 'SUCCESS', 'SUCCEEDED', 'SUCCESSFUL', 'COMPLETED', 'PAID', 'CAPTURED', 'SETTLED'],
    unknown: ['CHARGEBACK_REVIEW', 'UNDEFINED', 'MYSTERY'],
  },
  wixSubscription: {
    ended: ['SUBSCRIPTION_CANCELLED', 'SUBSCRIPTION_FINISHED'],
    // Wix order statuses that are not subscription statuses: recorded as sent while it is open.
    other: ['UNDEFINED', 'INITIALIZED', 'IN_PROCESS', 'EXPIRED', 'NOT_APPROVED', 'SUBSCRIPTION_PAUSED'],
  },
  sevi: {
    failed: ['FAILED', 'FAILURE', 'DECLINED', 'ERROR'],
    unknown: ['REFUSED', 'CHARGEBACK', 'Unknown'],
  },
} as const;

/** The words one run uses (drawn per run, the same for the in-order baseline and the shuffled run). */
type Pick = (choices: readonly string[]) => string;

interface Scenario {
  provider: Provider;
  /**
   * The deliveries of one order, in the order the provider produced them. `final`: a status (or,
   * `field: 'subscription'`, a subscription status) that later words cannot replace.
   */
  events: (pick: Pick) => EventSpec[];
}
interface EventSpec {
  make: (ids: OrderIds) => QueuedWebhook;
  field: 'status' | 'subscription';
  final?: boolean;
}
interface OrderIds {
  orderId: string;
  numericId: number;
}

const recharge =
  (version: '2021-11' | '2021-01', name: string, status: string, updatedAt: string) =>
  ({ numericId }: OrderIds): QueuedWebhook =>
    sampleWebhook('recharge', `${version}-${name}`, (p) => {
      p.order.id = numericId;
      if (version === '2021-11') p.order.charge.id = numericId + 1;
      else p.order.charge_id = numericId + 1;
      p.order.is_prepaid = version === '2021-11' ? true : 1;
      p.order.status = status;
      p.order.updated_at = updatedAt;
    });
const wix =
  (name: string, modify?: (p: JsonObject) => void) =>
  ({ orderId }: OrderIds): QueuedWebhook =>
    sampleWebhook('wix-cashier-pay', name, (p: JsonObject) => {
      const event = p.expiredOrderEvent ?? p.transactionEvent ?? p.subscriptionStatusChangeEvent;
      event.orderId = orderId;
      modify?.(p);
    });
const wixTx = (transactionId: string, status: string) =>
  wix('transaction-pending', (p) => {
    p.transactionEvent.transactionId = transactionId;
    p.transactionEvent.transactionStatus = status;
  });
const wixSub = (status: string) =>
  wix('subscription-active', (p) => {
    p.subscriptionStatusChangeEvent.status = status;
  });
const sevi =
  (payment: string, orderStatus: string, asObject: boolean) =>
  ({ orderId }: OrderIds): QueuedWebhook =>
    sampleWebhook('sevi', 'pending', (p) => {
      p.order.id = orderId;
      p.order.status = orderStatus;
      delete p.order.paymentStatus;
      p.order.orderPayment = asObject ? { status: payment } : payment;
    });

const rechargeScenario = (version: '2021-11' | '2021-01'): Scenario => ({
  provider: 'recharge',
  events: (pick) => {
    const w = version === '2021-11' ? WORDS.recharge202111 : WORDS.recharge202101;
    const at = (name: string, status: string, time: string, final?: boolean): EventSpec => ({
      make: recharge(version, name, status, `2026-11-20T${time}`),
      field: 'status',
      final,
    });
    return [
      at('created-prepaid', pick(w.pending), '08:00:00'),
      at('updated-prepaid', pick(w.failed), '08:05:00'),
      // The charge is retried: queued again (a status that returns, newer in time).
      at('updated-prepaid', pick(w.pending), '08:10:00'),
      at('updated-prepaid', pick(w.unknown), '08:11:00'),
      at('updated-prepaid', pick(w.open), '08:12:00'),
      at('created-prepaid', pick(w.paid), '08:15:02', true),
      at('processed-prepaid', pick(w.paid), '08:15:05', true),
      // Then refunded in part and in whole, or cancelled (both after payment; a cancel after a
      // partial refund is not a transition the state machine lists, so a run takes one or the other).
      ...(pick(['refund', 'cancel']) === 'refund'
        ? [
            at('updated-refunded', pick(w.refund), '09:00:00', true),
            at('updated-refunded', pick(w.refunded), '10:00:00', true),
          ]
        : [at('updated-refunded', pick(w.cancelled), '09:00:00', true)]),
    ];
  },
});

const SCENARIOS: Record<string, Scenario> = {
  'recharge 2021-11 prepaid': rechargeScenario('2021-11'),
  'recharge 2021-01 prepaid': rechargeScenario('2021-01'),
  'wix cashier pay': {
    provider: 'wix-cashier-pay',
    events: (pick) => {
      const t = WORDS.wixTransaction;
      const status = (make: EventSpec['make'], final?: boolean): EventSpec => ({
        make,
        field: 'status',
        final,
      });
      const sub = (word: string, final?: boolean): EventSpec => ({
        make: wixSub(word),
        field: 'subscription',
        final,
      });
      const other = pick(WORDS.wixSubscription.other);
      return [
        status(wixTx('tx-1', pick(t.pending))),
        status(wixTx('tx-1', pick(t.declined))),
        // The customer tries again: a new transaction, pending, then a word it cannot place.
        status(wixTx('tx-2', pick(t.pending))),
        status(wixTx('tx-2', pick(t.unknown))),
        status(wixTx('tx-2', pick(t.approved)), true),
        // Late: an expiry, a late word of the first attempt, a word it cannot place.
        status(wix('order-expired'), true),
        status(wixTx('tx-1', pick(t.declined))),
        status(wixTx('tx-2', pick(t.unknown))),
        sub('SUBSCRIPTION_PENDING'),
        sub('SUBSCRIPTION_ACTIVE'),
        sub(other),
        // Returns to active (the same webhook as before, a real return).
        sub('SUBSCRIPTION_ACTIVE'),
        sub(pick(WORDS.wixSubscription.ended), true),
        sub(pick(WORDS.wixSubscription.other)),
      ];
    },
  },
  sevi: {
    provider: 'sevi',
    events: (pick) => {
      const asObject = pick(['word', 'object']) === 'object';
      const at = (payment: string, orderStatus: string, final?: boolean): EventSpec => ({
        make: sevi(payment, orderStatus, asObject),
        field: 'status',
        final,
      });
      const failed = pick(WORDS.sevi.failed);
      return [
        at('PENDING', 'Pending'),
        at(failed, 'Pending'),
        // The customer tries again: PENDING returns (the same payload as the first).
        at('PENDING', 'Pending'),
        at(pick(WORDS.sevi.unknown), 'Pending'),
        at('PAID', 'Processing', true),
        // Late: the failure of an earlier attempt, and a word it cannot place.
        at(failed, 'Delivered'),
        at(pick(WORDS.sevi.unknown), 'Delivered'),
      ];
    },
  },
};

/** One delivery attempt: which webhook, and whether the worker crashes after a step or the merchant answers 503. */
interface Attempt {
  event: number;
  /** Order-sensitive (see arrivalPlan): never run at the same time as another sensitive attempt. */
  sensitive: boolean;
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
    // The shared budget's schedule is tested elsewhere (rate-budget.test.ts); here ReCharge's 2 calls/s
    // would only make hundreds of runs wait for slots.
    rechargeBudget: new MemoryRateBudget({ capacity: 1_000_000, perSecond: 1_000_000 }),
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
 * whatever an invocation reports failed is redelivered after the rest, as SQS does (its receive
 * count one higher). A wave holds at most one order-sensitive attempt.
 */
async function deliver(
  workerDeps: WorkerDeps,
  webhooks: QueuedWebhook[],
  plan: Attempt[],
  parallel: number,
): Promise<void> {
  const queue = plan.map((a) => ({ ...a, record: sqsRecord(must(webhooks[a.event])) }));
  for (let round = 0; queue.length > 0; round++) {
    if (round > 80) throw new Error('deliveries never settled');
    const wave: typeof queue = [];
    while (queue.length > 0 && wave.length < parallel) {
      const next = must(queue[0]);
      if (next.sensitive && wave.some((a) => a.sensitive)) break;
      wave.push(must(queue.shift()));
    }
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
      if (!result.failed) continue;
      const received = Number(attempt.record.attributes.ApproximateReceiveCount) + 1;
      const record = {
        ...attempt.record,
        attributes: { ...attempt.record.attributes, ApproximateReceiveCount: String(received) },
      };
      queue.push({ ...attempt, record, crashAfter: undefined, orderSystem503: false });
    }
  }
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('missing value');
  return value;
}

/** The whole state the outside world holds for one order after delivery. */
async function outcome(provider: Provider, ids: OrderIds) {
  // ReCharge orders are keyed by their numeric id; Wix and Sevi by the order id the payload names.
  const orderId = provider === 'recharge' ? String(ids.numericId) : ids.orderId;
  const record = (await getOrderByProviderRef(world.dynamo, world.tables.orders, {
    provider,
    orderId,
  })) as OrderRecord | undefined;
  const external = record?.externalId;
  const creates = orderSystem.requests.filter(
    (r) => r.method === 'POST' && r.status === 201 && (r.body as JsonObject)?.source?.orderId === orderId,
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
  const held = external ? orderSystem.states.get(external) : undefined;
  return {
    found: record !== undefined,
    state: {
      status: record?.status,
      paymentStatus: record?.paymentStatus,
      fulfilmentStatus: record?.fulfilmentStatus,
      providerStatus: record?.providerStatus,
      subscriptionStatus: record?.subscriptionStatus,
      paid: record?.paid === true,
      exists: external !== undefined,
      transactions: (record?.transactions ?? []).map((t) => `${t.id}:${t.status}`).sort(),
      rechargeWrites: rechargeWrites.sort(),
    },
    stateVersion: record?.stateVersion,
    merchant: held ? { ...held, version: undefined } : undefined,
    merchantVersion: held?.version,
    creates: creates.length,
    pushedVersions: pushes.map((r) => Number(r.headers['x-order-webhooks-version'])),
    rechargeWrites,
  };
}

const freshIds = (): OrderIds => {
  const numericId = 600_000_000 + Math.floor(Math.random() * 100_000_000) * 2;
  return { orderId: randomUUID(), numericId };
};

/**
 * The order deliveries arrive in. Deliveries shuffle freely, except where no rule can tell their
 * order: a field (status, subscription) whose deliveries in this run include no final one keeps its
 * deliveries in the provider's order (PENDING, FAILED, PENDING carries no time: its arrival order is
 * its meaning), and a provider redelivery of one of them comes right after it (a copy arriving after
 * a different status is a real return to the product: docs/design.md).
 */
function arrivalPlan(events: EventSpec[], order: number[], duplicates: number[]): Attempt[] {
  const sensitiveField = (field: EventSpec['field']) =>
    !order.some((i) => events[i]?.field === field && events[i]?.final);
  const isSensitive = (i: number) => sensitiveField(must(events[i]).field);
  const arrival = [...order];
  for (const field of ['status', 'subscription'] as const) {
    if (!sensitiveField(field)) continue;
    const slots = arrival.map((e, at) => (events[e]?.field === field ? at : -1)).filter((at) => at >= 0);
    const inProviderOrder = slots.map((at) => must(arrival[at])).sort((a, b) => a - b);
    slots.forEach((at, k) => {
      arrival[at] = must(inProviderOrder[k]);
    });
  }
  const plan: Attempt[] = arrival.map((event) => ({ event, sensitive: isSensitive(event) }));
  for (const d of duplicates) {
    const event = must(order[d % order.length]);
    const copy = { event, sensitive: isSensitive(event) };
    if (copy.sensitive) plan.splice(plan.findIndex((a) => a.event === event) + 1, 0, copy);
    else plan.push(copy);
  }
  return plan;
}

const arbitraryRun = fc.constantFrom(...Object.keys(SCENARIOS)).chain((name) => {
  const scenario = SCENARIOS[name] as Scenario;
  // The words of this run: one seed picks from each family, the same for baseline and shuffled run.
  return fc.integer({ min: 0, max: 2 ** 31 - 1 }).chain((seed) => {
    const events = scenario.events(picker(seed));
    const indices = events.map((_, i) => i);
    return fc.record({
      name: fc.constant(name),
      seed: fc.constant(seed),
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
});

/** A deterministic pick from each word family (a small LCG over the run's seed). */
function picker(seed: number): Pick {
  let state = seed;
  return (choices) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return must(choices[state % choices.length]);
  };
}

describe.each([
  ['the built-in ledger', false],
  ['an HTTP order system', true],
] as const)('order-independent convergence with %s', (_, http) => {
  it(
    'ends where in-order delivery ends, in the whole state, with no external effect twice',
    async () => {
      const workerDeps = deps(http);
      await fc.assert(
        fc.asyncProperty(arbitraryRun, async (run) => {
          const scenario = SCENARIOS[run.name] as Scenario;
          const events = scenario.events(picker(run.seed));
          const inOrder = [...run.order].sort((a, b) => a - b);

          const baselineIds = freshIds();
          await deliver(
            workerDeps,
            events.map((e) => e.make(baselineIds)),
            inOrder.map((event) => ({ event, sensitive: true })),
            1,
          );
          const expected = await outcome(scenario.provider, baselineIds);

          const ids = freshIds();
          const plan = arrivalPlan(events, run.order, run.duplicates).map((attempt, i) => ({
            ...attempt,
            crashAfter: run.crashes[i],
            orderSystem503: http && run.failures[i] === true,
          }));
          await deliver(
            workerDeps,
            events.map((e) => e.make(ids)),
            plan,
            run.parallel,
          );
          const actual = await outcome(scenario.provider, ids);
          // The order was found and compared: a lookup that finds nothing would compare nothing.
          expect(expected.found && actual.found).toBe(true);

          // The whole state: status, payment, fulfilment, provider and subscription status, whether
          // it exists externally, the transactions recorded and what was written back to ReCharge.
          expect(actual.state).toEqual(expected.state);
          // No effect twice: one write per ReCharge order and charge, one create, one push per version.
          expect(new Set(actual.rechargeWrites).size).toBe(actual.rechargeWrites.length);
          if (http) {
            expect(actual.creates).toBe(actual.state.exists ? 1 : 0);
            expect(new Set(actual.pushedVersions).size).toBe(actual.pushedVersions.length);
            // The merchant's system holds our final state at our version, as after in-order delivery.
            expect(actual.merchant).toEqual(expected.merchant);
            if (actual.state.exists) {
              expect(actual.merchantVersion).toBe(actual.stateVersion);
              expect(actual.merchant).toEqual({
                status: actual.state.status,
                paymentStatus: actual.state.paymentStatus,
                fulfilmentStatus: actual.state.fulfilmentStatus,
                providerStatus: actual.state.providerStatus,
                subscriptionStatus: actual.state.subscriptionStatus,
                version: undefined,
              });
            }
          }
        }),
        { numRuns: RUNS },
      );
    },
    RUNS * 15_000,
  );
});
