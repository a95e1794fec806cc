import { applyOrderEvent } from '../../../shared/domain/order-record';
import {
  dynamoItemBytes,
  PROJECTED_STEPS,
  packRecord,
  unpackRecord,
} from '../../../shared/domain/record-size';
import { RECHARGE_WRITE_BACK_STEPS } from '../../../shared/providers/recharge/write-back';
import { WORKER_PROVIDERS } from '../../../shared/providers/worker-registry';
import { sampleWebhook } from '../../support/fake-worker';

/** A ReCharge order of `lines` line items, as the worker stores it after its first delivery. */
function storedOrder(lines: number) {
  const webhook = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
    const first = p.order.line_items[0];
    p.order.line_items = Array.from({ length: lines }, (_, i) => ({
      ...first,
      purchase_item_id: 900_000 + i,
      sku: `SKU-${i}-${(i * 7919) % 1000}`,
      title: `Product ${i} ${['Morning Roast', 'Green Tea', 'Oat Bar', 'Mug'][i % 4]}`,
      quantity: (i % 3) + 1,
    }));
  });
  const parsed = WORKER_PROVIDERS.recharge.parse(webhook);
  if (parsed.kind !== 'order') throw new Error('not an order');
  return applyOrderEvent(undefined, parsed.event, {
    deliveryKey: webhook.deliveryKey,
    now: '2026-12-06T20:00:00.000Z',
  }).record;
}

describe('order item serialisation', () => {
  it('stores a large canonical order compressed: under half its plain size, read back unchanged', () => {
    const record = storedOrder(25);

    const item = packRecord(record);

    expect(item.order).toBeUndefined();
    expect(item.orderZ).toBeInstanceOf(Uint8Array);
    expect(dynamoItemBytes(item)).toBeLessThan(dynamoItemBytes(record) / 2);
    expect(unpackRecord(item)).toEqual(record);
  });

  it('keeps small values plain, so a small item reads as before', () => {
    const record = { ...storedOrder(1), history: [] };

    const item = packRecord(record);

    expect(item.history).toEqual([]);
    expect(item.historyZ).toBeUndefined();
    expect(unpackRecord(item)).toEqual(record);
  });

  it('reads an item written plain (no packed attributes) as it is', () => {
    const record = storedOrder(25);

    expect(unpackRecord({ ...record })).toEqual(record);
  });

  it('packs everything no reader projects into restZ, keeping the steps the reconciler and doctor read plain', () => {
    const record = {
      ...storedOrder(25),
      externalId: 'ord_1',
      externalNumber: '1001',
      steps: {
        'create-order': {
          status: 'COMPLETED' as const,
          result: { id: 'ord_1' },
          completedAt: '2026-12-06T20:00:01.000Z',
        },
        'recharge-put-order': {
          status: 'COMPLETED' as const,
          qualifier: 'ord_1',
          completedAt: '2026-12-06T20:00:02.000Z',
        },
        'recharge-put-charge#9': { status: 'IN_PROGRESS' as const, token: 'abc', leaseUntil: 1 },
      },
    };

    const item = packRecord(record);

    expect(item.restZ).toBeInstanceOf(Uint8Array);
    for (const name of [
      'history',
      'transactions',
      'paymentStatus',
      'fulfilmentStatus',
      'stateVersion',
      'createdAt',
    ])
      expect(item[name]).toBeUndefined();
    // What queries filter or project on stays plain.
    expect(item).toMatchObject({ status: record.status, externalId: 'ord_1', externalNumber: '1001' });
    expect(item.steps).toEqual({ 'recharge-put-order': record.steps['recharge-put-order'] });
    expect(unpackRecord(item)).toEqual(record);
  });

  it('keeps plain exactly the ReCharge write-back steps the reconciler projects', () => {
    expect([...PROJECTED_STEPS].sort()).toEqual([...RECHARGE_WRITE_BACK_STEPS].sort());
  });
});
