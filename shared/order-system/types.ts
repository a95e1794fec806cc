import type { CanonicalOrder, ExternalOrderRef, ProviderOrderRef } from '../domain/order';
import type { OrderStatus } from '../domain/state-machine';

/** What the order system receives when an order is created. */
export interface CreateOrderInput {
  ref: ProviderOrderRef;
  order: CanonicalOrder;
  status?: OrderStatus;
  paymentStatus: string;
  fulfilmentStatus: string;
  providerStatus?: string;
  subscriptionStatus?: string;
  /** The order's state version this create carries (see OrderStateInput.version). */
  version: number;
  /** Stable per provider order: the same on every retry of every delivery about it. */
  idempotencyKey: string;
  /** Epoch ms by which the call must end (the invocation's working time); unbounded when absent. */
  deadline?: number;
}

/**
 * The order's current state, pushed whole (level-triggered), never a transition: applying the
 * newest version gives the right order whatever the arrival order of deliveries was.
 */
export interface OrderStateInput {
  ref: ProviderOrderRef;
  external: ExternalOrderRef;
  /** Increases with every change of the state below; the order system keeps the highest it saw. */
  version: number;
  status?: OrderStatus;
  paymentStatus: string;
  fulfilmentStatus: string;
  providerStatus?: string;
  subscriptionStatus?: string;
  /** When our record of the order last changed (ISO-8601). */
  updatedAt: string;
  /** Stable per (order, version). */
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
  /**
   * Pushes the order's current state; resolves `superseded` when the order system already holds a
   * newer version. Absent for the ledger: its order item is the state.
   */
  pushState?(input: OrderStateInput): Promise<'pushed' | 'superseded'>;
}
