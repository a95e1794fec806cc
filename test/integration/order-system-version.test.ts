import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermanentError } from '../../shared/errors';
import { HttpOrderSystem } from '../../shared/order-system/http';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import { processBatch } from '../../shared/worker/process-batch';
import { type FakeOrderSystem, startFakeOrderSystem } from '../support/fake-order-system';
import {
  createWorkerWorld,
  lambdaContext,
  sampleWebhook,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

/**
 * The HTTP order system tells us what it holds: a create answered 409 (and a push answered 409/412)
 * carries the version it keeps, and the worker records that version, not the one it sent.
 */

const SECRET = 'order-system-version-secret-0123456789';
let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
beforeAll(async () => {
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(SECRET)]);
});
afterAll(async () => {
  await Promise.all([world.close(), orderSystem.close()]);
});
afterEach(() => {
  orderSystem.reportVersion = true;
});

const deps = () =>
  world.deps({
    env: { ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: orderSystem.url, ORDER_SYSTEM_SECRET: SECRET },
  });

let nextId = 810_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
function order() {
  nextId += 10;
  const id = nextId;
  const created = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
    p.order.id = id;
    p.order.charge.id = id + 1;
  });
  const refunded = sampleWebhook('recharge', '2021-11-updated-refunded', (p) => {
    p.order.id = id;
  });
  return { orderId: String(id), created, refunded };
}

async function deliverOne(webhook: ReturnType<typeof sampleWebhook>, workerDeps = deps()) {
  const { results } = await processBatch([sqsRecord(webhook)], workerDeps, lambdaContext());
  return results[0];
}

describe.each([
  ['that reports the version it holds', true],
  ['that does not say which version it holds', false],
] as const)('a create whose answer was lost, with an order system %s', (_, reportVersion) => {
  it('pushes the refund saved meanwhile: the order system ends refunded, as in-order delivery leaves it', async () => {
    orderSystem.reportVersion = reportVersion;
    const { orderId, created, refunded } = order();

    // The create reaches the order system and is applied; its answer never comes back.
    orderSystem.loseNextAnswer();
    expect(await deliverOne(created)).toMatchObject({ failed: true, outcome: 'transient-failure' });
    const key = `recharge:${orderId}:create`;
    const external = orderSystem.orders.get(key);
    expect(orderSystem.states.get(String(external?.id))).toMatchObject({ version: 1, status: 'paid' });

    // The refund is saved next; its delivery creates again (same key: 409 with the first state's ids).
    expect(await deliverOne(refunded)).toMatchObject({ failed: false });
    // The first delivery is redelivered and finds everything done.
    expect(await deliverOne(created)).toMatchObject({ failed: false });

    const stored = await getOrderByProviderRef(world.dynamo, world.tables.orders, {
      provider: 'recharge',
      orderId,
    });
    expect(stored).toMatchObject({ status: 'refunded', externalId: external?.id });
    expect(orderSystem.states.get(String(external?.id))).toMatchObject({
      status: 'refunded',
      version: stored?.stateVersion,
    });
    const posts = orderSystem.requests.filter(
      (r) => r.method === 'POST' && r.headers['idempotency-key'] === key,
    );
    expect(posts.map((r) => r.status)).toEqual([201, 409]);
    // Told once: one PATCH of the refunded state, never a second create.
    const patches = orderSystem.requests.filter(
      (r) => r.method === 'PATCH' && r.path === `/orders/${external?.id}` && r.status === 200,
    );
    expect(patches.map((r) => (r.body as { status?: string }).status)).toEqual(['refunded']);
  });
});

describe('the HTTP order system client reads the version held', () => {
  let answer: { status: number; body: unknown } = { status: 409, body: {} };
  let url = '';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const client = () => new HttpOrderSystem({ url, timeoutMs: 2000, secret: async () => 's' });
  const base = {
    ref: { provider: 'sevi' as const, orderId: 'S-1' },
    paymentStatus: 'paid',
    fulfilmentStatus: 'delivered',
    idempotencyKey: 'sevi:S-1:create',
  };
  const create = () =>
    client().createOrder({
      ...base,
      order: { source: base.ref, references: {}, lineItems: [] },
      version: 3,
    });
  const push = () =>
    client().pushState({
      ...base,
      external: { id: 'E-1', number: '1' },
      version: 3,
      updatedAt: '2026-12-06T00:00:00.000Z',
    });

  it.each([
    [201, { id: 'E-1', number: '1' }, 3],
    [201, { id: 'E-1', number: '1', version: 3 }, 3],
    [409, { id: 'E-1', number: '1', version: 1 }, 1],
    [409, { id: 'E-1', number: '1', version: '2' }, 2],
    [409, { id: 'E-1', number: '1' }, undefined],
    [409, { id: 'E-1', number: '1', version: null }, undefined],
  ])('a create answered %s with %j holds version %s', async (status, body, held) => {
    answer = { status, body };
    expect(await create()).toEqual({
      id: 'E-1',
      number: '1',
      ...(held !== undefined ? { heldVersion: held } : {}),
    });
  });

  it.each([
    [200, {}, { outcome: 'pushed' }],
    [409, { version: 5 }, { outcome: 'superseded', heldVersion: 5 }],
    [412, { version: 3 }, { outcome: 'superseded', heldVersion: 3 }],
    [409, {}, { outcome: 'superseded' }],
  ])('a push answered %s with %j is %j', async (status, body, expected) => {
    answer = { status, body };
    expect(await push()).toEqual(expected);
  });

  it('refuses, with the reason, a push answered 409 by a system that holds an older version', async () => {
    answer = { status: 409, body: { version: 2 } };
    await expect(push()).rejects.toThrow(PermanentError);
    await expect(push()).rejects.toThrow('refused state version 3 while holding older version 2');
  });
});
