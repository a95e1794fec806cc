import * as z from 'zod';
import { idString, opt } from '../../domain/zod-helpers';

/** Wix Cashier Pay order event hooks (three body types); unknown fields are dropped. */
export const wixExpiredSchema = z.object({
  type: z.literal('ORDER_EXPIRED'),
  expiredOrderEvent: z.object({ orderId: idString }),
});

export const wixTransactionSchema = z.object({
  type: z.literal('TRANSACTION'),
  transactionEvent: z.object({
    transactionId: idString,
    orderId: idString,
    verticalOrderId: opt(idString),
    paymentMethod: opt(z.string()),
    provider: opt(z.string()),
    /** The enum is not published: any string is kept. */
    transactionStatus: z.string().min(1),
    merchantId: opt(z.string()),
  }),
});

export const wixSubscriptionSchema = z.object({
  type: z.literal('SUBSCRIPTION_STATUS_CHANGE'),
  subscriptionStatusChangeEvent: z.object({ orderId: idString, status: z.string().min(1) }),
});

export const wixEventSchema = z.discriminatedUnion('type', [
  wixExpiredSchema,
  wixTransactionSchema,
  wixSubscriptionSchema,
]);
export type WixEvent = z.infer<typeof wixEventSchema>;
