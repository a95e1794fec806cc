import { randomUUID } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { applyOrderEvent, type OrderRecord } from '../../shared/domain/order-record';
import { dynamoItemBytes } from '../../shared/domain/record-size';
import {
  DETAILS_SK_PREFIX,
  listOrders,
  ORDER_SK,
  OrderStore,
  orderItemPk,
  ordersDocumentClient,
  WRITE_UNIT_BYTES,
} from '../../shared/order-system/ledger';
import { createTestTables, testDynamoClient } from '../support/aws';
import { must } from '../support/fake-worker';

const client = testDynamoClient();
const doc = ordersDocumentClient(client);
let table: string;
beforeAll(async () => {
  table = (await createTestTables(client)).orders;
});

/** A paid ReCharge order whose canonical order takes most of a KB deflated (`lines` line items). */
function paidOrder(orderId: string, lines = 40, title = 'Morning Roast'): OrderRecord {
  return applyOrderEvent(
    undefined,
    {
      ref: { provider: 'recharge', orderId },
      topic: 'order/created',
      statusPath: ['paid'],
      createExternal: true,
      occurredAt: '2026-12-01T10:00:00Z',
      order: {
        source: { provider: 'recharge', orderId },
        references: { rechargeOrderId: orderId },
        customer: { email: 'ada@example.com', firstName: 'Ada' },
        lineItems: Array.from({ length: lines }, (_, i) => ({
          title: `${title} ${i}`,
          quantity: (i % 3) + 1,
          sku: `SKU-${i}-${(i * 7919) % 1000}`,
          unitPrice: `${10 + i}.00`,
        })),
        currency: 'EUR',
      },
    },
    { deliveryKey: `recharge:${randomUUID()}`, now: '2026-12-01T10:00:01.000Z' },
  ).record;
}

