import type { OrderStatus } from '../../domain/state-machine';

const APPROVED = new Set([
  'approved',
  'success',
  'succeeded',
  'successful',
  'completed',
  'paid',
  'captured',
  'settled',
]);
const PENDING = new Set([
  'pending',
  'in_process',
  'processing',
  'initialized',
  'authorized',
  'waiting',
  'pending_merchant',
]);
const DECLINED = new Set([
  'declined',
  'failed',
  'failure',
  'error',
  'rejected',
  'not_approved',
  'canceled',
  'cancelled',
  'voided',
  'timeout',
]);

/**
 * Wix does not publish the transactionStatus enum, so known families are mapped and anything else
 * returns undefined: recorded as sent, no transition.
 */
export function mapWixTransactionStatus(status: string): OrderStatus | undefined {
  const word = status
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (APPROVED.has(word)) return 'paid';
  if (PENDING.has(word)) return 'pending';
  if (DECLINED.has(word)) return 'payment_failed';
  return undefined;
}
