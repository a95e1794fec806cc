import { fieldsDeliveryKey } from '../../ingest/crypto';
import type { SeviEnvelope } from './envelope';

/** Identity of a Sevi payment event: order id, payment state and order status. */
export function seviDeliveryKey(envelope: SeviEnvelope): string {
  const { order } = envelope;
  return fieldsDeliveryKey('sevi', [
    String(order.id),
    order.orderPayment ?? order.paymentStatus ?? null,
    order.status ?? null,
  ]);
}
