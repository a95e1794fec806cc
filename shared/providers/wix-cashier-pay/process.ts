import type { ParsedWebhook } from '../../domain/order-event';
import { compact } from '../../domain/zod-helpers';
import { PermanentError } from '../../errors';
import type { QueuedWebhook } from '../../queue/message';
import { decodeWixBody } from './body';
import { mapWixTransactionStatus } from './order';
import { wixEventSchema } from './schemas';

const TYPES = ['ORDER_EXPIRED', 'TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGE'];

/**
 * Wix Cashier Pay events carry no order details and no event time, so ordering rests on the state
 * machine alone. An approved transaction confirms the order: the external order is created then.
 */
export function parseWixWebhook(webhook: QueuedWebhook): ParsedWebhook {
  let json: unknown;
  try {
    json = decodeWixBody(webhook.body);
  } catch {
    throw new PermanentError('wix body is neither JSON nor a JWT');
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !TYPES.includes(type))
    return { kind: 'ignore', reason: `wix event type ${type} is not handled` };
  const parsed = wixEventSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'type'))].slice(0, 5);
    throw new PermanentError(`wix event invalid at ${fields.join(', ')}`);
  }
  const e = parsed.data;
  const base = { topic: webhook.topic };
  switch (e.type) {
    case 'ORDER_EXPIRED': {
      const orderId = e.expiredOrderEvent.orderId;
      return {
        kind: 'order',
        event: {
          ...base,
          ref: { provider: 'wix-cashier-pay', orderId },
          statusPath: ['expired'],
          providerStatus: 'EXPIRED',
          references: { wixOrderId: orderId },
          createExternal: false,
        },
      };
    }
    case 'TRANSACTION': {
      const t = e.transactionEvent;
      const status = mapWixTransactionStatus(t.transactionStatus);
      return {
        kind: 'order',
        event: {
          ...base,
          ref: { provider: 'wix-cashier-pay', orderId: t.orderId },
          statusPath: status ? [status] : [],
          providerStatus: t.transactionStatus,
          references: compact({
            wixOrderId: t.orderId,
            wixVerticalOrderId: t.verticalOrderId,
            wixTransactionId: t.transactionId,
          }),
          transaction: compact({
            id: t.transactionId,
            status: t.transactionStatus,
            paymentMethod: t.paymentMethod,
            paymentProvider: t.provider,
          }),
          createExternal: status === 'paid',
        },
      };
    }
    case 'SUBSCRIPTION_STATUS_CHANGE': {
      const s = e.subscriptionStatusChangeEvent;
      return {
        kind: 'order',
        event: {
          ...base,
          ref: { provider: 'wix-cashier-pay', orderId: s.orderId },
          statusPath: [],
          subscriptionStatus: s.status.trim().toUpperCase(),
          references: { wixOrderId: s.orderId },
          createExternal: false,
        },
      };
    }
  }
}
