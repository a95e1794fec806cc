/** A usage or input problem: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An operation that failed: printed without a stack, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}
