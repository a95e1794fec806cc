import type { Log } from './logger';

/** One external effect the worker caused: a ReCharge call, an order-system call, a ledger write. */
export interface ExternalCall {
  target: 'recharge' | 'order-system' | 'ledger';
  method: string;
  /** URL path (ReCharge, HTTP order system); never a query string or a secret. */
  path?: string;
  /** The provider order the call is about, when the adapter knows it. */
  orderId?: string;
  /** HTTP status, or what ended the attempt without one. */
  status: number | 'ok' | 'network' | 'timeout' | 'error';
  durationMs: number;
  /**
   * Attempt within this call (ReCharge retries 429/5xx in-process). Order-system calls make one
   * attempt per record delivery (SQS redelivers), so theirs is always 1: see the record's receive count.
   */
  attempt: number;
}

/**
 * Logs one line per external effect: debug when it succeeded (the record's line has the outcome, and
 * the order item keeps each effect's step and result), warn otherwise.
 */
export function logExternalCall(log: Log, call: ExternalCall): void {
  const ok =
    call.status === 'ok' || (typeof call.status === 'number' && call.status < 400) || call.status === 409;
  (ok ? log.debug : log.warn).call(log, 'external call', { ...call });
}
