import { TransientError } from '../errors';

/**
 * Runs `task` with an AbortSignal and settles within `ms` no matter what the task does: on expiry
 * the signal is aborted (the AWS SDK cancels the HTTP request) and a TransientError is thrown, so
 * a hung dependency costs at most `ms`.
 */
export async function withTimeout<T>(
  task: (signal: AbortSignal) => Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new TransientError(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => task(controller.signal)), expired]);
  } finally {
    clearTimeout(timer);
  }
}
