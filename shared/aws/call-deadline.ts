import { AsyncLocalStorage } from 'node:async_hooks';
import { TransientError } from '../errors';

/**
 * Bounds AWS SDK calls by the invocation's deadline. The worker's DynamoDB and SQS clients have no
 * fixed timeout that fits: a call may take as long as the invocation has left, and no longer, or
 * the invocation times out without its partial-batch answer (every record counts a receive).
 *
 * How: processBatch runs its records inside `runWithCallDeadline(deadline, ...)`; a client passed
 * through `boundByCallDeadline` aborts each HTTP request at that deadline and turns the abort into a
 * TransientError, so the record is reported failed and SQS keeps it. AsyncLocalStorage rather than a
 * module variable: the local mode runs several batches at once in one process, each with its own
 * deadline. Outside a batch (CLI, scripts) calls are not bounded.
 */
const deadlines = new AsyncLocalStorage<number>();

/** Runs `work` with every bounded client call cut off at `deadline` (epoch ms). */
export function runWithCallDeadline<T>(deadline: number, work: () => Promise<T>): Promise<T> {
  return deadlines.run(deadline, work);
}

interface RequestHandlerLike {
  handle(request: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}
interface ClientLike {
  config: { requestHandler: unknown };
}

const BOUND = Symbol('boundByCallDeadline');

/**
 * Wraps the client's request handler (shared with document clients built `from` it) so each
 * request is aborted at the current call deadline. Idempotent. Returns the client.
 */
export function boundByCallDeadline<C>(client: C, service: string, now: () => number = Date.now): C {
  const config = (client as unknown as ClientLike).config;
  const inner = config.requestHandler as RequestHandlerLike & { [BOUND]?: true };
  if (inner[BOUND]) return client;
  const bound = Object.create(inner) as RequestHandlerLike & { [BOUND]?: true };
  bound[BOUND] = true;
  bound.handle = async (request, options = {}) => {
    const deadline = deadlines.getStore();
    if (deadline === undefined) return inner.handle(request, options);
    const left = deadline - now();
    if (left <= 0) throw new TransientError(`${service} call not sent: no time left in this invocation`);
    const cutOff = AbortSignal.timeout(left);
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, cutOff]) : cutOff;
    try {
      return await inner.handle(request, { ...options, abortSignal });
    } catch (error) {
      if (cutOff.aborted)
        throw new TransientError(`${service} call cut off: no time left in this invocation`, {
          cause: error,
        });
      throw error;
    }
  };
  config.requestHandler = bound;
  return client;
}
