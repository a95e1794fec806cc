import * as z from 'zod';
import { idString, money, opt } from '../../domain/zod-helpers';

const text = opt(z.string());

/**
 * Sevi documents only "the `orderPayment` status": the word itself (`"PAID"`) and an object
 * carrying it (`{"status": "PAID"}`) are both plausible readings, so both are accepted.
 */
const paymentWord = opt(
  z
    .union([z.string(), z.looseObject({ status: z.string() })])
    .transform((v) => (typeof v === 'string' ? v : v.status)),
);

/**
 * Sevi "Order Payment" webhook: `{order, customer}`. Only id, referenceNumber, status and the
 * payment state are documented; items and address are mapped when present, unknown fields dropped.
 */
export const seviWebhookSchema = z.object({
  order: z
    .object({
      id: idString,
      referenceNumber: opt(idString),
      status: text,
      orderPayment: paymentWord,
      paymentStatus: paymentWord,
      currency: text,
      totalAmount: opt(money),
      createdAt: text,
      updatedAt: text,
      items: opt(
        z.array(
          z.object({
            sku: text,
            name: text,
            title: text,
            quantity: z.coerce.number().int().nonnegative().default(1),
            unitPrice: opt(money),
            price: opt(money),
          }),
        ),
      ),
      shippingAddress: opt(
        z.object({
          name: text,
          street: text,
          address1: text,
          city: text,
          postalCode: text,
          zip: text,
          country: text,
        }),
      ),
    })
    .refine((o) => o.orderPayment !== undefined || o.paymentStatus !== undefined, {
      message: 'orderPayment or paymentStatus is required',
      path: ['paymentStatus'],
    }),
  customer: opt(
    z.object({
      id: opt(idString),
      email: text,
      firstName: text,
      lastName: text,
      phone: text,
    }),
  ),
});
export type SeviWebhook = z.infer<typeof seviWebhookSchema>;
