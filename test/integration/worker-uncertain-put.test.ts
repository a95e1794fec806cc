import { makeHandler } from '../../functions/worker/handler';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import {
  createWorkerWorld,
  type JsonObject,
  lambdaContext,
  must,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

// ReCharge has no idempotency key: a write-back PUT whose outcome is unknown (a timeout, a 5xx, a
// crash mid-call) is verified with a GET before it is sent again. These tests make the fake apply a
// PUT and then answer late, fail or never answer, and count what reached it.

let world: WorkerWorld;
beforeAll(async () => {
  world = await createWorkerWorld();
});
afterAll(async () => {
  await world.close();
});
beforeEach(() => world.recharge.reset());

let nextId = 930_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
function rechargeWebhook(name: string, modify?: (order: JsonObject) => void) {
  nextId += 10;
  const id = nextId;
  return {
    orderId: String(id),
    chargeId: String(id + 1),
    webhook: sampleWebhook('recharge', name, (p) => {
      p.order.id = id;
      if (p.order.charge) p.order.charge.id = id + 1;
      else p.order.charge_id = id + 1;
      modify?.(p.order);
    }),
  };
}

/** Every request with this method and path that reached the fake (answered or not). */
const received = (method: string, path: string) =>
  world.recharge.requests.filter((r) => r.method === method && r.path === path);

async function stored(orderId: string) {
  return must(
    await getOrderByProviderRef(world.dynamo, world.tables.orders, { provider: 'recharge', orderId }),
  );
}

describe.each(['2021-01', '2021-11'] as const)('ReCharge API %s', (version) => {
  const expectedOrderIds = (id: string, number: string) =>
    version === '2021-01'
      ? { external_order_id: id, external_order_number: number }
      : { external_order_id: { ecommerce: id }, external_order_number: { ecommerce: number } };

  it('sends one PUT when ReCharge applied it but answered too late, and completes the step', async () => {
    const handler = makeHandler(
      world.deps({ env: { RECHARGE_API_VERSION: version, RECHARGE_TIMEOUT_MS: '300' } }),
    );
    const { orderId, webhook } = rechargeWebhook(`${version}-created-regular`);
    world.recharge.setBehaviour({ mode: 'hang', times: 1, method: 'PUT', applyFirst: true });

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const order = await stored(orderId);
    expect(received('PUT', `/orders/${orderId}`)).toHaveLength(1);
    expect(received('GET', `/orders/${orderId}`).map((r) => r.status)).toEqual([200]);
    expect(received('PUT', `/orders/${orderId}`)[0]?.body).toEqual(
      expectedOrderIds(must(order.externalId), must(order.externalNumber)),
    );
    expect(order.steps?.['recharge-put-order']).toMatchObject({
      status: 'COMPLETED',
      qualifier: order.externalId,
    });
  });

  it('sends one PUT to a prepaid charge that was applied before its answer was lost', async () => {
    const handler = makeHandler(
      world.deps({ env: { RECHARGE_API_VERSION: version, RECHARGE_TIMEOUT_MS: '300' } }),
    );
    const { orderId, chargeId, webhook } = rechargeWebhook(`${version}-created-prepaid`);
    world.recharge.setBehaviour({ mode: 'hang', times: 1, pathPrefix: '/charges/', applyFirst: true });

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const order = await stored(orderId);
    expect(received('PUT', `/orders/${orderId}`)).toHaveLength(1);
    expect(received('PUT', `/charges/${chargeId}`)).toHaveLength(1);
    expect(received('GET', `/charges/${chargeId}`).map((r) => r.status)).toEqual([200]);
    // The order's PUT was answered at once: nothing to verify there.
    expect(received('GET', `/orders/${orderId}`)).toHaveLength(0);
    expect(order.steps?.[`recharge-put-charge#${chargeId}`]).toMatchObject({
      status: 'COMPLETED',
      result: { outcome: 'updated' },
    });
  });
});

describe('across invocations', () => {
  it('keeps a write-back cut by the deadline for verification, and the redelivery makes no second PUT', async () => {
    // The PUT is applied, but its answer never comes: the invocation's working time ends first.
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    const env = { RECHARGE_TIMEOUT_MS: '5000' };
    world.recharge.setBehaviour({ mode: 'hang', times: 1, method: 'PUT', applyFirst: true });
    const cut = await makeHandler(world.deps({ env }))(sqsEvent([sqsRecord(webhook)]), lambdaContext(3000));
    expect(cut.batchItemFailures).toHaveLength(1);
    expect((await stored(orderId)).steps?.['recharge-put-order']).toMatchObject({
      status: 'IN_PROGRESS',
      uncertain: true,
    });

    const redelivered = await makeHandler(world.deps({ env }))(
      sqsEvent([sqsRecord(webhook)]),
      lambdaContext(),
    );

    expect(redelivered.batchItemFailures).toEqual([]);
    expect(received('PUT', `/orders/${orderId}`)).toHaveLength(1);
    expect(received('GET', `/orders/${orderId}`).map((r) => r.status)).toEqual([200]);
    expect((await stored(orderId)).steps?.['recharge-put-order']).toMatchObject({ status: 'COMPLETED' });
  });

  it('verifies after a crash mid-PUT (lease takeover) and makes no second PUT', async () => {
    const { orderId, webhook } = rechargeWebhook('2021-01-created-regular');
    // The shortest lease the config allows. The crashed attempt's PUT is applied and never answered
    // while the lease lapses: to the redelivery it is an attempt that died mid-call.
    const env = {
      IDEMPOTENCY_LEASE_SECONDS: '2',
      WORKER_TIMEOUT_SECONDS: '1',
      RECHARGE_API_VERSION: '2021-01',
    };
    world.recharge.setBehaviour({ mode: 'hang', times: 1, method: 'PUT', applyFirst: true });
    const crashedDeps = world.deps({ env: { ...env, RECHARGE_TIMEOUT_MS: '5000' } });
    const crashed = makeHandler(crashedDeps)(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    for (let i = 0; i < 100 && received('PUT', `/orders/${orderId}`).length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(world.recharge.applied().map((r) => `${r.method} ${r.path}`)).toEqual([`PUT /orders/${orderId}`]);

    await new Promise((r) => setTimeout(r, 2100));
    const redelivered = await makeHandler(world.deps({ env }))(
      sqsEvent([sqsRecord(webhook)]),
      lambdaContext(),
    );

    expect(redelivered.batchItemFailures).toEqual([]);
    expect(received('PUT', `/orders/${orderId}`)).toHaveLength(1);
    expect(received('GET', `/orders/${orderId}`)).toHaveLength(1);
    const order = await stored(orderId);
    expect(order.steps?.['recharge-put-order']).toMatchObject({ status: 'COMPLETED' });

    // The crashed attempt, should it wake up, verifies too: still one PUT, and it says its claim was lost.
    expect((await crashed).batchItemFailures).toEqual([]);
    expect(received('PUT', `/orders/${orderId}`)).toHaveLength(1);
    expect(crashedDeps.log.lines.some((e) => e.message === 'step claim lost before completion')).toBe(true);
  });

  it('answers a charge whose verification read is 404 as unsupported, without another PUT', async () => {
    const { orderId, chargeId, webhook } = rechargeWebhook('2021-11-created-prepaid');
    world.recharge.setBehaviour({ mode: 500, pathPrefix: '/charges/' });
    const failed = await makeHandler(world.deps())(sqsEvent([sqsRecord(webhook)]), lambdaContext(3000));
    expect(failed.batchItemFailures).toHaveLength(1);
    const putsBefore = received('PUT', `/charges/${chargeId}`).length;
    expect(putsBefore).toBeGreaterThanOrEqual(1);

    world.recharge.setBehaviour({ mode: 404, pathPrefix: '/charges/', method: 'GET' });
    const deps = world.deps();
    const redelivered = await makeHandler(deps)(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(redelivered.batchItemFailures).toEqual([]);
    expect(received('PUT', `/charges/${chargeId}`)).toHaveLength(putsBefore);
    expect(received('PUT', `/orders/${orderId}`)).toHaveLength(1);
    expect((await stored(orderId)).steps?.[`recharge-put-charge#${chargeId}`]).toMatchObject({
      status: 'COMPLETED',
      result: { outcome: 'unsupported', status: 404 },
    });
    expect(deps.log.lines.some((e) => e.message === 'charge write-back unsupported')).toBe(true);
  });
});

describe('verification that fails', () => {
  it('sends the PUT again when the verification read fails: the write-back is never lost', async () => {
    const handler = makeHandler(world.deps({ env: { RECHARGE_TIMEOUT_MS: '300' } }));
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    // The PUT and the GET that follows it both answer 500; the PUT after that goes through.
    world.recharge.setBehaviour({ mode: 500, times: 2 });

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(world.recharge.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `PUT /orders/${orderId} 500`,
      `GET /orders/${orderId} 500`,
      `PUT /orders/${orderId} 200`,
    ]);
    const order = await stored(orderId);
    expect(world.recharge.requests.at(-1)?.body).toEqual({
      external_order_id: { ecommerce: order.externalId },
      external_order_number: { ecommerce: order.externalNumber },
    });
    expect(order.steps?.['recharge-put-order']).toMatchObject({ status: 'COMPLETED' });
  });

  it('sends the PUT after a certain failure (429) without reading first', async () => {
    const handler = makeHandler(world.deps());
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    world.recharge.setBehaviour({ mode: 429, times: 1, retryAfterSeconds: 2 });

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(world.recharge.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `PUT /orders/${orderId} 429`,
      `PUT /orders/${orderId} 200`,
    ]);
  });
});
