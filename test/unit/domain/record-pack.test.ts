import { applyOrderEvent } from '../../../shared/domain/order-record';
import { dynamoItemBytes, packRecord, unpackRecord } from '../../../shared/domain/record-size';
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
});
