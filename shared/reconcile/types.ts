import type { StepState } from '../domain/order-record';
import type { Provider, QueuedWebhook } from '../queue/message';

/** What the reconciler reads of the worker's order item (a projection: no history, no canonical order). */
export interface OrderSnapshot {
  providerOrderId: string;
  status?: string;
  providerStatus?: string;
  sourceUpdatedAt?: string;
  externalId?: string;
  externalNumber?: string;
  /**
   * The provider's write-back steps as the worker left them (only the ones the source names in
   * `snapshotSteps`): whether a write-back was kept, shadowed, repaired or stopped.
   */
  steps?: Record<string, StepState>;
}

/** One order as the provider's API listed it. */
export interface ListedOrder {
  orderId: string;
  /** Why our record is behind the provider's order (a missed or failed webhook); undefined: in sync. */
  behind(record: OrderSnapshot | undefined): string | undefined;
  /** The synthetic delivery carrying this order state through the queue, as a webhook would. */
  delivery(receivedAt: string): QueuedWebhook;
}

/**
 * A provider whose API can list orders changed since a time: ReCharge today. A second provider
 * (should one ever give us a list API) adds one of these and nothing else changes in the pass.
 */
export interface ReconcileSource {
  provider: Provider;
  /** Pages of orders updated at or after `sinceMs`, as the API returned them. */
  listChangedSince(sinceMs: number, deadline: number): AsyncIterable<unknown[]>;
  /** Reads one listed item; `unreadable` when it does not match the provider's order schema. */
  read(item: unknown): ListedOrder | { unreadable: string };
  /** Steps of the order item the behind rule reads (projected with the snapshot, nothing else). */
  snapshotSteps?: readonly string[];
}
