import { makeHandler } from '../../functions/worker/handler';
import { TransientError } from '../../shared/errors';
import { HttpOrderSystem } from '../../shared/order-system/http';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import { type FakeOrderSystem, startFakeOrderSystem } from '../support/fake-order-system';
import {
  createWorkerWorld,
  drainQueue,
  type JsonObject,
  lambdaContext,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

const SECRET = 'order-system-test-secret-0123456789';
let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
beforeAll(async () => {
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(SECRET)]);
});
afterAll(async () => {
  await Promise.all([world.close(), orderSystem.close()]);
});
beforeEach(() => {
  world.recharge.reset();
  orderSystem.requests.length = 0;
});

const httpEnv = () => ({
  ORDER_SYSTEM: 'http',
  ORDER_SYSTEM_URL: orderSystem.url,
  ORDER_SYSTEM_SECRET: SECRET,
  ORDER_SYSTEM_TIMEOUT_MS: '300',
});

let nextId = 700_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
function recharge(name: string, modify?: (o: JsonObject) => void) {
  nextId += 10;
  const id = nextId;
  return {
    orderId: String(id),
    webhook: sampleWebhook('recharge', name, (p) => {
      p.order.id = id;
      p.order.charge.id = id + 1;
      modify?.(p.order);
    }),
  };
}

