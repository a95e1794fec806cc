import type { CanonicalOrder, ProviderOrderRef, ProviderReferences } from './order';
import type { OrderStatus } from './state-machine';

/** A payment attempt as a provider reported it (Wix Cashier Pay TRANSACTION). */
export interface TransactionRecord {
  id: string;
  status: string;
  paymentMethod?: string;
  paymentProvider?: string;
}

/** ReCharge-only facts the write-back needs. */
export interface RechargeFacts {
  orderId: string;
  chargeId?: string;
  prepaid: boolean;
  /** External ids ReCharge already holds for this order (set after our write-back). */
  heldExternalOrderId?: string;
  heldExternalOrderNumber?: string;
}

/**
 * What one webhook says about one provider order, provider-neutral. Produced by each provider's
 * `parse`, applied to the stored order by `applyOrderEvent`.
 */
export interface OrderEvent {
  ref: ProviderOrderRef;
  topic: string;
  /** The provider's own time for this state of the order; an event older than the stored one is stale. */
  occurredAt?: string;
  /** Statuses to move through, in order (Sevi PAID: paid, then delivered). */
  statusPath: OrderStatus[];
  /** The provider's status word, recorded as sent (also when it maps to no canonical status). */
  providerStatus?: string;
  /** Full order details, when the payload carries them. */
  order?: CanonicalOrder;
  /** References to merge into the stored order. */
  references?: ProviderReferences;
  subscriptionStatus?: string;
  transaction?: TransactionRecord;
  /** The provider confirmed the order (ReCharge SUCCESS, Sevi PAID, Wix approved): it must exist externally. */
  createExternal: boolean;
  recharge?: RechargeFacts;
}

/** Parse result: an event to apply, or a well-formed message that needs no work. */
export type ParsedWebhook =
  | { kind: 'order'; event: OrderEvent }
  | { kind: 'ignore'; reason: string; ref?: ProviderOrderRef };
