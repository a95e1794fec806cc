import type { Address, CanonicalOrder, LineItem } from '../../domain/order';
import type { OrderStatus } from '../../domain/state-machine';
import { compact } from '../../domain/zod-helpers';
import type { RechargeOrderPayload } from './schemas';

type RechargeAddress = NonNullable<RechargeOrderPayload['billing_address']>;
type RechargeLineItem = NonNullable<RechargeOrderPayload['line_items']>[number];

/** ReCharge status (lower-cased) to the canonical status; undefined: recorded as sent, no transition. */
export function mapRechargeStatus(status: string): OrderStatus | undefined {
  switch (status) {
    case 'success':
      return 'paid';
    case 'queued':
      return 'pending';
    case 'error':
      return 'payment_failed';
    case 'skipped':
      return 'skipped';
    case 'refunded':
      return 'refunded';
    case 'partially_refunded':
      return 'partially_refunded';
    case 'cancelled':
    case 'canceled':
      return 'cancelled';
    default:
      return undefined;
  }
}

/** ReCharge sends ISO times without an offset; they are UTC. */
export function rechargeTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function mapAddress(a: RechargeAddress | undefined): Address | undefined {
  if (!a) return undefined;
  return compact({
    firstName: a.first_name,
    lastName: a.last_name,
    company: a.company,
    address1: a.address1,
    address2: a.address2,
    city: a.city,
    province: a.province,
    zip: a.zip,
    countryCode: a.country_code,
    country: a.country,
    phone: a.phone,
  });
}

function mapLineItem(item: RechargeLineItem): LineItem {
  const unitPrice = item.unit_price ?? item.price;
  return compact({
    title: [item.title, item.variant_title].filter(Boolean).join(' - ') || 'item',
    quantity: item.quantity,
    sku: item.sku,
    productId: item.external_product_id ?? item.shopify_product_id,
    variantId: item.external_variant_id ?? item.shopify_variant_id,
    unitPrice,
    totalPrice: item.total_price,
  });
}

/** Maps a ReCharge order (either API version) to the canonical order. */
export function toCanonicalRechargeOrder(o: RechargeOrderPayload): CanonicalOrder {
  const chargeId = o.charge?.id ?? o.charge_id;
  const shipping = o.shipping_lines?.reduce((sum, line) => sum + Number(line.price ?? 0), 0);
  return compact({
    source: { provider: 'recharge' as const, orderId: o.id },
    references: compact({ rechargeOrderId: o.id, rechargeChargeId: chargeId }),
    customer: compact({
      id: o.customer?.id ?? o.customer_id,
      email: o.customer?.email ?? o.email,
      firstName: o.customer?.first_name ?? o.first_name ?? o.billing_address?.first_name,
      lastName: o.customer?.last_name ?? o.last_name ?? o.billing_address?.last_name,
    }),
    billingAddress: mapAddress(o.billing_address),
    shippingAddress: mapAddress(o.shipping_address),
    lineItems: (o.line_items ?? []).map(mapLineItem),
    currency: o.currency,
    totals: compact({
      total: o.total_price,
      subtotal: o.subtotal_price,
      tax: o.total_tax,
      discounts: o.total_discounts,
      shipping: shipping === undefined ? undefined : shipping.toFixed(2),
    }),
    orderType: o.type,
    prepaid: o.is_prepaid,
    createdAt: rechargeTime(o.created_at),
    processedAt: rechargeTime(o.processed_at),
  });
}
