import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { makeHandler } from '../../functions/worker/handler';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import { wixJwtPayload } from '../../shared/providers/wix-cashier-pay/body';
import { signRs256Jwt } from '../../shared/providers/wix-cashier-pay/jwt';
import type { Provider } from '../../shared/queue/message';
import {
  createWorkerWorld,
  type JsonObject,
  lambdaContext,
  queuedWebhook,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

let world: WorkerWorld;
let handler: ReturnType<typeof makeHandler>;
beforeAll(async () => {
  world = await createWorkerWorld();
  handler = makeHandler(world.deps());
});
afterAll(async () => {
  await world.close();
});

async function deliver(...webhooks: ReturnType<typeof sampleWebhook>[]) {
  for (const webhook of webhooks) {
    const result = await handler(sqsEvent([sqsRecord(webhook)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
  }
}

const stored = (provider: Provider, orderId: string) =>
  getOrderByProviderRef(world.dynamo, world.tables.orders, { provider, orderId });

function wix(name: string, orderId: string, modify?: (p: JsonObject) => void) {
  return sampleWebhook('wix-cashier-pay', name, (p) => {
    const event = p.expiredOrderEvent ?? p.transactionEvent ?? p.subscriptionStatusChangeEvent;
    event.orderId = orderId;
    modify?.(p);
  });
}

function sevi(name: 'paid' | 'pending', orderId: string, modify?: (p: JsonObject) => void) {
  return sampleWebhook('sevi', name, (p) => {
    p.order.id = orderId;
    modify?.(p);
  });
}

describe('Wix Cashier Pay', () => {
  it('marks an order paid on an approved transaction and creates it externally once', async () => {
    const orderId = randomUUID();
    await deliver(wix('transaction-approved', orderId));
    const order = await stored('wix-cashier-pay', orderId);
    expect(order?.status).toBe('paid');
    expect(order?.externalId).toBeDefined();
    expect(order?.transactions).toEqual([
      expect.objectContaining({ status: 'APPROVED', paymentMethod: 'creditCard', paymentProvider: 'stripe' }),
    ]);
    expect(order?.order.references).toMatchObject({
      wixOrderId: orderId,
      wixVerticalOrderId: 'store-order-10042',
    });
  });

  it('keeps a paid order paid when ORDER_EXPIRED arrives late, and records the expiry as ignored', async () => {
    const orderId = randomUUID();
    await deliver(wix('transaction-approved', orderId), wix('order-expired', orderId));
    const order = await stored('wix-cashier-pay', orderId);
    expect(order?.status).toBe('paid');
    expect(order?.history.at(-1)).toMatchObject({ from: 'paid', to: 'expired', outcome: 'ignored' });
  });

  it('ends paid when the expiry overtakes the approved transaction', async () => {
    const orderId = randomUUID();
    await deliver(wix('order-expired', orderId));
    expect((await stored('wix-cashier-pay', orderId))?.status).toBe('expired');
    await deliver(wix('transaction-approved', orderId));
    expect((await stored('wix-cashier-pay', orderId))?.status).toBe('paid');
  });

  it('maps declined to payment failed, lets a later approval win, and ignores a late pending', async () => {
    const orderId = randomUUID();
    await deliver(wix('transaction-declined', orderId));
    const failed = await stored('wix-cashier-pay', orderId);
    expect(failed?.status).toBe('payment_failed');
    expect(failed?.externalId).toBeUndefined();
    await deliver(wix('transaction-approved', orderId), wix('transaction-pending', orderId));
    const order = await stored('wix-cashier-pay', orderId);
    expect(order?.status).toBe('paid');
    expect(order?.transactions.map((t) => t.status)).toEqual(['DECLINED', 'APPROVED', 'PENDING']);
    expect(order?.history.filter((h) => h.field === 'status').map((h) => `${h.to}:${h.outcome}`)).toEqual([
      'payment_failed:applied',
      'paid:applied',
      'pending:ignored',
    ]);
  });

  it('records an unknown transaction status as sent without changing the order status', async () => {
    const orderId = randomUUID();
    await deliver(wix('transaction-pending', orderId));
    await deliver(
      wix('transaction-pending', orderId, (p) => {
        p.transactionEvent.transactionStatus = 'CHARGEBACK_REVIEW';
      }),
    );
    const order = await stored('wix-cashier-pay', orderId);
    expect(order?.status).toBe('pending');
    expect(order?.providerStatus).toBe('CHARGEBACK_REVIEW');
  });

  it('records subscription status changes and never revives a cancelled subscription', async () => {
    const orderId = randomUUID();
    await deliver(wix('subscription-active', orderId), wix('subscription-cancelled', orderId));
    await deliver(
      wix('subscription-active', orderId, (p) => {
        p.extra = 'redelivered';
      }),
    );
    const order = await stored('wix-cashier-pay', orderId);
    expect(order?.subscriptionStatus).toBe('SUBSCRIPTION_CANCELLED');
    expect(order?.history.at(-1)).toMatchObject({ field: 'subscription', outcome: 'ignored' });
  });

  it('reads an event that arrives as a JWT body', async () => {
    const orderId = randomUUID();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const event = { type: 'ORDER_EXPIRED', expiredOrderEvent: { orderId } };
    const jwt = signRs256Jwt(wixJwtPayload(event, Math.floor(Date.now() / 1000)), privateKey);
    await deliver(queuedWebhook('wix-cashier-pay', 'ORDER_EXPIRED', jwt));
    expect((await stored('wix-cashier-pay', orderId))?.status).toBe('expired');
  });
});

describe('Sevi', () => {
  it('moves a PAID order to paid and then Delivered', async () => {
    const orderId = `SV-${randomUUID()}`;
    await deliver(sevi('paid', orderId));
    const order = await stored('sevi', orderId);
    expect(order?.status).toBe('delivered');
    expect(order?.paymentStatus).toBe('paid');
    expect(order?.fulfilmentStatus).toBe('delivered');
    expect(order?.externalId).toBeDefined();
    expect(order?.order.references).toEqual({ seviOrderId: orderId, seviReferenceNumber: 'REF-88412' });
    expect(order?.history.map((h) => `${h.from ?? '-'}>${h.to}`)).toEqual(['->paid', 'paid>delivered']);
  });

  it('never moves a delivered order back when a PENDING arrives late', async () => {
    const orderId = `SV-${randomUUID()}`;
    await deliver(sevi('paid', orderId), sevi('pending', orderId));
    const order = await stored('sevi', orderId);
    expect(order?.status).toBe('delivered');
    expect(order?.providerStatus).toBe('PAID');
    expect(order?.history.at(-1)).toMatchObject({ from: 'delivered', to: 'pending', outcome: 'ignored' });
  });

  it('keeps a PENDING order undelivered and delivers it when PAID follows', async () => {
    const orderId = `SV-${randomUUID()}`;
    await deliver(sevi('pending', orderId));
    const pending = await stored('sevi', orderId);
    expect(pending?.status).toBe('pending');
    expect(pending?.fulfilmentStatus).toBe('unfulfilled');
    expect(pending?.externalId).toBeUndefined();
    await deliver(sevi('paid', orderId));
    expect((await stored('sevi', orderId))?.status).toBe('delivered');
  });

  it('delivers an order whose payment state comes as an object with status, as it does for the word', async () => {
    const orderId = `SV-${randomUUID()}`;
    await deliver(
      sevi('pending', orderId, (p) => {
        p.order.orderPayment = { status: 'PAID' };
        delete p.order.paymentStatus;
      }),
    );
    const order = await stored('sevi', orderId);
    expect(order?.status).toBe('delivered');
    expect(order?.providerStatus).toBe('PAID');
    expect(order?.externalId).toBeDefined();
  });

  it('records any other payment status without marking the order delivered', async () => {
    const orderId = `SV-${randomUUID()}`;
    await deliver(
      sevi('pending', orderId, (p) => {
        p.order.orderPayment = 'REFUSED';
        p.order.paymentStatus = 'REFUSED';
      }),
    );
    const order = await stored('sevi', orderId);
    expect(order?.status).toBeUndefined();
    expect(order?.fulfilmentStatus).toBe('unfulfilled');
    expect(order?.providerStatus).toBe('REFUSED');
    expect(order?.externalId).toBeUndefined();
  });
});
