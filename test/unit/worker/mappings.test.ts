import type { OrderEvent } from '../../../shared/domain/order-event';
import { PermanentError } from '../../../shared/errors';
import { mapRechargeStatus } from '../../../shared/providers/recharge/order';
import { parseRechargeWebhook } from '../../../shared/providers/recharge/process';
import { parseSeviWebhook } from '../../../shared/providers/sevi/process';
import { mapWixTransactionStatus } from '../../../shared/providers/wix-cashier-pay/order';
import { parseWixWebhook } from '../../../shared/providers/wix-cashier-pay/process';
import { must, queuedWebhook, sampleWebhook } from '../../support/fake-worker';

function event(parsed: ReturnType<typeof parseRechargeWebhook>): OrderEvent {
  if (parsed.kind !== 'order') throw new Error(`expected an order event, got ${parsed.reason}`);
  return parsed.event;
}

describe('ReCharge mapping, both API versions', () => {
  it('maps the 2021-01 and 2021-11 shapes of the same order to the same canonical order', () => {
    const v1 = event(parseRechargeWebhook(sampleWebhook('recharge', '2021-01-created-prepaid')));
    const v2 = event(parseRechargeWebhook(sampleWebhook('recharge', '2021-11-created-prepaid')));
    const comparable = (e: OrderEvent) => {
      const {
        source: _s,
        references: _r,
        customer,
        billingAddress,
        shippingAddress,
        ...rest
      } = must(e.order, 'order');
      const { country: _c1, countryCode: _cc1, ...billing } = billingAddress ?? {};
      const { country: _c2, countryCode: _cc2, ...shipping } = shippingAddress ?? {};
      // 2021-01 line items carry only the unit price.
      const lineItems = rest.lineItems.map(({ totalPrice: _t, ...item }) => item);
      return { ...rest, lineItems, email: customer?.email, billing, shipping };
    };
    expect(comparable(v1)).toEqual(comparable(v2));
    expect(v1.order?.lineItems[0]).toEqual({
      title: 'Morning Roast 3-month prepaid - Whole bean',
      quantity: 3,
      sku: 'ROAST-12-WB',
      productId: '6890435969087',
      variantId: '40264563523647',
      unitPrice: '30.00',
    });
    expect(v2.order?.lineItems[0]).toMatchObject({ unitPrice: '30.00', totalPrice: '90.00' });
    expect(v1.order?.shippingAddress?.country).toBe('United States');
    expect(v2.order?.shippingAddress?.countryCode).toBe('US');
  });

  it.each(['2021-01', '2021-11'])('reads prepaid flag, charge id and status from %s', (version) => {
    const e = event(parseRechargeWebhook(sampleWebhook('recharge', `${version}-created-prepaid`)));
    expect(e.statusPath).toEqual(['paid']);
    expect(e.createExternal).toBe(true);
    expect(e.recharge).toMatchObject({
      prepaid: true,
      chargeId: version === '2021-01' ? '780100202' : '780100404',
    });
    expect(e.occurredAt).toBe('2026-11-20T08:15:02.000Z');
  });

  it.each(['2021-01', '2021-11'])('reads the external ids ReCharge holds in %s', (version) => {
    const e = event(parseRechargeWebhook(sampleWebhook('recharge', `${version}-updated-regular`)));
    expect(e.recharge).toMatchObject({ heldExternalOrderId: 'ord-1001', heldExternalOrderNumber: '1001' });
  });

  it('normalises status and type case-insensitively and accepts is_prepaid as 0/1 or boolean', () => {
    const e = event(
      parseRechargeWebhook(
        sampleWebhook('recharge', '2021-01-created-regular', (p) => {
          p.order.status = 'Success';
          p.order.type = 'Recurring';
          p.order.is_prepaid = true;
          p.order.some_new_field = { nested: 1 };
        }),
      ),
    );
    expect(e.statusPath).toEqual(['paid']);
    expect(e.order?.orderType).toBe('recurring');
    expect(e.order?.prepaid).toBe(true);
  });

  it.each([
    ['SUCCESS', 'paid'],
    ['queued', 'pending'],
    ['ERROR', 'payment_failed'],
    ['skipped', 'skipped'],
    ['REFUNDED', 'refunded'],
    ['partially_refunded', 'partially_refunded'],
    ['cancelled', 'cancelled'],
    ['something_new', undefined],
  ])('maps status %s to %s', (status, expected) => {
    expect(mapRechargeStatus(status.toLowerCase())).toBe(expected);
  });

  it('does not ask for an external order when the status is not SUCCESS', () => {
    const e = event(parseRechargeWebhook(sampleWebhook('recharge', '2021-11-created-queued')));
    expect(e.createExternal).toBe(false);
    expect(e.statusPath).toEqual(['pending']);
  });

  it('rejects a payload without an order id as permanent, naming the field', () => {
    const webhook = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
      delete p.order.id;
    });
    expect(() => parseRechargeWebhook(webhook)).toThrow(PermanentError);
    expect(() => parseRechargeWebhook(webhook)).toThrow('order.id');
  });

  it('ignores topics it does not handle', () => {
    const parsed = parseRechargeWebhook(queuedWebhook('recharge', 'charge/created', '{}'));
    expect(parsed.kind).toBe('ignore');
  });
});

