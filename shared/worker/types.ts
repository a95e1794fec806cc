import type { ExternalOrderRef } from '../domain/order';
import type { OrderEvent } from '../domain/order-event';
import type { OrderRecord } from '../domain/order-record';
import type { Log } from '../logger';
import type { ChargeWriteOutcome } from '../recharge-api/client';

/** The slice of the ReCharge API the worker uses (the HTTP client, or a fake in unit tests). */
export interface RechargeApi {
  updateOrder(orderId: string, ids: ExternalOrderRef, deadline: number): Promise<void>;
  updateCharge(chargeId: string, ids: ExternalOrderRef, deadline: number): Promise<ChargeWriteOutcome>;
}

/**
 * Runs one external effect exactly once per (provider order, step, qualifier): a completed step
 * returns its stored result without running again.
 */
export type StepRunner = <T>(
  name: string,
  qualifier: string | undefined,
  run: () => Promise<T>,
) => Promise<T>;

/** What a provider's follow-up effects get once the order exists externally. */
export interface FollowUpContext {
  event: OrderEvent;
  record: OrderRecord;
  external: ExternalOrderRef;
  step: StepRunner;
  recharge: RechargeApi;
  /** Epoch ms by which all work must end (the invocation's remaining time minus a margin). */
  deadline: number;
  log: Log;
}
