import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildWorkerDeps, powertoolsMetricsSink } from '#shared/worker/deps';
import { processBatch } from '#shared/worker/process-batch';
import type { WorkerDeps } from '#shared/worker/process-record';

/** The worker Lambda: an SQS batch in, partial batch failures out. Logic lives in shared/worker. */
export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Builds the handler around its dependencies, or a factory for them that runs on the first
 * invocation (cold start), so importing this module needs no environment.
 */
export function makeHandler(deps: WorkerDeps | (() => WorkerDeps)): WorkerHandler {
  let resolved: WorkerDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event, context) => {
    resolved ??= (deps as () => WorkerDeps)();
    try {
      const { response } = await processBatch(event.Records, resolved, context);
      return response;
    } finally {
      const sink = resolved.metrics as { flush?: () => void };
      sink.flush?.();
    }
  };
}

// Inside Lambda, wire at import time (like the ingest) so a bad setting fails the init phase, named
// in the init error, instead of failing every batch while messages wait; elsewhere importing this
// module has no effect.
const initDeps = process.env.AWS_LAMBDA_FUNCTION_NAME
  ? buildWorkerDeps({ metrics: powertoolsMetricsSink() })
  : undefined;

export const handler: WorkerHandler = makeHandler(
  initDeps ?? (() => buildWorkerDeps({ metrics: powertoolsMetricsSink() })),
);
