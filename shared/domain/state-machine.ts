/**
 * One explicit state machine per order. Deliveries arrive out of order (Wix says so outright,
 * ReCharge and Sevi retry for days), so a transition that is not listed is recorded as ignored,
 * never applied: a late "pending" cannot undo a payment or a delivery.
 *
 * | from \ to           | allowed                                                    |
 * |---------------------|------------------------------------------------------------|
 * | (new order)         | any                                                        |
 * | pending             | paid, payment_failed, skipped, expired, cancelled, refunds |
 * | payment_failed      | pending (a new attempt), paid, skipped, expired, cancelled, refunds |
 * | skipped             | pending, paid, cancelled, refunds                          |
 * | expired             | paid (a confirmed payment beats an expiry that overtook it), refunds |
 *
 * "refunds": partially_refunded and refunded. A refund is proof that a payment happened, so it moves
 * an open or expired order as a payment would (the payment's own delivery may have been lost or
 * may still come: it is then older and changes nothing), whatever order the two arrive in.
 * | paid                | delivered, partially_refunded, refunded, cancelled         |
 * | delivered           | partially_refunded, refunded                               |
 * | partially_refunded  | refunded                                                   |
 * | refunded, cancelled | (terminal)                                                 |
 */
export const ORDER_STATUSES = [
  'pending',
  'payment_failed',
  'skipped',
  'expired',
  'paid',
  'delivered',
  'partially_refunded',
  'refunded',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'payment_failed', 'skipped', 'expired', 'cancelled', 'partially_refunded', 'refunded'],
  payment_failed: ['pending', 'paid', 'skipped', 'expired', 'cancelled', 'partially_refunded', 'refunded'],
  skipped: ['pending', 'paid', 'cancelled', 'partially_refunded', 'refunded'],
  expired: ['paid', 'partially_refunded', 'refunded'],
  paid: ['delivered', 'partially_refunded', 'refunded', 'cancelled'],
  delivered: ['partially_refunded', 'refunded'],
  partially_refunded: ['refunded'],
  refunded: [],
  cancelled: [],
};

export type TransitionOutcome = 'applied' | 'unchanged' | 'ignored';

/** Still open: a payment attempt may come, fail or come again. */
const OPEN_STATUSES: readonly OrderStatus[] = ['pending', 'payment_failed', 'skipped'];

/**
 * A settled order (paid and after, cancelled, expired): only a listed transition moves it, never a
 * word the product cannot place. No status yet, or an open one, is not final.
 */
export function isFinal(status: OrderStatus | undefined): boolean {
  return status !== undefined && !OPEN_STATUSES.includes(status);
}

/** Whether moving an order from `from` (undefined: no status yet) to `to` is applied, a no-op, or ignored. */
export function checkTransition(from: OrderStatus | undefined, to: OrderStatus): TransitionOutcome {
  if (from === undefined) return 'applied';
  if (from === to) return 'unchanged';
  return TRANSITIONS[from].includes(to) ? 'applied' : 'ignored';
}

/** Payment and fulfilment views of a status, stored next to it so readers need not know the machine. */
export function paymentStatusOf(status: OrderStatus | undefined): string {
  switch (status) {
    case 'paid':
    case 'delivered':
      return 'paid';
    case 'partially_refunded':
    case 'refunded':
      return status;
    case 'payment_failed':
      return 'failed';
    case 'expired':
    case 'cancelled':
    case 'skipped':
      return 'void';
    default:
      return 'pending';
  }
}

export function fulfilmentStatusOf(status: OrderStatus | undefined): string {
  return status === 'delivered' ? 'delivered' : 'unfulfilled';
}

/**
 * Wix Cashier Pay subscription statuses (from the reference). Pending may become active, and either
 * may end (cancelled or finished); an ended subscription never comes back.
 */
export const SUBSCRIPTION_STATUSES = [
  'SUBSCRIPTION_PENDING',
  'SUBSCRIPTION_ACTIVE',
  'SUBSCRIPTION_CANCELLED',
  'SUBSCRIPTION_FINISHED',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

const SUBSCRIPTION_TRANSITIONS: Record<SubscriptionStatus, readonly SubscriptionStatus[]> = {
  SUBSCRIPTION_PENDING: ['SUBSCRIPTION_ACTIVE', 'SUBSCRIPTION_CANCELLED', 'SUBSCRIPTION_FINISHED'],
  SUBSCRIPTION_ACTIVE: ['SUBSCRIPTION_CANCELLED', 'SUBSCRIPTION_FINISHED'],
  SUBSCRIPTION_CANCELLED: [],
  SUBSCRIPTION_FINISHED: [],
};

export function isKnownSubscriptionStatus(s: string): s is SubscriptionStatus {
  return (SUBSCRIPTION_STATUSES as readonly string[]).includes(s);
}

/**
 * Same rule for the subscription status. A status outside the known set is applied as recorded while
 * the subscription is open, and never replaces an ended one (cancelled or finished).
 */
export function checkSubscriptionTransition(from: string | undefined, to: string): TransitionOutcome {
  if (from === undefined) return 'applied';
  if (from === to) return 'unchanged';
  if (!isKnownSubscriptionStatus(from)) return 'applied';
  if (!isKnownSubscriptionStatus(to))
    return SUBSCRIPTION_TRANSITIONS[from].length === 0 ? 'ignored' : 'applied';
  return SUBSCRIPTION_TRANSITIONS[from].includes(to) ? 'applied' : 'ignored';
}
