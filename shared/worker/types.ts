import type { ExternalOrderRef } from '../domain/order';
import type { OrderEvent } from '../domain/order-event';
import type { Log } from '../logger';
import type { ChargeWriteOutcome } from '../recharge-api/client';

/** The slice of the ReCharge API the worker uses (the HTTP client, or a fake in unit tests). */
export interface RechargeApi {
  updateOrder(orderId: string, ids: ExternalOrderRef, deadline: number): Promise<void>;
  updateCharge(chargeId: string, ids: ExternalOrderRef, deadline: number): Promise<ChargeWriteOutcome>;
}

/**
 * One external effect a provider asks for once the order exists externally. The worker runs it
 * exactly once per (provider order, name, qualifier): a completed step is not run again, and its
 * stored result goes to `done`.
 */
export interface FollowUpStep<T = unknown> {
  name: string;
  qualifier?: string;
  run(): Promise<T>;
  /** Sees the result, fresh or stored (e.g. to log an unsupported write-back). */
  done?(result: T): void;
}

/** What a provider's follow-up effects are planned from once the order exists externally. */
export interface FollowUpContext {
  event: OrderEvent;
  external: ExternalOrderRef;
  recharge: RechargeApi;
  /** Epoch ms by which all work must end (the invocation's remaining time minus a margin). */
  deadline: number;
  log: Log;
}