describe('Wix Cashier Pay mapping', () => {
  it.each([
    ['APPROVED', 'paid'],
    ['Success', 'paid'],
    ['PENDING', 'pending'],
    ['in process', 'pending'],
    ['DECLINED', 'payment_failed'],
    ['failed', 'payment_failed'],
    ['MYSTERY', undefined],
  ])('maps transaction status %s to %s', (status, expected) => {
    expect(mapWixTransactionStatus(status)).toBe(expected);
  });

  it('rejects a TRANSACTION without an order id as permanent', () => {
    const webhook = sampleWebhook('wix-cashier-pay', 'transaction-approved', (p) => {
      delete p.transactionEvent.orderId;
    });
    expect(() => parseWixWebhook(webhook)).toThrow(PermanentError);
  });
});

describe('Sevi mapping', () => {
  it('maps PAID to paid then delivered, with the order and customer', () => {
    const parsed = parseSeviWebhook(sampleWebhook('sevi', 'paid'));
    if (parsed.kind !== 'order') throw new Error('expected order');
    expect(parsed.event.statusPath).toEqual(['paid', 'delivered']);
    expect(parsed.event.createExternal).toBe(true);
    expect(parsed.event.order?.customer?.email).toBe('ana.kovac@example.com');
    expect(parsed.event.order?.shippingAddress?.countryCode).toBe('HR');
  });

  it('maps PENDING to pending without creating anything', () => {
    const parsed = parseSeviWebhook(sampleWebhook('sevi', 'pending'));
    if (parsed.kind !== 'order') throw new Error('expected order');
    expect(parsed.event.statusPath).toEqual(['pending']);
    expect(parsed.event.createExternal).toBe(false);
  });

  it('reads the payment state from either field', () => {
    const parsed = parseSeviWebhook(
      sampleWebhook('sevi', 'pending', (p) => {
        delete p.order.orderPayment;
        p.order.paymentStatus = 'paid';
      }),
    );
    if (parsed.kind !== 'order') throw new Error('expected order');
    expect(parsed.event.statusPath).toEqual(['paid', 'delivered']);
  });

  it.each([
    ['orderPayment as a string', { orderPayment: 'PAID', paymentStatus: undefined }],
    ['orderPayment as an object with status', { orderPayment: { status: 'PAID' }, paymentStatus: undefined }],
    ['paymentStatus as a string', { orderPayment: undefined, paymentStatus: 'PAID' }],
    [
      'paymentStatus as an object with status',
      { orderPayment: undefined, paymentStatus: { status: 'paid' } },
    ],
  ])('accepts the payment state as %s', (_, fields) => {
    const parsed = parseSeviWebhook(
      sampleWebhook('sevi', 'pending', (p) => {
        delete p.order.orderPayment;
        delete p.order.paymentStatus;
        Object.assign(p.order, fields);
      }),
    );
    if (parsed.kind !== 'order') throw new Error('expected order');
    expect(parsed.event.statusPath).toEqual(['paid', 'delivered']);
    expect(parsed.event.providerStatus).toBe('PAID');
    expect(parsed.event.createExternal).toBe(true);
  });
});
