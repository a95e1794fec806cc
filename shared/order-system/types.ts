import type { CanonicalOrder, ExternalOrderRef, ProviderOrderRef } from '../domain/order';
import type { OrderStatus } from '../domain/state-machine';

/** What the order system receives when an order is created. */
export interface CreateOrderInput {
  ref: ProviderOrderRef;
  order: CanonicalOrder;
  status?: OrderStatus;
  paymentStatus: string;
  fulfilmentStatus: string;
  /** Stable per provider order: the same on every retry of every delivery about it. */
  idempotencyKey: string;
  /** Epoch ms by which the call must end (the invocation's working time); unbounded when absent. */
  deadline?: number;
}

export interface StatusChangeInput {
  ref: ProviderOrderRef;
  external: ExternalOrderRef;
  from?: string;
  to: OrderStatus;
  paymentStatus: string;
  fulfilmentStatus: string;
  providerStatus?: string;
  topic: string;
  at: string;
  idempotencyKey: string;
  /** Epoch ms by which the call must end (the invocation's working time); unbounded when absent. */
  deadline?: number;
}

/**
 * The merchant's order system ("the external system"). Two implementations, chosen by ORDER_SYSTEM:
 * the built-in DynamoDB ledger (default) and a merchant HTTP API. Either way the worker keeps its
 * per-order state (status, history, provider times) in the ORDERS_TABLE, which is what makes the
 * state machine and stale checks work for an HTTP system that only accepts POST and PATCH.
 */
export interface OrderSystem {
  readonly kind: 'ledger' | 'http';
  /** Creates the order, or returns the existing ids for the same idempotency key. */
  createOrder(input: CreateOrderInput): Promise<ExternalOrderRef>;
  /** Pushes a status change. Absent for the ledger: its order item is the status. */
  updateStatus?(input: StatusChangeInput): Promise<void>;
}
