import { randomBytes, randomUUID } from 'node:crypto';
import { makeHandler } from '../../functions/worker/handler';
import type { LineItem } from '../../shared/domain/order';
import { applyOrderEvent, type OrderRecord } from '../../shared/domain/order-record';
import {
  DYNAMODB_ITEM_LIMIT_BYTES,
  dynamoItemBytes,
  RECORD_BUDGET_BYTES,
} from '../../shared/domain/record-size';
import { PermanentError } from '../../shared/errors';
import { getOrderByProviderRef, OrderStore } from '../../shared/order-system/ledger';
import { ATTR } from '../../shared/queue/message';
import {
  createWorkerWorld,
  drainQueue,
  lambdaContext,
  must,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

/** DynamoDB Local enforces the 400 KB item limit as DynamoDB does. */
let world: WorkerWorld;
beforeAll(async () => {
  world = await createWorkerWorld();
});
afterAll(async () => {
  await world.close();
});

const lineItem = (i: number): LineItem => ({
  title: `Line ${i} ${'x'.repeat(480)}`,
  quantity: 1,
  sku: `SKU-${i}`,
  unitPrice: '1.00',
});

/** A new ledger record for a Sevi order with `count` line items of about 500 bytes each. */
function bigRecord(count: number, modify?: (record: OrderRecord) => void): OrderRecord {
  const orderId = randomUUID();
  const { record } = applyOrderEvent(
    undefined,
    {
      ref: { provider: 'sevi', orderId },
      topic: 'order/payment',
      statusPath: ['paid'],
      createExternal: true,
      order: {
        source: { provider: 'sevi', orderId },
        references: {},
        lineItems: Array.from({ length: count }, (_, i) => lineItem(i)),
      },
    },
    { deliveryKey: `d-${orderId}`, now: new Date().toISOString() },
  );
  modify?.(record);
  return record;
}

describe('order records and the 400 KB item limit', () => {
  it('stores an order whose line items alone exceed 400 KB, keeping the first ones that fit and counting the rest', async () => {
    const store = new OrderStore(world.dynamo, world.tables.orders);
    const record = bigRecord(2000);
    expect(dynamoItemBytes(record)).toBeGreaterThan(2 * DYNAMODB_ITEM_LIMIT_BYTES);

    const saved = await store.save(record, undefined);

    const stored = must(await store.get({ provider: 'sevi', orderId: record.providerOrderId }));
    expect(stored.version).toBe(saved?.version);
    const kept = stored.order.lineItems.length;
    expect(kept).toBeGreaterThan(100);
    expect(kept + must(stored.order.lineItemsOmitted)).toBe(2000);
    expect(stored.order.lineItems.map((l) => l.sku)).toEqual(
      Array.from({ length: kept }, (_, i) => `SKU-${i}`),
    );
    expect(dynamoItemBytes(stored)).toBeLessThanOrEqual(RECORD_BUDGET_BYTES);
    expect(stored.history).toEqual(record.history);
  });

  it('turns DynamoDB refusing an oversize item into a permanent error with its reason', async () => {
    // A budget above the limit lets the write reach DynamoDB's own check.
    const store = new OrderStore(world.dynamo, world.tables.orders, 4 * DYNAMODB_ITEM_LIMIT_BYTES);

    // Random titles: the order is stored compressed, and repeated text would fit after all.
    const record = bigRecord(1500, (r) => {
      for (const item of r.order.lineItems) item.title = randomBytes(360).toString('base64');
    });
    const write = store.save(record, undefined);

    await expect(write).rejects.toBeInstanceOf(PermanentError);
    await expect(write).rejects.toThrow("order record exceeds DynamoDB's 400 KB item limit");
  });

  it('refuses, permanently and before writing, a record too large outside its line items', async () => {
    const store = new OrderStore(world.dynamo, world.tables.orders);
    const record = bigRecord(1, (r) => {
      r.order.shippingAddress = { address1: 'y'.repeat(450 * 1024) };
    });

    await expect(store.save(record, undefined)).rejects.toThrow(
      /order record too large for DynamoDB: \d+ KB/,
    );
    expect(await store.get({ provider: 'sevi', orderId: record.providerOrderId })).toBeUndefined();
  });
});

describe('the worker with a ReCharge order of about 1 MB', () => {
  let nextId = 930_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  function hugeRechargeOrder(modify?: (order: Record<string, unknown>) => void) {
    nextId += 10;
    const id = nextId;
    const webhook = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
      p.order.id = id;
      if (p.order.charge) p.order.charge.id = id + 1;
      else p.order.charge_id = id + 1;
      const [first] = p.order.line_items;
      p.order.line_items = Array.from({ length: 2000 }, (_, i) => ({
        ...first,
        sku: `SKU-${i}`,
        title: `Item ${i} ${'z'.repeat(400)}`,
      }));
      modify?.(p.order);
    });
    return { orderId: String(id), webhook };
  }

  it('processes it: the order is created and its record bounded, nothing dead-lettered', async () => {
    const handler = makeHandler(world.deps({ env: { RECHARGE_API_VERSION: '2021-11' } }));
    const { orderId, webhook } = hugeRechargeOrder();
    expect(Buffer.byteLength(webhook.body)).toBeGreaterThan(DYNAMODB_ITEM_LIMIT_BYTES * 2);

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const stored = must(
      await getOrderByProviderRef(world.dynamo, world.tables.orders, { provider: 'recharge', orderId }),
    );
    expect(stored.externalId).toEqual(expect.any(String));
    expect(stored.order.lineItems.length + must(stored.order.lineItemsOmitted)).toBe(2000);
    expect(await drainQueue(world.sqs, world.queues.dlqUrl)).toHaveLength(0);
  });

  it('dead-letters an order whose record can never fit, as permanent and with the reason', async () => {
    const handler = makeHandler(world.deps({ env: { RECHARGE_API_VERSION: '2021-11' } }));
    const { webhook } = hugeRechargeOrder((order) => {
      order.line_items = [];
      (order.shipping_address as Record<string, unknown>).address1 = 'y'.repeat(450 * 1024);
    });

    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const [letter, ...others] = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(others).toHaveLength(0);
    expect(letter?.MessageAttributes?.[ATTR.failureClass]?.StringValue).toBe('permanent');
    expect(letter?.MessageAttributes?.[ATTR.failureReason]?.StringValue).toMatch(
      /order record too large for DynamoDB/,
    );
    expect(letter?.MessageAttributes?.[ATTR.failureStep]?.StringValue).toBe('apply-event');
  });
});
