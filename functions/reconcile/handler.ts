import type { Context } from 'aws-lambda';
import { buildReconcileDeps, type ReconcileDeps } from '#shared/reconcile/deps';
import { runScheduledReconcile, type ScheduledRunResult } from '#shared/reconcile/run';
import { powertoolsMetricsSink } from '#shared/worker/deps';

/** Time kept back from the invocation for recording the outcome and flushing metrics. */
const SAFETY_MARGIN_MS = 10_000;

/** The reconcile Lambda: an EventBridge schedule tick in, one pass and one subscription check out. */
export type ReconcileHandler = (event: unknown, context: Context) => Promise<ScheduledRunResult>;

/** Builds the handler around its dependencies, or a factory run on the first invocation (cold start). */
export function makeHandler(deps: ReconcileDeps | (() => ReconcileDeps)): ReconcileHandler {
  let resolved: ReconcileDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (_event, context) => {
    resolved ??= (deps as () => ReconcileDeps)();
    try {
      return await runScheduledReconcile(
        resolved,
        Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      );
    } finally {
      (resolved.ports.metrics as { flush?: () => void }).flush?.();
    }
  };
}

export const handler: ReconcileHandler = makeHandler(() =>
  buildReconcileDeps({ metrics: powertoolsMetricsSink() }),
);
