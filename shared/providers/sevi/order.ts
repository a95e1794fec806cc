import type { CanonicalOrder } from '../../domain/order';
import type { OrderStatus } from '../../domain/state-machine';
import { compact } from '../../domain/zod-helpers';
import type { SeviWebhook } from './schemas';

/** The payment word Sevi sent (either field), upper case. */
export function seviPaymentState(order: SeviWebhook['order']): string {
  return (order.orderPayment ?? order.paymentStatus ?? '').trim().toUpperCase();
}

/** Words that report a payment attempt that did not go through (the customer may try again). */
const SEVI_FAILED = new Set(['FAILED', 'FAILURE', 'DECLINED', 'ERROR']);

/**
 * Only PAID confirms payment, and then the order is delivered (paid, then delivered). PENDING is
 * pending, a failed attempt is payment_failed (both open: a new attempt may follow); any other word
 * is recorded as sent and moves nothing (see the precedence in docs/design.md).
 */
export function seviStatusPath(payment: string): OrderStatus[] {
  if (payment === 'PAID') return ['paid', 'delivered'];
  if (payment === 'PENDING') return ['pending'];
  if (SEVI_FAILED.has(payment)) return ['payment_failed'];
  return [];
}

export function toCanonicalSeviOrder(body: SeviWebhook): CanonicalOrder {
  const o = body.order;
  const c = body.customer;
  const a = o.shippingAddress;
  const [firstName, ...rest] = (a?.name ?? '').split(' ');
  return compact({
    source: { provider: 'sevi' as const, orderId: o.id },
    references: compact({ seviOrderId: o.id, seviReferenceNumber: o.referenceNumber }),
    customer: c
      ? compact({ id: c.id, email: c.email, firstName: c.firstName, lastName: c.lastName, phone: c.phone })
      : undefined,
    shippingAddress: a
      ? compact({
          firstName: firstName || undefined,
          lastName: rest.join(' ') || undefined,
          address1: a.address1 ?? a.street,
          city: a.city,
          zip: a.zip ?? a.postalCode,
          countryCode: a.country && a.country.length === 2 ? a.country.toUpperCase() : undefined,
          country: a.country && a.country.length !== 2 ? a.country : undefined,
        })
      : undefined,
    lineItems: (o.items ?? []).map((i) =>
      compact({
        title: i.name ?? i.title ?? 'item',
        quantity: i.quantity,
        sku: i.sku,
        unitPrice: i.unitPrice ?? i.price,
      }),
    ),
    currency: o.currency,
    totals: o.totalAmount === undefined ? undefined : { total: o.totalAmount },
    createdAt: o.createdAt,
  });
}
