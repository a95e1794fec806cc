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

/** A create's answer: the ids, and the state version the order system says it holds. */
export interface CreatedOrder extends ExternalOrderRef {
  /**
   * The version the order system holds for this order after the call: the one sent when it created
   * the order, the one it reports when the order existed already (HTTP 409). Absent: it did not say
   * (an order system that predates the field), so what it holds is unknown.
   */
  heldVersion?: number;
}

/** A push's answer; `superseded`: the order system already held a version at least as new. */
export interface PushAnswer {
  outcome: 'pushed' | 'superseded';
  /** The version the order system reports holding (on 409/412), when it says. */
  heldVersion?: number;
}

/**
 * The merchant's order system ("the external system"). Two implementations, chosen by ORDER_SYSTEM:
 * the built-in DynamoDB ledger (default) and a merchant HTTP API. Either way the worker keeps its
 * per-order state (status, history, provider times) in the ORDERS_TABLE, which is what makes the
 * state machine and stale checks work for an HTTP system that only accepts POST and PATCH.
 */
export interface OrderSystem {
  readonly kind: 'ledger' | 'http';
  /**
   * True when createOrder has no effect beyond the ids it hands out (the ledger: a number from a
   * counter): the worker then creates before saving the event and attaches the ids in that same
   * write, with no create-order claim around it; a number lost to a race or a crash is skipped.
   * Otherwise (an effect in another system) create-order is claimed on the order item first.
   */
  readonly idsBeforeSave?: boolean;
  /** Creates the order, or returns the existing ids (and the version held) for the same idempotency key. */
  createOrder(input: CreateOrderInput): Promise<CreatedOrder>;
  /**
   * Pushes the order's current state; resolves `superseded` when the order system already holds a
   * newer version. Absent for the ledger: its order item is the state.
   */
  pushState?(input: OrderStateInput): Promise<PushAnswer>;
}
