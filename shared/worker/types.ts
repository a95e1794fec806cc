import type { WriteBackMode } from '../config';
import type { ExternalOrderRef } from '../domain/order';
import type { OrderEvent } from '../domain/order-event';
import type { StepState } from '../domain/order-record';
import type { Log } from '../logger';
import type {
  ChargeWriteOutcome,
  HeldIds,
  OrderWriteOutcome,
  ReservedSlot,
  WriteAttempt,
} from '../recharge-api/client';

export type { ReservedSlot, WriteAttempt };

/** The slice of the ReCharge API the worker uses (the HTTP client, or a fake in unit tests). */
export interface RechargeApi {
  updateOrder(
    orderId: string,
    ids: ExternalOrderRef,
    deadline: number,
    attempt?: WriteAttempt,
    options?: { keepOthers?: boolean },
  ): Promise<OrderWriteOutcome>;
  /** What a ReCharge order holds in its external id fields (one GET; the repair of a lost write-back). */
  readOrderIds?(orderId: string, deadline: number): Promise<HeldIds | 'gone' | 'unknown'>;
  updateCharge(
    chargeId: string,
    ids: ExternalOrderRef,
    deadline: number,
    attempt?: WriteAttempt,
  ): Promise<ChargeWriteOutcome>;
  /** Reserves the first-attempt slots of n writes with one budget call (empty: none reserved). */
  reserveWrites?(n: number, deadline: number): Promise<ReservedSlot[]>;
}

/**
 * One external effect a provider asks for once the order exists externally. The worker runs it
 * exactly once per (provider order, name, qualifier): a completed step is not run again, and its
 * stored result goes to `done`.
 */
export interface FollowUpStep<T = unknown> {
  name: string;
  qualifier?: string;
  /**
   * Makes the effect. `attempt.verifyFirst`: an earlier attempt's outcome is unknown (released
   * uncertain, or its lease lapsed after a crash), so check before writing; the effect sets
   * `attempt.uncertain` when this run leaves an outcome unknown, and the step is released so.
   */
  run(attempt: WriteAttempt): Promise<T>;
  /** Its first attempt is one ReCharge write that can use a slot reserved ahead (`attempt.slot`). */
  rechargeWrite?: boolean;
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
  /** ReCharge write-backs: fill (default), overwrite, shadow or off. */
  writeBackMode?: WriteBackMode;
  /** Where the delivery came from: a reconcile delivery is a fresh listing of the provider's order. */
  origin?: 'replay' | 'reconcile';
  /**
   * The delivery is older than the order's saved state (stale), or a repeat of one applied before:
   * what its payload says the provider holds (a ReCharge order's external ids) may not be current
   * and must not decide anything.
   */
  stale?: boolean;
  /** A step as the order item holds it (any qualifier): what earlier deliveries did. */
  stepState?(name: string): StepState | undefined;
  count?(metric: string, value?: number, dimensions?: Record<string, string>): void;
}
