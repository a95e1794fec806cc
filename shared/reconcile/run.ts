import type { ReconcileDeps } from './deps';
import { emptyPassResult, type ReconcilePassResult, runReconcilePass } from './pass';
import { type GuardResult, guardSubscriptions } from './subscription-guard';

function notConfiguredPass(now: number): ReconcilePassResult {
  const at = new Date(now).toISOString();
  return emptyPassResult('recharge', 'not-configured', at, at);
}

export interface ScheduledRunResult {
  pass: ReconcilePassResult;
  guard?: GuardResult;
}

/**
 * One scheduled run: the reconciliation pass, then the subscription guard. The guard recreates a
 * missing subscription only when this run's pass completed: ReCharge deleted it after 48 h of
 * failed deliveries, so the pass must first have listed and enqueued what changed in that gap
 * (and proved the API token works); otherwise the subscription is reported and the next run retries.
 * Never throws for a failed pass or check (both are counted and alarmed); only bad configuration does.
 */
export async function runScheduledReconcile(
  deps: Pick<ReconcileDeps, 'env' | 'ports' | 'guard' | 'configured'>,
  deadline: number,
  overrides: { baseUrl?: string } = {},
): Promise<ScheduledRunResult> {
  const { env } = deps;
  if (deps.configured && !(await deps.configured())) {
    // A first deploy: the secret starts empty. Nothing can be listed or registered yet, and nothing
    // is wrong: no failure is counted (no alarm); `doctor` reports the same state.
    deps.ports.log.info('reconcile skipped: not configured yet', {
      reason: 'RECHARGE_API_TOKEN is not in the secret yet',
    });
    return { pass: notConfiguredPass(deps.ports.now()) };
  }
  const pass = await runReconcilePass(deps.ports, {
    deadline,
    overlapSeconds: env.RECONCILE_OVERLAP_SECONDS,
    lookbackSeconds: env.RECONCILE_LOOKBACK_SECONDS,
  });
  const baseUrl = overrides.baseUrl ?? env.PUBLIC_BASE_URL;
  if (env.RECHARGE_WEBHOOK_GUARD === 'off') return { pass };
  if (!baseUrl) {
    deps.ports.log.warn('webhook subscriptions not checked', { reason: 'PUBLIC_BASE_URL is not set' });
    return { pass };
  }
  const guard = await guardSubscriptions(deps.guard, {
    baseUrl,
    topics: env.RECHARGE_WEBHOOK_TOPICS,
    mode: env.RECHARGE_WEBHOOK_GUARD,
    passCoveredGap: pass.outcome === 'completed',
    deadline,
  });
  return { pass, guard };
}