/** Every item of the order's partition, raw. */
async function partition(orderId: string) {
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': orderItemPk({ provider: 'recharge', orderId }) },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

const detailsItems = async (orderId: string) =>
  (await partition(orderId)).filter((item) => String(item.sk).startsWith(DETAILS_SK_PREFIX));

describe('the order item and its details item', () => {
  it('keeps the item every step rewrites under one write unit: the canonical order in a details item', async () => {
    const store = new OrderStore(client, table);
    const orderId = randomUUID();
    const record = paidOrder(orderId);

    const saved = must(await store.save(record, undefined));

    const items = await partition(orderId);
    const core = must(items.find((item) => item.sk === ORDER_SK));
    expect(dynamoItemBytes(core)).toBeLessThanOrEqual(WRITE_UNIT_BYTES);
    expect(core.orderZ).toBeUndefined();
    expect(core.detailsRef).toBe(saved.detailsRef);
    expect(await detailsItems(orderId)).toHaveLength(1);
    // One Query reads both back as the record that was written.
    const read = must(await store.get({ provider: 'recharge', orderId }));
    expect(read.order).toEqual(record.order);
    expect(read.history).toEqual(record.history);
    expect(read.stateVersion).toBe(record.stateVersion);
  });

  it('writes the details item only when the canonical order changes, and deletes the one it replaced', async () => {
    const store = new OrderStore(client, table);
    const orderId = randomUUID();
    const first = must(await store.save(paidOrder(orderId), undefined));

    // A state-only change: the details item is not written again.
    const second = must(await store.save({ ...first, status: 'delivered' }, first.version));
    expect(second.detailsRef).toBe(first.detailsRef);
    expect(await detailsItems(orderId)).toHaveLength(1);

    const changed = { ...second, order: paidOrder(orderId, 40, 'Green Tea').order };
    const third = must(await store.save(changed, second.version));

    expect(third.detailsRef).not.toBe(first.detailsRef);
    const details = await detailsItems(orderId);
    expect(details.map((item) => item.sk)).toEqual([`${DETAILS_SK_PREFIX}${third.detailsRef}`]);
    expect(must(await store.get({ provider: 'recharge', orderId })).order).toEqual(changed.order);
  });

  it('hands back a refused write with the canonical order the stored item names', async () => {
    const store = new OrderStore(client, table);
    const orderId = randomUUID();
    const first = must(await store.save(paidOrder(orderId), undefined));
    const newer = { ...first, order: paidOrder(orderId, 40, 'Oat Bar').order };
    must(await store.save(newer, first.version));

    // A writer still holding version 1, with yet other details: refused, handed the stored record whole.
    const stale = { ...first, order: paidOrder(orderId, 40, 'Mug').order };
    const out = await store.write(stale, first.version);

    expect(out.written).toBe(false);
    if (out.written) return;
    expect(out.current?.version).toBe(2);
    expect(out.current?.order).toEqual(newer.order);
    // The details item the refused writer put is named by nobody: it is deleted again.
    expect(await detailsItems(orderId)).toHaveLength(1);
  });

  it('never deletes a details item a newer version names again (a slow writer deleting what it replaced)', async () => {
    const slowClient = testDynamoClient();
    let releaseDelete: () => void = () => undefined;
    const deleteHeld = new Promise<void>((resolve) => {
      releaseDelete = resolve;
    });
    let deleteReached: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      deleteReached = resolve;
    });
    slowClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteItemCommand') {
          deleteReached();
          await deleteHeld;
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdDeletes' },
    );
    const slow = new OrderStore(slowClient, table);
    const fast = new OrderStore(client, table);
    const orderId = randomUUID();
    const a = paidOrder(orderId);
    const v1 = must(await fast.save(a, undefined));

    // The slow writer replaces details A with B (version 2); its delete of A waits.
    const slowWrite = slow.save({ ...v1, order: paidOrder(orderId, 40, 'Green Tea').order }, v1.version);
    await reached;
    const v2 = must(await fast.get({ provider: 'recharge', orderId }));
    expect(v2.version).toBe(2);
    // Another writer brings details A back (version 3), deleting B.
    must(await fast.save({ ...v2, order: a.order }, v2.version));
    releaseDelete();
    await slowWrite;

    // A is named by version 3: the slow writer's delete was refused, so the order reads whole.
    const read = must(await fast.get({ provider: 'recharge', orderId }));
    expect(read.version).toBe(3);
    expect(read.order).toEqual(a.order);
    expect(await detailsItems(orderId)).toHaveLength(1);
  });

  it('loads an item in the shape written before details items and upgrades it on its next write', async () => {
    const store = new OrderStore(client, table);
    const orderId = randomUUID();
    const record = paidOrder(orderId);
    // As the store wrote it before: the canonical order and the history packed on the item, every
    // other attribute (and every step) plain.
    const { order, history: raw, ...plain } = { ...record, version: 4 };
    const history = JSON.parse(JSON.stringify(raw)) as OrderRecord['history'];
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: orderItemPk({ provider: 'recharge', orderId }),
          sk: ORDER_SK,
          entity: 'order',
          ...plain,
          externalId: 'ord_old',
          externalNumber: '1001',
          steps: { 'create-order': { status: 'COMPLETED', result: { id: 'ord_old', number: '1001' } } },
          orderZ: deflateRawSync(JSON.stringify(order)),
          historyZ: deflateRawSync(JSON.stringify(history)),
        },
      }),
    );

    const loaded = must(await store.get({ provider: 'recharge', orderId }));
    expect(loaded.order).toEqual(order);
    expect(loaded.history).toEqual(history);
    expect(loaded.steps?.['create-order']?.status).toBe('COMPLETED');
    expect(loaded.detailsRef).toBeUndefined();

    must(await store.save({ ...loaded, status: 'delivered' }, loaded.version));

    const core = must((await partition(orderId)).find((item) => item.sk === ORDER_SK));
    expect(core.orderZ).toBeUndefined();
    expect(core.historyZ).toBeUndefined();
    expect(core.version).toBe(5);
    expect(dynamoItemBytes(core)).toBeLessThanOrEqual(WRITE_UNIT_BYTES);
    expect(await detailsItems(orderId)).toHaveLength(1);
    const upgraded = must(await store.get({ provider: 'recharge', orderId }));
    expect(upgraded).toMatchObject({ status: 'delivered', externalId: 'ord_old', order, history });
    expect(upgraded.steps?.['create-order']?.result).toEqual({ id: 'ord_old', number: '1001' });
  });

  it('lists orders with their canonical order, read from the details items by the same Scan', async () => {
    const store = new OrderStore(client, table);
    const orderId = randomUUID();
    const record = paidOrder(orderId);
    must(await store.save(record, undefined));

    const listed = (await listOrders(client, table, { provider: 'recharge' })).find(
      (o) => o.providerOrderId === orderId,
    );

    expect(listed?.order).toEqual(record.order);
  });
});
