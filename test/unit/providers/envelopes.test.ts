import { createHash } from 'node:crypto';
import { makeHandler } from '../../../functions/ingest/handler';
import { SAMPLES } from '../../../scripts/samples/index';
import { rechargeDeliveryKey } from '../../../shared/providers/recharge/delivery-key';
import { rechargeEnvelopeSchema } from '../../../shared/providers/recharge/envelope-schema';
import { seviDeliveryKey } from '../../../shared/providers/sevi/delivery-key';
import { seviEnvelopeSchema } from '../../../shared/providers/sevi/envelope-schema';
import { wixDeliveryKey } from '../../../shared/providers/wix-cashier-pay/delivery-key';
import { wixEnvelopeSchema } from '../../../shared/providers/wix-cashier-pay/envelope-schema';
import { fakeDeps, proxyEvent, rechargeSignatureHeader } from '../../support/signing';

function requestFor(sample: (typeof SAMPLES)[number]) {
  const body = JSON.stringify(sample.payload);
  if (sample.provider === 'recharge')
    return proxyEvent({
      path: `/webhooks/recharge/${sample.topic}`,
      body,
      headers: {
        'X-Recharge-Webhook-Signature': rechargeSignatureHeader(
          'recharge-secret-new',
          Math.floor(Date.now() / 1000),
          body,
        ),
      },
    });
  if (sample.provider === 'sevi')
    return proxyEvent({ path: '/webhooks/sevi', body, headers: { Authorization: 'sevi-webhook-token-new' } });
  return proxyEvent({ path: '/webhooks/wix-cashier-pay/wix-hook-token-new', body });
}

describe('envelopes accept every sample payload', () => {
  it.each(SAMPLES.map((s) => [`${s.provider} ${s.name}`, s] as const))('queues %s', async (_name, sample) => {
    const deps = fakeDeps();
    const response = await makeHandler(deps)(requestFor(sample));
    expect(response.statusCode).toBe(200);
    expect(deps.queued).toHaveLength(1);
    expect(deps.queued[0]).toMatchObject({ provider: sample.provider, topic: sample.topic });
    expect(deps.queued[0]?.deliveryKey).toMatch(new RegExp(`^${sample.provider}:[0-9a-f]{64}$`));
  });
});

describe('ReCharge envelope and delivery key', () => {
  it('requires an order object with an id, accepting extra fields', () => {
    expect(
      rechargeEnvelopeSchema.safeParse({ order: { id: 5, extra: { any: 1 } }, more: true }).success,
    ).toBe(true);
    expect(rechargeEnvelopeSchema.safeParse({ order: { id: '5' } }).success).toBe(true);
    expect(rechargeEnvelopeSchema.safeParse({ order: {} }).success).toBe(false);
    expect(rechargeEnvelopeSchema.safeParse({ charge: { id: 5 } }).success).toBe(false);
  });

  it('keys a delivery by SHA-256 of the raw body alone: same body same key, any change a new key', () => {
    const body = Buffer.from('{"order":{"id":1}}');
    const expected = createHash('sha256').update(body).digest('hex');
    expect(rechargeDeliveryKey(body)).toBe(`recharge:${expected}`);
    expect(rechargeDeliveryKey(Buffer.from('{"order":{"id":2}}'))).not.toBe(rechargeDeliveryKey(body));
  });
});

describe('Wix envelope and delivery key', () => {
  const tx = (status: string, id = 'tx-1') =>
    wixEnvelopeSchema.parse({
      type: 'TRANSACTION',
      transactionEvent: { orderId: 'o-1', transactionId: id, transactionStatus: status },
    });

  it('requires the event object and its orderId for each type', () => {
    expect(
      wixEnvelopeSchema.safeParse({ type: 'ORDER_EXPIRED', expiredOrderEvent: { orderId: 'o' } }).success,
    ).toBe(true);
    expect(wixEnvelopeSchema.safeParse({ type: 'TRANSACTION', transactionEvent: {} }).success).toBe(false);
    expect(wixEnvelopeSchema.safeParse({ type: 'SUBSCRIPTION_STATUS_CHANGE' }).success).toBe(false);
  });

  it('gives the same event the same key, and a new status or transaction a new key', () => {
    expect(wixDeliveryKey(tx('APPROVED'))).toBe(wixDeliveryKey(tx('APPROVED')));
    expect(wixDeliveryKey(tx('APPROVED'))).not.toBe(wixDeliveryKey(tx('DECLINED')));
    expect(wixDeliveryKey(tx('APPROVED'))).not.toBe(wixDeliveryKey(tx('APPROVED', 'tx-2')));
    const sub = (status: string) =>
      wixDeliveryKey(
        wixEnvelopeSchema.parse({
          type: 'SUBSCRIPTION_STATUS_CHANGE',
          subscriptionStatusChangeEvent: { orderId: 'o-1', status },
        }),
      );
    expect(sub('SUBSCRIPTION_ACTIVE')).not.toBe(sub('SUBSCRIPTION_CANCELLED'));
  });
});

describe('Sevi envelope and delivery key', () => {
  const key = (order: Record<string, unknown>) => seviDeliveryKey(seviEnvelopeSchema.parse({ order }));

  it('requires order.id', () => {
    expect(seviEnvelopeSchema.safeParse({ order: { referenceNumber: 'r' } }).success).toBe(false);
    expect(seviEnvelopeSchema.safeParse({ customer: {} }).success).toBe(false);
  });

  it('changes the key when the payment state or status changes, not when other fields do', () => {
    const base = { id: 'S-1', status: 'Pending', orderPayment: 'PENDING' };
    expect(key({ ...base, note: 'x' })).toBe(key(base));
    expect(key({ ...base, orderPayment: 'PAID' })).not.toBe(key(base));
    expect(key({ ...base, status: 'Processing' })).not.toBe(key(base));
    expect(key({ id: 'S-1', status: 'Pending', paymentStatus: 'PAID' })).toBe(
      key({ id: 'S-1', status: 'Pending', orderPayment: 'PAID' }),
    );
  });

  it('gives the payment state the same key whether it comes as a word or as {status}', () => {
    expect(key({ id: 'S-1', orderPayment: { status: 'PAID' } })).toBe(
      key({ id: 'S-1', orderPayment: 'PAID' }),
    );
    expect(key({ id: 'S-1', orderPayment: { status: 'PAID' } })).not.toBe(
      key({ id: 'S-1', orderPayment: { status: 'PENDING' } }),
    );
  });
});
