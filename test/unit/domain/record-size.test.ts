import { applyOrderEvent } from '../../../shared/domain/order-record';
import {
  boundRecordSize,
  dynamoItemBytes,
  orderWithAllLineItems,
  RECORD_BUDGET_BYTES,
} from '../../../shared/domain/record-size';

const base = () =>
  applyOrderEvent(
    undefined,
    {
      ref: { provider: 'sevi', orderId: 'o1' },
      topic: 'order/payment',
      statusPath: ['paid'],
      createExternal: true,
    },
    { deliveryKey: 'd0', now: '2026-01-01T00:00:00.000Z' },
  ).record;

describe('bounding an order record', () => {
  it('leaves a record within the budget untouched', () => {
    const record = base();

    expect(boundRecordSize(record)).toEqual({ record });
  });

  it('drops the oldest history entries when history is what is large, keeping the newest', () => {
    const record = base();
    record.history = Array.from({ length: 25 }, (_, i) => ({
      at: '2026-01-01T00:00:00.000Z',
      deliveryKey: `d${i}`,
      topic: 'order/payment',
      field: 'provider-status' as const,
      providerStatus: 'p'.repeat(20_000),
      outcome: 'recorded' as const,
    }));

    const { record: bounded, trimmed } = boundRecordSize(record);

    expect(dynamoItemBytes(bounded)).toBeLessThanOrEqual(RECORD_BUDGET_BYTES);
    expect(trimmed?.history).toBeGreaterThan(0);
    expect(bounded.history.at(-1)?.deliveryKey).toBe('d24');
    expect(bounded.history.map((h) => h.deliveryKey)).toEqual(
      record.history.slice(trimmed?.history).map((h) => h.deliveryKey),
    );
  });

  it("sends the event's full line items to the order system when the stored record left some out", () => {
    const stored = {
      source: { provider: 'sevi' as const, orderId: 'o1' },
      references: {},
      lineItems: [{ title: 'a', quantity: 1 }],
      lineItemsOmitted: 1,
    };
    const event = {
      ...stored,
      lineItems: [
        { title: 'a', quantity: 1 },
        { title: 'b', quantity: 2 },
      ],
      lineItemsOmitted: undefined,
    };

    expect(orderWithAllLineItems(stored, event)).toEqual({
      source: stored.source,
      references: {},
      lineItems: event.lineItems,
    });
    expect(orderWithAllLineItems(stored, undefined)).toBe(stored);
  });
});
