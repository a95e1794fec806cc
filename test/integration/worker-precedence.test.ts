import { randomUUID } from 'node:crypto';
import type { OrderRecord } from '../../shared/domain/order-record';
import { METRIC } from '../../shared/metrics';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import type { Provider, QueuedWebhook } from '../../shared/queue/message';
import { processBatch } from '../../shared/worker/process-batch';
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
 * Precedence per provider (docs/design.md): a settled payment is not undone by a late word of an
 * earlier attempt or by a word the product cannot place; a status that returns after a different
 * one applies again, while a retried delivery of the same webhook changes nothing.
 */

const SECRET = 'precedence-order-system-secret-0123456789';
let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
beforeAll(async () => {
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(SECRET)]);
});
afterAll(async () => {
  await Promise.all([world.close(), orderSystem.close()]);
});

function workerDeps(http: boolean) {
  return world.deps(
    http
      ? { env: { ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: orderSystem.url, ORDER_SYSTEM_SECRET: SECRET } }
      : {},
  );
}

/** Delivers each webhook in turn (one invocation each) and returns each record's outcome. */
async function deliver(deps: ReturnType<typeof workerDeps>, ...webhooks: QueuedWebhook[]) {
  const outcomes: string[] = [];
  for (const webhook of webhooks) {
    const { results } = await processBatch([sqsRecord(webhook)], deps, lambdaContext());
    expect(results[0]?.failed).toBe(false);
    outcomes.push(String(results[0]?.outcome));
  }
  return outcomes;
}

const stored = async (provider: Provider, orderId: string) =>
  (await getOrderByProviderRef(world.dynamo, world.tables.orders, { provider, orderId })) as
    | OrderRecord
    | undefined;

const sevi = (orderId: string, payment: string) =>
  sampleWebhook('sevi', 'pending', (p) => {
    p.order.id = orderId;
    p.order.orderPayment = payment;
    p.order.paymentStatus = payment;
  });

function wix(name: string, orderId: string, modify?: (p: JsonObject) => void) {
  return sampleWebhook('wix-cashier-pay', name, (p) => {
    const event = p.expiredOrderEvent ?? p.transactionEvent ?? p.subscriptionStatusChangeEvent;
    event.orderId = orderId;
    modify?.(p);
  });
}

const merchantState = (record: OrderRecord | undefined) =>
  record?.externalId ? orderSystem.states.get(record.externalId) : undefined;

describe.each([
  ['the built-in ledger', false],
  ['an HTTP order system', true],
] as const)('a settled payment stays settled (%s)', (_, http) => {
  it('keeps a Sevi order delivered and PAID when the FAILED of a first attempt arrives after PAID', async () => {
    const deps = workerDeps(http);
    const orderId = `SV-${randomUUID()}`;
    await deliver(deps, sevi(orderId, 'PAID'), sevi(orderId, 'FAILED'));
    const order = await stored('sevi', orderId);
    expect(order).toMatchObject({ status: 'delivered', paymentStatus: 'paid', providerStatus: 'PAID' });
    expect(order?.history.at(-1)).toMatchObject({
      from: 'delivered',
      to: 'payment_failed',
      outcome: 'ignored',
    });
    if (http) expect(merchantState(order)).toMatchObject({ status: 'delivered', paymentStatus: 'paid' });
  });

  it('records a word it cannot place after an approval, keeps the order paid, logs and counts it', async () => {
    const deps = workerDeps(http);
    const orderId = randomUUID();
    await deliver(
      deps,
      wix('transaction-approved', orderId),
      wix('transaction-approved', orderId, (p) => {
        p.transactionEvent.transactionStatus = 'CHARGEBACK_REVIEW';
      }),
    );
    const order = await stored('wix-cashier-pay', orderId);
    expect(order).toMatchObject({ status: 'paid', providerStatus: 'APPROVED' });
    expect(order?.history).toContainEqual(
      expect.objectContaining({ field: 'provider-status', to: 'CHARGEBACK_REVIEW', outcome: 'ignored' }),
    );
    expect(deps.metrics.counts[METRIC.statusKeptOut]).toBe(1);
    expect(deps.log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'status word kept out of a settled order',
        extra: expect.objectContaining({ providerStatus: 'CHARGEBACK_REVIEW', status: 'paid' }),
      }),
    );
    if (http) expect(merchantState(order)).toMatchObject({ status: 'paid' });
  });

  it('never lets a word it cannot place replace an ended subscription', async () => {
    const deps = workerDeps(http);
    const orderId = randomUUID();
    await deliver(
      deps,
      wix('subscription-cancelled', orderId),
      wix('subscription-cancelled', orderId, (p) => {
        p.subscriptionStatusChangeEvent.status = 'IN_PROCESS';
      }),
    );
    expect((await stored('wix-cashier-pay', orderId))?.subscriptionStatus).toBe('SUBSCRIPTION_CANCELLED');
    expect(deps.metrics.counts[METRIC.statusKeptOut]).toBe(1);
  });
});

