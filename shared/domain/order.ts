import type { Provider } from '../queue/message';

/**
 * The canonical order: what every provider payload is mapped to and what the order system stores
 * (ledger) or receives (HTTP). Amounts are decimal strings as the providers send them, never floats.
 */
export interface Address {
  firstName?: string;
  lastName?: string;
  company?: string;
  address1?: string;
  address2?: string;
  city?: string;
  province?: string;
  zip?: string;
  /** ISO 3166-1 alpha-2 when the provider sends it (ReCharge 2021-11, Sevi). */
  countryCode?: string;
  /** Country name when that is all the provider sends (ReCharge 2021-01). */
  country?: string;
  phone?: string;
}

export interface LineItem {
  title: string;
  quantity: number;
  sku?: string;
  productId?: string;
  variantId?: string;
  unitPrice?: string;
  totalPrice?: string;
}

export interface Customer {
  id?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
}

/** Identifiers of one order at the providers; which ones are set depends on the source. */
export interface ProviderReferences {
  rechargeOrderId?: string;
  rechargeChargeId?: string;
  wixOrderId?: string;
  wixVerticalOrderId?: string;
  wixTransactionId?: string;
  seviOrderId?: string;
  seviReferenceNumber?: string;
}

export interface CanonicalOrder {
  source: { provider: Provider; orderId: string };
  references: ProviderReferences;
  customer?: Customer;
  billingAddress?: Address;
  shippingAddress?: Address;
  lineItems: LineItem[];
  /**
   * Line items the stored record leaves out to stay under DynamoDB's item limit (the queue message
   * has them all); see shared/domain/record-size.ts. Absent when every line item is kept.
   */
  lineItemsOmitted?: number;
  currency?: string;
  totals?: { total?: string; subtotal?: string; tax?: string; discounts?: string; shipping?: string };
  /** ReCharge: checkout (first order) or recurring. */
  orderType?: string;
  prepaid?: boolean;
  createdAt?: string;
  processedAt?: string;
}

/** An order in the merchant's order system: the id and the customer-facing number. */
export interface ExternalOrderRef {
  id: string;
  number: string;
}

/** The provider order an event is about: the unit of serialisation and of exactly-once creation. */
export interface ProviderOrderRef {
  provider: Provider;
  orderId: string;
}

/** `provider:orderId`, used in keys and logs. */
export function providerOrderKey(ref: ProviderOrderRef): string {
  return `${ref.provider}:${ref.orderId}`;
}
