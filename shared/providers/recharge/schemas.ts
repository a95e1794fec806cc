import * as z from 'zod';
import { idString, lowerWord, money, opt } from '../../domain/zod-helpers';

/**
 * ReCharge order payloads in both API versions (see the reference's table): 2021-01 is flat and
 * upper case, 2021-11 nests charge, customer and external ids and is lower case. One schema accepts
 * both; unknown fields are dropped, never rejected.
 */

/** 2021-01 sends a string, 2021-11 `{ecommerce: ...}`; both may be null. */
const externalRef = z
  .union([z.string(), z.number(), z.object({ ecommerce: opt(z.union([z.string(), z.number()])) })])
  .nullish()
  .transform((v) => {
    if (v === null || v === undefined) return undefined;
    if (typeof v === 'object')
      return v.ecommerce === undefined || v.ecommerce === '' ? undefined : String(v.ecommerce);
    return v === '' ? undefined : String(v);
  });

const text = opt(z.string());

export const rechargeAddressSchema = z.object({
  first_name: text,
  last_name: text,
  company: text,
  address1: text,
  address2: text,
  city: text,
  province: text,
  zip: text,
  country: text,
  country_code: text,
  phone: text,
});

export const rechargeLineItemSchema = z.object({
  title: opt(z.string()),
  variant_title: text,
  quantity: z.coerce.number().int().nonnegative(),
  sku: text,
  shopify_product_id: opt(idString),
  shopify_variant_id: opt(idString),
  external_product_id: externalRef,
  external_variant_id: externalRef,
  price: opt(money),
  unit_price: opt(money),
  total_price: opt(money),
});

const prepaidFlag = z
  .union([z.boolean(), z.number(), z.string()])
  .nullish()
  .transform((v) => v === true || v === 1 || v === '1' || v === 'true');

export const rechargeOrderSchema = z.object({
  id: idString,
  status: lowerWord,
  type: opt(lowerWord),
  is_prepaid: prepaidFlag,
  charge_id: opt(idString),
  charge: opt(z.object({ id: opt(idString) })),
  customer_id: opt(idString),
  email: text,
  first_name: text,
  last_name: text,
  customer: opt(
    z.object({
      id: opt(idString),
      email: text,
      first_name: text,
      last_name: text,
      external_customer_id: externalRef,
    }),
  ),
  billing_address: opt(rechargeAddressSchema),
  shipping_address: opt(rechargeAddressSchema),
  line_items: opt(z.array(rechargeLineItemSchema)),
  external_order_id: externalRef,
  external_order_number: externalRef,
  shopify_order_id: opt(idString),
  currency: text,
  total_price: opt(money),
  subtotal_price: opt(money),
  total_tax: opt(money),
  total_discounts: opt(money),
  shipping_lines: opt(z.array(z.object({ price: opt(money) }))),
  created_at: text,
  updated_at: text,
  processed_at: text,
});
export type RechargeOrderPayload = z.infer<typeof rechargeOrderSchema>;

/** The webhook body: the API object wrapped in one top-level key. */
export const rechargeOrderWebhookSchema = z.object({ order: rechargeOrderSchema });

export const RECHARGE_ORDER_TOPICS = ['order/created', 'order/processed', 'order/updated'] as const;