describe('HTTP order system', () => {
  it('creates the order with a signed, idempotent POST and writes its ids back to ReCharge', async () => {
    const handler = makeHandler(world.deps({ env: httpEnv() }));
    const { orderId, webhook } = recharge('2021-11-created-regular');

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(orderSystem.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 201']);
    const post = orderSystem.requests[0];
    expect(post?.headers['idempotency-key']).toBe(`recharge:${orderId}:create`);
    expect(post?.body).toMatchObject({
      source: { provider: 'recharge', orderId },
      status: 'paid',
      currency: 'USD',
      lineItems: [expect.objectContaining({ sku: 'ROAST-12-WB' })],
    });
    const created = orderSystem.orders.get(`recharge:${orderId}:create`);
    expect(world.recharge.applied()[0]?.body).toEqual({
      external_order_id: { ecommerce: created?.id },
      external_order_number: { ecommerce: created?.number },
    });
    const stored = await getOrderByProviderRef(world.dynamo, world.tables.orders, {
      provider: 'recharge',
      orderId,
    });
    expect(stored?.externalId).toBe(created?.id);
  });

  it("PATCHes the order's whole current state with a higher version after a later change", async () => {
    const handler = makeHandler(world.deps({ env: httpEnv() }));
    const { orderId, webhook } = recharge('2021-11-created-regular');
    await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    const refund = sampleWebhook('recharge', '2021-11-updated-refunded', (p) => {
      p.order.id = Number(orderId);
    });
    const result = await handler(sqsEvent([sqsRecord(refund)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const created = orderSystem.orders.get(`recharge:${orderId}:create`);
    const patch = orderSystem.requests.find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe(`/orders/${created?.id}`);
    expect(patch?.status).toBe(200);
    const post = orderSystem.requests.find((r) => r.method === 'POST');
    const createdVersion = Number(post?.headers['x-order-webhooks-version']);
    const pushedVersion = Number(patch?.headers['x-order-webhooks-version']);
    expect(pushedVersion).toBeGreaterThan(createdVersion);
    expect(patch?.headers['idempotency-key']).toBe(`recharge:${orderId}:state:${pushedVersion}`);
    expect(patch?.body).toMatchObject({
      id: created?.id,
      version: pushedVersion,
      status: 'refunded',
      paymentStatus: 'refunded',
      providerStatus: 'refunded',
    });
    expect(orderSystem.states.get(String(created?.id))).toMatchObject({ status: 'refunded' });
  });

  it('pushes a status change that was applied while the order was being created', async () => {
    const handler = makeHandler(world.deps({ env: { ...httpEnv(), ORDER_SYSTEM_TIMEOUT_MS: '5000' } }));
    const { orderId, webhook } = recharge('2021-11-created-regular');
    const refund = sqsRecord(
      sampleWebhook('recharge', '2021-11-updated-refunded', (p) => {
        p.order.id = Number(orderId);
      }),
    );
    const held = orderSystem.holdNext();
    const creating = handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    await held.reached;
    // The refund is applied to the order item while the POST that creates the order is in flight.
    let result = await handler(sqsEvent([refund]), lambdaContext());
    held.release();
    expect((await creating).batchItemFailures).toEqual([]);
    // SQS redelivers whatever was reported failed.
    for (let i = 0; i < 3 && result.batchItemFailures.length > 0; i++)
      result = await handler(sqsEvent([refund]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);

    const created = orderSystem.orders.get(`recharge:${orderId}:create`);
    const told = orderSystem.requests
      .filter((r) => r.path === '/orders' || r.path === `/orders/${created?.id}`)
      .filter((r) => r.status !== undefined && r.status < 300)
      .map((r) => (r.body as { status?: string }).status);
    // The merchant's system ends up with the order's current status, not the one it was created with.
    expect(told.at(-1)).toBe('refunded');
  });

  it("never pushes a retried delivery's older state over a newer one (partial refund 503, full refund, redelivery)", async () => {
    const handler = makeHandler(world.deps({ env: httpEnv() }));
    const { orderId, webhook } = recharge('2021-11-created-regular');
    const refundOf = (status: string, updatedAt: string) =>
      sqsRecord(
        sampleWebhook('recharge', '2021-11-updated-refunded', (p) => {
          p.order.id = Number(orderId);
          p.order.status = status;
          p.order.updated_at = updatedAt;
        }),
      );
    const partial = refundOf('partially_refunded', '2026-11-21T09:00:00');
    const full = refundOf('refunded', '2026-11-21T10:00:00');
    await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    orderSystem.failNext(503);
    expect((await handler(sqsEvent([partial]), lambdaContext())).batchItemFailures).toHaveLength(1);
    expect((await handler(sqsEvent([full]), lambdaContext())).batchItemFailures).toEqual([]);
    // SQS redelivers the partial refund (or an operator redrives it from the DLQ days later).
    expect((await handler(sqsEvent([partial]), lambdaContext())).batchItemFailures).toEqual([]);

    const created = orderSystem.orders.get(`recharge:${orderId}:create`);
    const told = orderSystem.requests
      .filter((r) => r.method === 'PATCH' && r.path === `/orders/${created?.id}` && r.status === 200)
      .map((r) => (r.body as { status?: string }).status);
    expect(told).toEqual(['refunded']);
    expect(orderSystem.states.get(String(created?.id))).toMatchObject({ status: 'refunded' });
    const stored = await getOrderByProviderRef(world.dynamo, world.tables.orders, {
      provider: 'recharge',
      orderId,
    });
    expect(stored?.status).toBe('refunded');
  });

  it('creates a paid order whose refund arrived before its order/created, with the final status', async () => {
    const handler = makeHandler(world.deps({ env: httpEnv() }));
    const { orderId, webhook } = recharge('2021-11-created-regular');
    const refund = sampleWebhook('recharge', '2021-11-updated-refunded', (p) => {
      p.order.id = Number(orderId);
    });
    expect((await handler(sqsEvent([sqsRecord(refund)]), lambdaContext())).batchItemFailures).toEqual([]);
    expect((await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext())).batchItemFailures).toEqual([]);

    const posts = orderSystem.requests.filter((r) => r.method === 'POST' && r.status === 201);
    expect(posts).toHaveLength(1);
    const created = orderSystem.orders.get(`recharge:${orderId}:create`);
    expect(orderSystem.states.get(String(created?.id))).toMatchObject({ status: 'refunded' });
    expect(world.recharge.applied().filter((c) => c.path === `/orders/${orderId}`)).toHaveLength(1);
  });

  it('retries a 503 through SQS and still creates one order', async () => {
    const handler = makeHandler(world.deps({ env: httpEnv() }));
    const { orderId, webhook } = recharge('2021-11-created-regular');
    orderSystem.failNext(503);
    const first = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(first.batchItemFailures).toHaveLength(1);
    const second = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(second.batchItemFailures).toEqual([]);
    expect([...orderSystem.orders.keys()].filter((k) => k.includes(orderId))).toHaveLength(1);
  });

  it('accepts a 409 carrying the existing ids as success', async () => {
    const handler = makeHandler(world.deps({ env: httpEnv() }));
    const { orderId, webhook } = recharge('2021-11-created-regular');
    orderSystem.orders.set(`recharge:${orderId}:create`, { id: 'ext-existing', number: '4242', body: {} });
    orderSystem.states.set('ext-existing', { version: 1, status: 'paid' });
    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(orderSystem.requests[0]?.status).toBe(409);
    const stored = await getOrderByProviderRef(world.dynamo, world.tables.orders, {
      provider: 'recharge',
      orderId,
    });
    expect(stored).toMatchObject({ externalId: 'ext-existing', externalNumber: '4242' });
  });

  it('moves a record the order system rejects (401: wrong secret) to the dead-letter queue', async () => {
    const handler = makeHandler(world.deps({ env: { ...httpEnv(), ORDER_SYSTEM_SECRET: `${SECRET}x` } }));
    const { webhook } = recharge('2021-11-created-regular');
    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    const [dead] = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(dead?.MessageAttributes?.failureStep?.StringValue).toBe('create-order');
    expect(dead?.MessageAttributes?.failureReason?.StringValue).toBe('order system rejected create with 401');
    expect(JSON.stringify(dead?.MessageAttributes)).not.toContain('wrong-secret');
    expect(world.recharge.requests).toHaveLength(0);
  });

  it("bounds an order system call by the invocation's remaining time, not only by its own timeout", async () => {
    const handler = makeHandler(
      world.deps({ env: { ...httpEnv(), ORDER_SYSTEM_TIMEOUT_MS: '30000' }, safetyMarginMs: 1000 }),
    );
    const record = sqsRecord(recharge('2021-11-created-regular').webhook);
    const held = orderSystem.holdNext();
    try {
      // 0.5 s of working time; the order system holds the POST far longer than the invocation lives.
      const result = await handler(sqsEvent([record]), lambdaContext(1500));
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    } finally {
      held.release();
    }
  });

  it('bounds a hung order system with its timeout and reports a transient error', async () => {
    const system = new HttpOrderSystem({ url: orderSystem.url, timeoutMs: 200, secret: async () => SECRET });
    orderSystem.failNext('hang');
    const call = system.createOrder({
      ref: { provider: 'sevi', orderId: 'hang-1' },
      order: { source: { provider: 'sevi', orderId: 'hang-1' }, references: {}, lineItems: [] },
      paymentStatus: 'paid',
      fulfilmentStatus: 'unfulfilled',
      version: 1,
      idempotencyKey: 'sevi:hang-1:create',
    });
    await expect(call).rejects.toBeInstanceOf(TransientError);
    await expect(call).rejects.toThrow('order system timed out');
  });
});
