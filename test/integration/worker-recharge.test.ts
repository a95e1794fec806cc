import { DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { makeHandler } from '../../functions/worker/handler';
import { ATTENTION, METRIC } from '../../shared/metrics';
import { getOrderByProviderRef, ledgerOrderId, listOrders } from '../../shared/order-system/ledger';
import {
  createWorkerWorld,
  drainQueue,
  type JsonObject,
  lambdaContext,
  must,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  throughQueue,
  type WorkerWorld,
} from '../support/fake-worker';

let world: WorkerWorld;
beforeAll(async () => {
  world = await createWorkerWorld();
});
afterAll(async () => {
  await world.close();
});
beforeEach(() => world.recharge.reset());

let nextId = 900_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
/** A sample with fresh ReCharge order and charge ids, so tests sharing the tables never collide. */
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

const writes = (path: string) =>
  world.recharge.applied().filter((r) => r.method === 'PUT' && r.path === path);

/** The shortest lease the config allows (it must exceed the worker timeout), for crash tests. */
const crashEnv = { IDEMPOTENCY_LEASE_SECONDS: '2', WORKER_TIMEOUT_SECONDS: '1' };

/** Runs `webhook` through a worker that freezes for good after `step`, as a Lambda killed by a timeout would. */
async function crashAfter(step: string, webhook: ReturnType<typeof rechargeWebhook>['webhook']) {
  let crashed = false;
  const crashing = makeHandler(
    world.deps({
      env: crashEnv,
      hooks: {
        afterStep: (done) => {
          if (done !== step) return;
          crashed = true;
          return new Promise<void>(() => undefined);
        },
      },
    }),
  );
  void crashing(sqsEvent([sqsRecord(webhook)]), lambdaContext());
  for (let i = 0; i < 100 && !crashed; i++) await new Promise((r) => setTimeout(r, 20));
  expect(crashed).toBe(true);
}

async function order(orderId: string) {
  return getOrderByProviderRef(world.dynamo, world.tables.orders, { provider: 'recharge', orderId });
}

describe.each(['2021-01', '2021-11'] as const)('ReCharge API %s', (version) => {
  const env = { RECHARGE_API_VERSION: version };
  const expectedOrderBody = (id: string, number: string) =>
    version === '2021-01'
      ? { external_order_id: id, external_order_number: number }
      : { external_order_id: { ecommerce: id }, external_order_number: { ecommerce: number } };

  it('creates a regular order once and writes its id and number back to the ReCharge order', async () => {
    const handler = makeHandler(world.deps({ env }));
    const { orderId, webhook } = rechargeWebhook(`${version}-created-regular`);
    const [record] = await throughQueue(world.sqs, world.queues.queueUrl, [webhook]);
    const result = await handler(sqsEvent([must(record)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const stored = await order(orderId);
    expect(stored?.externalId).toBe(ledgerOrderId({ provider: 'recharge', orderId }));
    expect(Number(stored?.externalNumber)).toBeGreaterThanOrEqual(1001);
    expect(stored?.status).toBe('paid');
    expect(stored?.order.lineItems[0]).toMatchObject({ sku: 'ROAST-12-WB', quantity: 1, unitPrice: '29.99' });
    expect(stored?.order.customer?.email).toBe('jane.doe@example.com');

    const puts = world.recharge.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.path)).toEqual([`/orders/${orderId}`]);
    expect(puts[0]?.body).toEqual(
      expectedOrderBody(must(must(stored).externalId), must(must(stored).externalNumber)),
    );
    expect(puts[0]?.headers['x-recharge-version']).toBe(version);
  });

  it('writes a prepaid order back to the order and then its charge', async () => {
    const handler = makeHandler(world.deps({ env }));
    const { orderId, chargeId, webhook } = rechargeWebhook(`${version}-created-prepaid`);
    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const stored = await order(orderId);
    const puts = world.recharge.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.path)).toEqual([`/orders/${orderId}`, `/charges/${chargeId}`]);
    expect(puts[0]?.body).toEqual(
      expectedOrderBody(must(must(stored).externalId), must(must(stored).externalNumber)),
    );
    expect(puts[1]?.body).toEqual(
      version === '2021-01'
        ? { external_order_id: must(stored).externalId }
        : { external_order_id: { ecommerce: must(stored).externalId } },
    );
  });

  it('treats the order/updated echo of its own write-back as a no-op', async () => {
    const handler = makeHandler(world.deps({ env }));
    const { orderId, webhook } = rechargeWebhook(`${version}-created-regular`);
    await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    const stored = await order(orderId);
    const echo = rechargeWebhook(`${version}-updated-regular`, (o) => {
      o.id = Number(orderId);
      if (version === '2021-01') {
        o.external_order_id = must(stored).externalId;
        o.external_order_number = must(stored).externalNumber;
      } else {
        o.external_order_id = { ecommerce: must(stored).externalId };
        o.external_order_number = { ecommerce: must(stored).externalNumber };
      }
    }).webhook;

    const result = await handler(sqsEvent([sqsRecord(echo)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    expect(
      (await listOrders(world.dynamo, world.tables.orders)).filter((o) => o.providerOrderId === orderId),
    ).toHaveLength(1);
  });
});

describe('exactly once', () => {
  it('creates a regular order that arrives as created and processed only once', async () => {
    const handler = makeHandler(world.deps());
    const created = rechargeWebhook('2021-11-created-regular');
    const processed = sampleWebhook('recharge', '2021-11-processed-regular', (p) => {
      p.order.id = Number(created.orderId);
      p.order.charge.id = Number(created.chargeId);
    });
    expect(processed.deliveryKey).not.toBe(created.webhook.deliveryKey);

    await handler(sqsEvent([sqsRecord(created.webhook)]), lambdaContext());
    const first = await order(created.orderId);
    const result = await handler(sqsEvent([sqsRecord(processed)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const after = await order(created.orderId);
    expect(after?.externalNumber).toBe(first?.externalNumber);
    expect(writes(`/orders/${created.orderId}`)).toHaveLength(1);
  });

  it('turns 20 identical deliveries into one external order and one ReCharge PUT', async () => {
    const deps = world.deps();
    const handler = makeHandler(deps);
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    for (let i = 0; i < 20; i++) {
      const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
      expect(result.batchItemFailures).toEqual([]);
    }
    const orders = (await listOrders(world.dynamo, world.tables.orders)).filter(
      (o) => o.providerOrderId === orderId,
    );
    expect(orders).toHaveLength(1);
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    expect(deps.metrics.counts[METRIC.processed]).toBe(1);
    expect(deps.metrics.counts[METRIC.duplicate]).toBe(19);
  });

  it('turns 10 concurrent identical deliveries into one external order and one PUT; the rest settle on redelivery', async () => {
    const { orderId, webhook } = rechargeWebhook('2021-11-created-prepaid');
    world.recharge.setLatency(50);
    // Ten separate Lambda instances (own deps, own clients state), all at the same moment.
    const handlers = Array.from({ length: 10 }, () => makeHandler(world.deps()));
    const results = await Promise.all(
      handlers.map((h) => h(sqsEvent([sqsRecord(webhook)]), lambdaContext())),
    );
    world.recharge.setLatency(0);

    const failed = results.filter((r) => r.batchItemFailures.length > 0).length;
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    expect(writes(`/charges/${Number(orderId) + 1}`)).toHaveLength(1);
    // Copies that found the work in progress are retried by SQS; on redelivery they are duplicates.
    const retried = await Promise.all(
      Array.from({ length: failed }, () =>
        makeHandler(world.deps())(sqsEvent([sqsRecord(webhook)]), lambdaContext()),
      ),
    );
    expect(retried.every((r) => r.batchItemFailures.length === 0)).toBe(true);
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    const orders = (await listOrders(world.dynamo, world.tables.orders)).filter(
      (o) => o.providerOrderId === orderId,
    );
    expect(orders).toHaveLength(1);
  });

  it('resumes after a crash between creating the order and the ReCharge PUT without a second order', async () => {
    const { orderId, webhook } = rechargeWebhook('2021-11-created-prepaid');
    await crashAfter('create-order', webhook);
    const half = await order(orderId);
    expect(half?.externalId).toBeDefined();
    expect(world.recharge.requests).toHaveLength(0);

    const healthy = makeHandler(world.deps({ env: crashEnv }));
    const early = await healthy(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(early.batchItemFailures).toHaveLength(1);
    expect(world.recharge.requests).toHaveLength(0);

    await new Promise((r) => setTimeout(r, 2100));
    const resumed = await healthy(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(resumed.batchItemFailures).toEqual([]);
    const after = await order(orderId);
    expect(after?.externalId).toBe(half?.externalId);
    expect(after?.externalNumber).toBe(half?.externalNumber);
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    expect(writes(`/orders/${orderId}`)[0]?.body).toEqual({
      external_order_id: { ecommerce: half?.externalId },
      external_order_number: { ecommerce: half?.externalNumber },
    });
    expect(writes(`/charges/${Number(orderId) + 1}`)).toHaveLength(1);
  });
});

describe("a prepaid order's two write-backs, completed in one write", () => {
  it('resumes after a crash between the order PUT and the charge PUT: verifies the order with ReCharge, never PUTs it again', async () => {
    const { orderId, chargeId, webhook } = rechargeWebhook('2021-11-created-prepaid');
    // Frozen for good after the order PUT, before any completion was written.
    await crashAfter('recharge-put-order', webhook);
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    // The completion rides on the charge PUT's: the step is still in progress in the item.
    expect((await order(orderId))?.steps?.['recharge-put-order']).toMatchObject({ status: 'IN_PROGRESS' });

    await new Promise((r) => setTimeout(r, 2100));
    const resumed = await makeHandler(world.deps({ env: crashEnv }))(
      sqsEvent([sqsRecord(webhook)]),
      lambdaContext(),
    );

    expect(resumed.batchItemFailures).toEqual([]);
    // The takeover asks ReCharge what it holds before deciding: the ids are there, so no second PUT.
    expect(world.recharge.requests.some((r) => r.method === 'GET' && r.path === `/orders/${orderId}`)).toBe(
      true,
    );
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    expect(writes(`/charges/${chargeId}`)).toHaveLength(1);
    const after = await order(orderId);
    expect(after?.steps?.['recharge-put-order']).toMatchObject({ status: 'COMPLETED' });
    expect(after?.steps?.[`recharge-put-charge#${chargeId}`]).toMatchObject({ status: 'COMPLETED' });
  });
});

describe("the ledger's number, taken before the save", () => {
  it('skips a number another delivery beat it to: one order, the first ids, the skip logged', async () => {
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    const other = { ...webhook, deliveryKey: `${webhook.deliveryKey}-other` };
    const first = world.deps();
    const racing = world.deps();
    // Between this delivery's number and its save, another delivery of the same order runs whole.
    const ledger = first.orderSystem;
    let raced = false;
    first.orderSystem = {
      kind: ledger.kind,
      idsBeforeSave: ledger.idsBeforeSave,
      createOrder: async (input) => {
        const issued = await ledger.createOrder(input);
        if (!raced) {
          raced = true;
          const result = await makeHandler(racing)(sqsEvent([sqsRecord(other)]), lambdaContext());
          expect(result.batchItemFailures).toEqual([]);
        }
        return issued;
      },
    };
    const won = await order(orderId);
    expect(won).toBeUndefined();

    const result = await makeHandler(first)(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const stored = must(await order(orderId));
    expect(stored.externalCreatedBy).toBe(other.deliveryKey);
    const skipped = first.log.lines.find((l) => l.message === 'order number skipped');
    expect(skipped?.extra?.number).toBeDefined();
    expect(skipped?.extra?.number).not.toBe(stored.externalNumber);
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    expect(writes(`/orders/${orderId}`)[0]?.body).toMatchObject({
      external_order_number: { ecommerce: stored.externalNumber },
    });
  });
});

describe('batches', () => {
  it('serialises records about one order inside a batch and runs the others alongside', async () => {
    const deps = world.deps();
    const handler = makeHandler(deps);
    const created = rechargeWebhook('2021-11-created-regular');
    const processed = sampleWebhook('recharge', '2021-11-processed-regular', (p) => {
      p.order.id = Number(created.orderId);
      p.order.charge.id = Number(created.chargeId);
    });
    const others = Array.from({ length: 7 }, () => rechargeWebhook('2021-01-created-regular'));
    const records = [created.webhook, created.webhook, processed, ...others.map((o) => o.webhook)].map((w) =>
      sqsRecord(w),
    );

    const result = await handler(sqsEvent(records), lambdaContext());

    // Same-order copies ran one after the other: none found the work "in progress elsewhere".
    expect(result.batchItemFailures).toEqual([]);
    expect(writes(`/orders/${created.orderId}`)).toHaveLength(1);
    for (const other of others) expect(writes(`/orders/${other.orderId}`)).toHaveLength(1);
    expect(deps.metrics.counts[METRIC.duplicate]).toBe(1);
    expect(deps.metrics.counts[METRIC.processed]).toBe(9);
  });

  it('starts no record once the invocation has used its working time, and leaves it to SQS', async () => {
    // The first record's work runs past the working time (1.5 s left minus the 1 s margin).
    const slow = (step: string) =>
      step === 'create-order' ? new Promise<void>((resolve) => setTimeout(resolve, 800)) : undefined;
    const handler = makeHandler(
      world.deps({ concurrency: 1, safetyMarginMs: 1000, hooks: { afterStep: slow } }),
    );
    const first = rechargeWebhook('2021-11-created-regular');
    const second = rechargeWebhook('2021-11-created-regular');
    const records = [sqsRecord(first.webhook), sqsRecord(second.webhook)];
    const result = await handler(sqsEvent(records), lambdaContext(1500));
    expect(result.batchItemFailures).toContainEqual({ itemIdentifier: must(records[1]).messageId });
    expect(await order(second.orderId)).toBeUndefined();

    const redelivered = await makeHandler(world.deps())(sqsEvent(records), lambdaContext());
    // The first record overran the working time: its AWS calls are cut off just before the
    // invocation ends, so on a slow machine it may be left to its lease (as a timed-out Lambda would).
    expect(redelivered.batchItemFailures).not.toContainEqual({ itemIdentifier: must(records[1]).messageId });
    expect((await order(second.orderId))?.externalId).toBe(
      ledgerOrderId({ provider: 'recharge', orderId: second.orderId }),
    );
  });

  it('logs one info line per record with provider, topic, order, delivery key and outcome; each step at debug', async () => {
    const deps = world.deps();
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    await makeHandler(deps)(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    const info = deps.log.lines.filter((l) => l.level !== 'debug');
    expect(info.map((l) => [l.level, l.message])).toEqual([['info', 'record handled']]);
    expect(JSON.parse(JSON.stringify(info[0]?.extra))).toEqual({
      messageId: expect.any(String),
      provider: 'recharge',
      topic: 'order/created',
      orderId,
      deliveryKey: webhook.deliveryKey,
      outcome: 'applied',
      durationMs: expect.any(Number),
    });
    expect(deps.log.lines.filter((l) => l.message === 'external call').length).toBeGreaterThan(0);
    expect(JSON.stringify(deps.log.lines)).not.toContain('jane.doe@example.com');
  });
});

describe('without idempotency records', () => {
  it('still keeps one external order per ReCharge order when every idempotency record is lost', async () => {
    const handler = makeHandler(world.deps());
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    const before = await order(orderId);

    const items = await world.dynamo.send(new ScanCommand({ TableName: world.tables.idempotency }));
    for (const item of items.Items ?? [])
      await world.dynamo.send(
        new DeleteItemCommand({ TableName: world.tables.idempotency, Key: { pk: must(item.pk) } }),
      );
    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const after = await order(orderId);
    expect(after?.externalId).toBe(before?.externalId);
    expect(after?.externalNumber).toBe(before?.externalNumber);
    const orders = (await listOrders(world.dynamo, world.tables.orders)).filter(
      (o) => o.providerOrderId === orderId,
    );
    expect(orders).toHaveLength(1);
  });
});

describe('ReCharge API failures', () => {
  it('waits out a 429 and then succeeds within the invocation', async () => {
    const deps = world.deps();
    const handler = makeHandler(deps);
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    world.recharge.setBehaviour({ mode: 429, times: 1 });

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const attempts = world.recharge.requests.filter((r) => r.path === `/orders/${orderId}`);
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    expect(must(attempts[1]).at - must(attempts[0]).at).toBeGreaterThanOrEqual(1900);
    expect(deps.metrics.counts[METRIC.recharge429]).toBe(1);
    expect(deps.metrics.counts[METRIC.rechargeCalls]).toBe(2);
  });

  it('retries a 500 and a hung call, then succeeds', async () => {
    const handler = makeHandler(world.deps({ env: { RECHARGE_TIMEOUT_MS: '300' } }));
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    world.recharge.setBehaviour({ mode: 500, times: 1 });
    const first = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(first.batchItemFailures).toEqual([]);
    // A 5xx may come after ReCharge applied the write: it is read back before the PUT is repeated.
    expect(world.recharge.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `PUT /orders/${orderId} 500`,
      `GET /orders/${orderId} 200`,
      `PUT /orders/${orderId} 200`,
    ]);

    const second = rechargeWebhook('2021-11-created-regular');
    world.recharge.reset();
    world.recharge.setBehaviour({ mode: 'hang', times: 1 });
    const result = await handler(sqsEvent([sqsRecord(second.webhook)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(writes(`/orders/${second.orderId}`)).toHaveLength(1);
    expect(
      world.recharge.requests.filter((r) => r.path === `/orders/${second.orderId}`).map((r) => r.method),
    ).toEqual(['PUT', 'GET', 'PUT']);
  });

  it('reports a record failed when ReCharge keeps failing past the remaining time, and completes it on redelivery', async () => {
    const handler = makeHandler(world.deps());
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    world.recharge.setBehaviour({ mode: 500 });
    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext(2500));
    expect(result.batchItemFailures).toHaveLength(1);
    const number = (await order(orderId))?.externalNumber;

    world.recharge.setBehaviour({ mode: 'ok' });
    const retry = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(retry.batchItemFailures).toEqual([]);
    expect((await order(orderId))?.externalNumber).toBe(number);
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
  });

  it('moves a record whose ReCharge order answers 404 to the dead-letter queue at once, with the reason', async () => {
    const deps = world.deps();
    const handler = makeHandler(deps);
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    world.recharge.setBehaviour({ mode: 404, pathPrefix: '/orders/' });
    const [record] = await throughQueue(world.sqs, world.queues.queueUrl, [webhook]);

    const result = await handler(sqsEvent([must(record)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(world.recharge.requests).toHaveLength(1);
    const [dead] = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(dead?.Body).toBe(webhook.body);
    const attrs = dead?.MessageAttributes ?? {};
    expect(attrs.failureClass?.StringValue).toBe('permanent');
    expect(attrs.failureStep?.StringValue).toBe('recharge-put-order');
    expect(attrs.failureReason?.StringValue).toBe(`recharge /orders/${orderId} answered 404`);
    expect(attrs.failedAt?.StringValue).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(attrs.deliveryKey?.StringValue).toBe(webhook.deliveryKey);
    expect(attrs.provider?.StringValue).toBe('recharge');
    expect(Object.keys(attrs).length).toBeLessThanOrEqual(10);
    expect(JSON.stringify(attrs)).not.toContain('test-recharge-token');
    expect(deps.metrics.counts[METRIC.permanentFailure]).toBe(1);
  });

  it.each([401, 403] as const)(
    'keeps every record when ReCharge refuses the token (%s): a setting to fix, never the DLQ',
    async (status) => {
      const deps = world.deps();
      const handler = makeHandler(deps);
      const { webhook } = rechargeWebhook('2021-11-created-regular');
      world.recharge.setBehaviour({ mode: status, pathPrefix: '/orders/' });
      const record = sqsRecord(webhook);

      const result = await handler(sqsEvent([record]), lambdaContext());

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
      expect(await drainQueue(world.sqs, world.queues.dlqUrl)).toEqual([]);
      expect(deps.metrics.counts[METRIC.configError]).toBe(1);
      expect(deps.metrics.attention).toEqual({ [ATTENTION.workerConfigError]: 1 });
      expect(deps.metrics.counts[METRIC.permanentFailure]).toBeUndefined();
      const problem = deps.log.lines.find(
        (l) => l.message === 'configuration problem: record kept for retry',
      );
      expect(problem?.level).toBe('error');
      expect(problem?.extra).toMatchObject({ needsAttention: ATTENTION.workerConfigError });
      expect(String(problem?.extra?.reason)).toContain('RECHARGE_API_TOKEN');
      expect(JSON.stringify(deps.log.lines)).not.toContain('test-recharge-token');

      // Once the token is fixed, the kept record completes without a second external order.
      world.recharge.setBehaviour({ mode: 'ok' });
      expect((await handler(sqsEvent([record]), lambdaContext())).batchItemFailures).toEqual([]);
      expect(
        (await listOrders(world.dynamo, world.tables.orders)).filter(
          (o) => o.providerOrderId === JSON.parse(webhook.body).order.id.toString(),
        ),
      ).toHaveLength(1);
    },
  );

  it('records an unsupported charge write-back (404) and completes the record', async () => {
    const deps = world.deps();
    const handler = makeHandler(deps);
    const { orderId, chargeId, webhook } = rechargeWebhook('2021-11-created-prepaid');
    world.recharge.setBehaviour({ mode: 404, pathPrefix: '/charges/' });

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(world.recharge.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      `/orders/${orderId} 200`,
      `/charges/${chargeId} 404`,
    ]);
    expect(deps.log.lines.some((l) => l.message === 'charge write-back unsupported')).toBe(true);
    expect(await drainQueue(world.sqs, world.queues.dlqUrl)).toEqual([]);
  });
});

describe('order lifecycle', () => {
  it('never lets a stale order/updated overwrite newer state', async () => {
    const handler = makeHandler(world.deps());
    const { orderId, webhook } = rechargeWebhook('2021-11-created-regular');
    await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    const refunded = sampleWebhook('recharge', '2021-11-updated-refunded', (p) => {
      p.order.id = Number(orderId);
      p.order.updated_at = '2026-11-21T10:00:00';
    });
    const older = sampleWebhook('recharge', '2021-11-updated-regular', (p) => {
      p.order.id = Number(orderId);
      p.order.updated_at = '2026-11-20T09:30:00';
      p.order.shipping_address.city = 'Old Town';
    });
    await handler(sqsEvent([sqsRecord(refunded)]), lambdaContext());
    const result = await handler(sqsEvent([sqsRecord(older)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const stored = await order(orderId);
    expect(stored?.status).toBe('refunded');
    expect(stored?.order.shippingAddress?.city).toBe('Portland');
    expect(stored?.history.at(-1)).toMatchObject({ outcome: 'stale', deliveryKey: older.deliveryKey });
  });

  it('applies a newer order/updated with changed addresses and line items', async () => {
    const handler = makeHandler(world.deps());
    const { orderId, webhook } = rechargeWebhook('2021-01-created-regular');
    await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    const updated = sampleWebhook('recharge', '2021-01-updated-regular', (p) => {
      p.order.id = Number(orderId);
      p.order.shipping_address.city = 'Salem';
      p.order.line_items[0].quantity = 2;
    });
    await handler(sqsEvent([sqsRecord(updated)]), lambdaContext());

    const stored = await order(orderId);
    expect(stored?.order.shippingAddress?.city).toBe('Salem');
    expect(stored?.order.lineItems[0]?.quantity).toBe(2);
    expect(stored?.history.some((h) => h.field === 'details' && h.outcome === 'applied')).toBe(true);
  });

  it('records a QUEUED order without creating it, and creates it when an order/updated says SUCCESS', async () => {
    const handler = makeHandler(world.deps());
    const { orderId, webhook } = rechargeWebhook('2021-11-created-queued');
    await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    const queued = await order(orderId);
    expect(queued?.status).toBe('pending');
    expect(queued?.externalId).toBeUndefined();
    expect(world.recharge.requests).toHaveLength(0);

    const success = sampleWebhook('recharge', '2021-11-updated-regular', (p) => {
      p.order.id = Number(orderId);
      p.order.external_order_id = { ecommerce: null };
      p.order.external_order_number = { ecommerce: null };
    });
    await handler(sqsEvent([sqsRecord(success)]), lambdaContext());
    const paid = await order(orderId);
    expect(paid?.status).toBe('paid');
    expect(paid?.externalId).toBeDefined();
    expect(writes(`/orders/${orderId}`)).toHaveLength(1);
  });

  it('heals a missed order/created: an order/updated SUCCESS for an unknown order creates it', async () => {
    const handler = makeHandler(world.deps({ env: { RECHARGE_API_VERSION: '2021-01' } }));
    const { orderId, webhook } = rechargeWebhook('2021-01-updated-regular', (o) => {
      o.external_order_id = null;
      o.external_order_number = null;
    });
    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    const stored = await order(orderId);
    expect(stored?.externalId).toBeDefined();
    expect(writes(`/orders/${orderId}`)[0]?.body).toEqual({
      external_order_id: stored?.externalId,
      external_order_number: stored?.externalNumber,
    });
  });

  it.each([
    ['created first', ['created', 'refund']],
    ['refund first', ['refund', 'created']],
  ] as const)(
    'creates a paid order and writes back once whatever the arrival order (%s)',
    async (_, sequence) => {
      const handler = makeHandler(world.deps());
      const { orderId, webhook: created } = rechargeWebhook('2021-11-created-regular');
      const refund = sampleWebhook('recharge', '2021-11-updated-refunded', (p) => {
        p.order.id = Number(orderId);
      });
      for (const which of sequence) {
        const result = await handler(
          sqsEvent([sqsRecord(which === 'created' ? created : refund)]),
          lambdaContext(),
        );
        expect(result.batchItemFailures).toEqual([]);
      }
      const stored = await order(orderId);
      expect(stored?.status).toBe('refunded');
      expect(stored?.externalId).toBe(ledgerOrderId({ provider: 'recharge', orderId }));
      expect(writes(`/orders/${orderId}`)).toHaveLength(1);
    },
  );

  it('moves a payload that fails its schema to the dead-letter queue and keeps the rest of the batch', async () => {
    const handler = makeHandler(world.deps());
    const bad = rechargeWebhook('2021-11-created-regular', (o) => {
      delete o.id;
    }).webhook;
    const good = rechargeWebhook('2021-11-created-regular');
    const badRecord = sqsRecord(bad);
    const result = await handler(sqsEvent([badRecord, sqsRecord(good.webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(writes(`/orders/${good.orderId}`)).toHaveLength(1);
    const [dead] = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(dead?.Body).toBe(bad.body);
    expect(dead?.MessageAttributes?.failureStep?.StringValue).toBe('parse-payload');
    expect(dead?.MessageAttributes?.failureReason?.StringValue).toContain('order.id');
  });

  it('moves a message the ingest did not produce (unknown provider attribute) to the dead-letter queue as permanent', async () => {
    const handler = makeHandler(world.deps());
    const { webhook } = rechargeWebhook('2021-11-created-regular');
    const foreign = sqsRecord(webhook);
    foreign.messageAttributes.provider = {
      ...must(foreign.messageAttributes.provider),
      stringValue: 'paypal',
    };
    const result = await handler(sqsEvent([foreign]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const [dead] = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(dead?.Body).toBe(webhook.body);
    expect(dead?.MessageAttributes?.failureClass?.StringValue).toBe('permanent');
    expect(dead?.MessageAttributes?.failureStep?.StringValue).toBe('parse-message');
    // The zod error is recognised as a schema failure (not logged as an unknown error with its issues).
    expect(dead?.MessageAttributes?.failureReason?.StringValue).toBe('payload failed its schema');
  });

  it('keeps a permanent failure on the main queue when the dead-letter queue cannot take it', async () => {
    const missingDlq = `${world.queues.dlqUrl}-does-not-exist`;
    const handler = makeHandler(world.deps({ env: { DLQ_URL: missingDlq } }));
    const bad = rechargeWebhook('2021-11-created-regular', (o) => {
      o.status = 42;
    }).webhook;
    const record = sqsRecord(bad);
    const result = await handler(sqsEvent([record]), lambdaContext());
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it('reports only the transient record as failed in a mixed batch', async () => {
    const handler = makeHandler(world.deps());
    const ok = rechargeWebhook('2021-11-created-regular');
    const flaky = rechargeWebhook('2021-11-created-regular');
    world.recharge.setBehaviour({ mode: 500, pathPrefix: `/orders/${flaky.orderId}` });
    const flakyRecord = sqsRecord(flaky.webhook);
    const result = await handler(sqsEvent([sqsRecord(ok.webhook), flakyRecord]), lambdaContext(6000));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: flakyRecord.messageId }]);
    expect(writes(`/orders/${ok.orderId}`)).toHaveLength(1);
  });
});
