import { rechargeBehindReason, rechargeReconcileSource } from '../../../shared/providers/recharge/reconcile';
import { rechargeOrderSchema } from '../../../shared/providers/recharge/schemas';
import { RechargeClient } from '../../../shared/recharge-api/client';
import { MemoryRateBudget } from '../../../shared/recharge-api/rate-budget';
import type { OrderSnapshot } from '../../../shared/reconcile/types';

const order = (fields: Record<string, unknown>) =>
  rechargeOrderSchema.parse({ id: 42, status: 'success', updated_at: '2026-11-20T08:15:02', ...fields });
const synced: OrderSnapshot = {
  providerOrderId: '42',
  status: 'paid',
  providerStatus: 'success',
  sourceUpdatedAt: '2026-11-20T08:15:02.000Z',
  externalId: 'ord_1',
  externalNumber: '1001',
};

describe('when a ReCharge order is behind our record', () => {
  it('is in sync when status, time and written-back ids agree (both API versions)', () => {
    expect(
      rechargeBehindReason(order({ external_order_id: { ecommerce: 'ord_1' } }), synced),
    ).toBeUndefined();
    expect(
      rechargeBehindReason(order({ status: 'SUCCESS', external_order_id: 'ord_1' }), synced),
    ).toBeUndefined();
  });

  it.each([
    ['never seen', order({}), undefined, 'never-seen'],
    [
      'updated_at newer than ours',
      order({ updated_at: '2026-11-20T09:00:00', external_order_id: 'ord_1' }),
      synced,
      'newer-update',
    ],
    [
      'status ahead of ours',
      order({ status: 'refunded', external_order_id: 'ord_1' }),
      synced,
      'newer-status',
    ],
    ['paid but not created', order({}), { ...synced, externalId: undefined }, 'not-created'],
    [
      'refunded and never created',
      order({ status: 'refunded' }),
      { ...synced, status: 'refunded', externalId: undefined },
      'not-created',
    ],
    ['paid, ids not written back', order({ external_order_id: null }), synced, 'ids-not-written-back'],
    ['paid, someone else’s id', order({ external_order_id: 'shopify-9' }), synced, 'ids-not-written-back'],
  ])('%s', (_name, listed, record, reason) => {
    expect(rechargeBehindReason(listed, record as OrderSnapshot | undefined)).toBe(reason);
  });

  it('is not behind when ReCharge shows a status our state machine would ignore as a step back', () => {
    expect(rechargeBehindReason(order({ status: 'queued' }), { ...synced, status: 'paid' })).toBeUndefined();
  });

  it('is not behind for an unpaid order we hold at the same state', () => {
    const queued = { ...synced, status: 'pending', providerStatus: 'queued', externalId: undefined };
    expect(rechargeBehindReason(order({ status: 'QUEUED' }), queued)).toBeUndefined();
  });
});

describe('synthetic delivery', () => {
  const source = rechargeReconcileSource(
    new RechargeClient({
      baseUrl: 'http://127.0.0.1:9',
      version: '2021-11',
      token: async () => 't',
      timeoutMs: 100,
      budget: new MemoryRateBudget({ capacity: 1, perSecond: 1 }),
    }),
  );
  const raw = { id: 42, status: 'success', updated_at: '2026-11-20T08:15:02', extra_field: { kept: true } };

  it('carries the order exactly as the API returned it, as an order/updated from reconciliation', () => {
    const read = source.read(raw);
    if ('unreadable' in read) throw new Error(read.unreadable);
    const delivery = read.delivery('2026-12-01T00:00:00.000Z');
    expect(delivery).toMatchObject({
      provider: 'recharge',
      topic: 'order/updated',
      origin: 'reconcile',
      verification: 'recharge-api',
      deliveryKey: 'reconcile:recharge:42:2026-11-20T08:15:02:success',
    });
    expect(JSON.parse(delivery.body)).toEqual({ order: raw });
  });

  it('keys one order state the same on every pass, and a changed state differently', () => {
    const key = (o: object) => {
      const read = source.read(o);
      if ('unreadable' in read) throw new Error(read.unreadable);
      return read.delivery(new Date().toISOString()).deliveryKey;
    };
    expect(key(raw)).toBe(key({ ...raw }));
    expect(key({ ...raw, updated_at: '2026-11-20T08:15:03' })).not.toBe(key(raw));
    expect(key({ ...raw, status: 'refunded' })).not.toBe(key(raw));
    expect(key(raw).startsWith('recharge:')).toBe(false);
  });

  it('reports an order that does not match the schema as unreadable', () => {
    expect(source.read({ status: 'success' })).toEqual({ unreadable: expect.stringContaining('id') });
  });
});

describe('an order whose ReCharge field lacks our ids, by write-back mode and what the worker recorded', () => {
  const missing = order({ external_order_id: null });
  const completed = (qualifier: string, result: unknown) => ({
    status: 'COMPLETED' as const,
    qualifier,
    result,
  });

  it('is not behind while write-backs are off or shadowed (nothing would be written)', () => {
    expect(rechargeBehindReason(missing, synced, 'off')).toBeUndefined();
    expect(rechargeBehindReason(missing, synced, 'shadow')).toBeUndefined();
    expect(rechargeBehindReason(missing, synced, 'overwrite')).toBe('ids-not-written-back');
  });

  it('is not behind once the write-back stopped (a fight reported once), in any writing mode', () => {
    const stopped = {
      ...synced,
      steps: {
        'recharge-put-order': completed('ord_1', { updated: true }),
        'recharge-repair-order': completed('ord_1@2026-11-20T08:00:00.000Z', { outcome: 'repaired' }),
        'recharge-write-back-stopped': completed('ord_1@2026-11-20T08:15:02.000Z', {
          outcome: 'stopped',
          reason: 'gone-again',
        }),
      },
    };
    expect(rechargeBehindReason(missing, stopped, 'fill')).toBeUndefined();
    expect(rechargeBehindReason(missing, stopped, 'overwrite')).toBeUndefined();
  });

  it("is not behind in fill when fill kept another integration's ids; overwrite wants it", () => {
    const kept = {
      ...synced,
      steps: {
        'recharge-put-order': completed('ord_1', {
          updated: false,
          outcome: 'held-by-other',
          held: { id: '5960373420095' },
        }),
      },
    };
    const shopify = order({ external_order_id: { ecommerce: '5960373420095' } });
    expect(rechargeBehindReason(shopify, kept, 'fill')).toBeUndefined();
    expect(rechargeBehindReason(shopify, kept, 'overwrite')).toBe('ids-not-written-back');
  });

  it('is not behind when the worker already read this very ReCharge state back and found our ids', () => {
    const checked = {
      ...synced,
      steps: {
        'recharge-put-order': completed('ord_1', { updated: true }),
        'recharge-repair-order': completed('ord_1@2026-11-20T08:15:02.000Z', { outcome: 'in-place' }),
      },
    };
    expect(rechargeBehindReason(missing, checked)).toBeUndefined();
    expect(
      rechargeBehindReason(order({ external_order_id: null, updated_at: '2026-11-20T08:15:02' }), checked),
    ).toBeUndefined();
    const newer = { ...checked, sourceUpdatedAt: '2026-11-20T09:00:00.000Z' };
    expect(
      rechargeBehindReason(order({ external_order_id: null, updated_at: '2026-11-20T09:00:00' }), newer),
    ).toBe('ids-not-written-back');
  });
});
