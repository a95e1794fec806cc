import { fieldsDeliveryKey } from '../../ingest/crypto';
import type { WixEnvelope } from './envelope';

/**
 * Identity of a Cashier Pay event: the type, the order and what changed (transaction id and status
 * for payments, the new status for subscriptions). A JWT re-signed on redelivery keeps the same key.
 */
export function wixDeliveryKey(event: WixEnvelope): string {
  switch (event.type) {
    case 'ORDER_EXPIRED':
      return fieldsDeliveryKey('wix-cashier-pay', [event.type, event.expiredOrderEvent.orderId]);
    case 'TRANSACTION':
      return fieldsDeliveryKey('wix-cashier-pay', [
        event.type,
        event.transactionEvent.orderId,
        event.transactionEvent.transactionId ?? null,
        event.transactionEvent.transactionStatus ?? null,
      ]);
    case 'SUBSCRIPTION_STATUS_CHANGE':
      return fieldsDeliveryKey('wix-cashier-pay', [
        event.type,
        event.subscriptionStatusChangeEvent.orderId,
        event.subscriptionStatusChangeEvent.status ?? null,
      ]);
  }
}
