import type { Log } from '../../shared/logger';
import type { ReconcileDeps } from '../../shared/reconcile/deps';
import { runScheduledReconcile, type ScheduledRunResult } from '../../shared/reconcile/run';

export interface LocalReconciler {
  /** Runs one pass and check now (waits for a run already in progress first). */
  runNow(): Promise<ScheduledRunResult>;
  stop(): Promise<void>;
}

/**
 * The local mode's stand-in for the EventBridge schedule: the same pass and subscription guard as
 * the reconcile Lambda, every `intervalSeconds` (the first run at start, so the guard registers
 * the subscriptions of a fresh local mode). Runs never overlap.
 */
export function startLocalReconciler(options: {
  deps: ReconcileDeps;
  intervalSeconds: number;
  baseUrl: string;
  log: Log;
}): LocalReconciler {
  let running: Promise<ScheduledRunResult> | undefined;
  const budgetMs = Math.min(300, Math.max(10, options.intervalSeconds)) * 1000;
  const run = () => {
    running ??= runScheduledReconcile(options.deps, Date.now() + budgetMs, {
      baseUrl: options.baseUrl,
    }).finally(() => {
      running = undefined;
    });
    return running;
  };
  const tick = () => {
    run().catch((error: unknown) =>
      options.log.warn('reconcile run failed', { error: (error as Error)?.message ?? String(error) }),
    );
  };
  tick();
  const timer = setInterval(tick, options.intervalSeconds * 1000);
  timer.unref();
  return {
    async runNow() {
      if (running) await running.catch(() => undefined);
      return run();
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
