/**
 * One small error hierarchy. Every error says whether retrying could help (`transient`),
 * so the ingest maps it to an HTTP status and the worker decides between SQS redelivery
 * and the dead-letter queue without string matching.
 */
export abstract class AppError extends Error {
  abstract readonly transient: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting is missing or malformed; raised at cold start, names the variable, never its value. */
export class ConfigError extends AppError {
  readonly transient = false;
}

/** Retrying later may succeed: throttling, timeouts, 5xx, a queue or table that is down. */
export class TransientError extends AppError {
  readonly transient = true;
}

/**
 * Transient, and worth retrying only after `retryAfterMs`: a rate budget with no slot before the
 * deadline, or a step another attempt holds. The worker defers the record (ChangeMessageVisibility)
 * instead of letting it count toward the dead-letter queue.
 */
export class RetryLaterError extends TransientError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Retrying cannot succeed: the payload or the remote system rejects the request for good. */
export class PermanentError extends AppError {
  readonly transient = false;
}

/** True when `error` is known to be permanent; unknown errors count as transient (retry, then DLQ). */
export function isPermanent(error: unknown): boolean {
  return error instanceof AppError && !error.transient;
}