describe('a status that returns', () => {
  it('applies a Sevi PENDING that follows a FAILED (the customer tries again), and a retried delivery changes nothing', async () => {
    const deps = workerDeps(false);
    const orderId = `SV-${randomUUID()}`;
    const outcomes = await deliver(
      deps,
      sevi(orderId, 'PENDING'),
      sevi(orderId, 'FAILED'),
      sevi(orderId, 'PENDING'),
      sevi(orderId, 'PENDING'),
    );
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'duplicate']);
    const order = await stored('sevi', orderId);
    expect(order).toMatchObject({ status: 'pending', providerStatus: 'PENDING', paymentStatus: 'pending' });
    expect(order?.history.filter((h) => h.field === 'status').map((h) => h.to)).toEqual([
      'pending',
      'payment_failed',
      'pending',
    ]);

    // And a PAID after that settles it; a FAILED redelivered later cannot undo it (weighed again,
    // it would change nothing: a duplicate).
    expect(await deliver(deps, sevi(orderId, 'PAID'), sevi(orderId, 'FAILED'))).toEqual([
      'applied',
      'duplicate',
    ]);
    expect(await stored('sevi', orderId)).toMatchObject({ status: 'delivered', providerStatus: 'PAID' });
  });

  it('never takes an SQS retry of a delivery it already applied for a return (receive count above 1)', async () => {
    const deps = workerDeps(false);
    const orderId = `SV-${randomUUID()}`;
    const pending = sqsRecord(sevi(orderId, 'PENDING'));
    await deliver(deps, sevi(orderId, 'PENDING'), sevi(orderId, 'FAILED'));
    // The first PENDING's message, handed over again by SQS after a crash past its save.
    const retried = { ...pending, attributes: { ...pending.attributes, ApproximateReceiveCount: '2' } };
    const { results } = await processBatch([retried], deps, lambdaContext());
    expect(results[0]).toMatchObject({ failed: false, outcome: 'duplicate' });
    expect(await stored('sevi', orderId)).toMatchObject({
      status: 'payment_failed',
      providerStatus: 'FAILED',
    });
  });

  it('applies a Wix subscription that returns to a status it had before', async () => {
    const deps = workerDeps(false);
    const orderId = randomUUID();
    const active = wix('subscription-active', orderId);
    const inProcess = wix('subscription-active', orderId, (p) => {
      p.subscriptionStatusChangeEvent.status = 'IN_PROCESS';
    });
    const outcomes = await deliver(deps, active, inProcess, active, active);
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'duplicate']);
    expect((await stored('wix-cashier-pay', orderId))?.subscriptionStatus).toBe('SUBSCRIPTION_ACTIVE');
  });

  it('pushes the returned status to the HTTP order system', async () => {
    const deps = workerDeps(true);
    const orderId = randomUUID();
    const approved = wix('transaction-approved', orderId);
    const active = wix('subscription-active', orderId);
    const inProcess = wix('subscription-active', orderId, (p) => {
      p.subscriptionStatusChangeEvent.status = 'IN_PROCESS';
    });
    await deliver(deps, approved, active, inProcess, active);
    const order = await stored('wix-cashier-pay', orderId);
    expect(merchantState(order)).toMatchObject({ status: 'paid', subscriptionStatus: 'SUBSCRIPTION_ACTIVE' });
  });
});
