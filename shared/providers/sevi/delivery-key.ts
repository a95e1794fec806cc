import { fieldsDeliveryKey } from '../../ingest/crypto';
import type { SeviEnvelope } from './envelope';

/** The payment word whichever shape carried it (`"PAID"` or `{"status": "PAID"}`). */
function paymentWord(value: unknown): unknown {
  if (value && typeof value === 'object' && 'status' in value) return (value as { status: unknown }).status;
  return value;
}

/** Identity of a Sevi payment event: order id, payment state and order status. */
export function seviDeliveryKey(envelope: SeviEnvelope): string {
  const { order } = envelope;
  return fieldsDeliveryKey('sevi', [
    String(order.id),
    paymentWord(order.orderPayment ?? order.paymentStatus) ?? null,
    order.status ?? null,
  ]);
}
