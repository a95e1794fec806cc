import { makeHandler } from '../../functions/worker/handler';
import { type FakeOrderSystem, startFakeOrderSystem } from '../support/fake-order-system';
import {
  createWorkerWorld,
  lambdaContext,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

const SECRET = 'effect-log-test-secret-0123456789';
let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
beforeAll(async () => {
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(SECRET)]);
});
afterAll(async () => {
  await Promise.all([world.close(), orderSystem.close()]);
});

let nextId = 650_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
function prepaid() {
  nextId += 10;
  const id = nextId;
  return {
    orderId: String(id),
    chargeId: String(id + 1),
    webhook: sampleWebhook('recharge', '2021-11-created-prepaid', (p) => {
      p.order.id = id;
      p.order.charge.id = id + 1;
    }),
  };
}

/**
 * Each external effect of a record is one log line (target, method, path or order id, status,
 * duration, attempt), so an operator can see what the worker did, not only "processed": at debug when
 * it succeeded (the record's info line has the outcome), at warn when it did not.
 */
describe('worker effect log', () => {
  it('logs the ledger create and both ReCharge write-backs of a prepaid order at debug', async () => {
    const deps = world.deps();
    const { orderId, chargeId, webhook } = prepaid();

    await makeHandler(deps)(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    const lines = deps.log.lines.filter((l) => l.message === 'external call');
    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug', 'debug']);
    const calls = lines.map((l) => l.extra);
    expect(calls).toEqual([
      expect.objectContaining({
        target: 'ledger',
        method: 'create-order',
        orderId,
        status: 'ok',
        attempt: 1,
      }),
      expect.objectContaining({
        target: 'recharge',
        method: 'PUT',
        path: `/orders/${orderId}`,
        status: 200,
        attempt: 1,
      }),
      expect.objectContaining({
        target: 'recharge',
        method: 'PUT',
        path: `/charges/${chargeId}`,
        status: 200,
        attempt: 1,
      }),
    ]);
    for (const call of calls) expect(call?.durationMs).toEqual(expect.any(Number));
  });

  it('logs a ReCharge retry as a warning with its attempt number', async () => {
    const deps = world.deps();
    const { orderId, webhook } = prepaid();
    world.recharge.setBehaviour({ mode: 500, times: 1, pathPrefix: '/orders/' });

    await makeHandler(deps)(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    world.recharge.reset();

    const orderPuts = deps.log.lines.filter(
      (l) => l.message === 'external call' && l.extra?.path === `/orders/${orderId}`,
    );
    expect(orderPuts.map((l) => [l.level, l.extra?.method, l.extra?.status, l.extra?.attempt])).toEqual([
      ['warn', 'PUT', 500, 1],
      // The 500 leaves the outcome unknown: a verification read (attempt 0) before the PUT is repeated.
      ['debug', 'GET', 200, 0],
      ['debug', 'PUT', 200, 2],
    ]);
  });

  it('logs the HTTP order system call with its answer', async () => {
    const deps = world.deps({
      env: { ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: orderSystem.url, ORDER_SYSTEM_SECRET: SECRET },
    });
    const { orderId, webhook } = prepaid();

    await makeHandler(deps)(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    const create = deps.log.lines.find(
      (l) => l.message === 'external call' && l.extra?.target === 'order-system',
    );
    expect(create?.extra).toMatchObject({ method: 'POST', orderId, attempt: 1 });
    expect(create?.extra?.status).toEqual(expect.any(Number));
    expect(JSON.stringify(deps.log.lines)).not.toContain(SECRET);
  });
});
