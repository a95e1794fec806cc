import type { ParsedWebhook } from '../../domain/order-event';
import { PermanentError } from '../../errors';
import type { QueuedWebhook } from '../../queue/message';
import { seviPaymentState, seviStatusPath, toCanonicalSeviOrder } from './order';
import { seviWebhookSchema } from './schemas';

/**
 * Sevi order payment: PAID confirms the order (created externally, then paid and delivered);
 * anything else is recorded and never marks it delivered. Sevi's `updatedAt` is not documented, so
 * ordering rests on the state machine (a late PENDING cannot undo a delivery).
 */
export function parseSeviWebhook(webhook: QueuedWebhook): ParsedWebhook {
  let json: unknown;
  try {
    json = JSON.parse(webhook.body);
  } catch {
    throw new PermanentError('sevi body is not JSON');
  }
  const parsed = seviWebhookSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].slice(0, 5);
    throw new PermanentError(`sevi payload invalid at ${fields.join(', ')}`);
  }
  const payment = seviPaymentState(parsed.data.order);
  const order = toCanonicalSeviOrder(parsed.data);
  return {
    kind: 'order',
    event: {
      ref: { provider: 'sevi', orderId: parsed.data.order.id },
      topic: webhook.topic,
      statusPath: seviStatusPath(payment),
      providerStatus: payment || undefined,
      order,
      createExternal: payment === 'PAID',
    },
  };
}
