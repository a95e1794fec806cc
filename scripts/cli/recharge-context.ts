import type { Log } from '../../shared/logger';
import { buildReconcileDeps, type ReconcileDeps } from '../../shared/reconcile/deps';
import { DEV_SECRETS } from '../local/dev-defaults';
import { readState } from '../local/state';
import { need, resolveTarget, stateFilePath, type Target } from './target';

/** Options shared by `reconcile` and `recharge-webhooks`. */
export const RECHARGE_TARGET_HELP = `ReCharge (local mode: its ReCharge API and development token; --aws: the environment):
  RECHARGE_API_URL, RECHARGE_API_VERSION, RECHARGE_API_TOKEN (or SECRET_ARN: read from the stack's
  secret), PUBLIC_BASE_URL / WEBHOOK_API_URL (the base ReCharge calls)`;

const quiet: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * The reconciler's dependencies for the CLI: against the running local mode (its queue, table and
 * ReCharge API), or with --aws against the deployed stack (QUEUE_URL, ORDERS_TABLE, the secret).
 */
export async function cliReconcileDeps(
  values: Parameters<typeof resolveTarget>[0] & { url?: string },
  log: Log = quiet,
): Promise<{ deps: ReconcileDeps; target: Target; baseUrl: string | undefined }> {
  const target = await resolveTarget(values);
  const state = target.kind === 'local' ? readState(stateFilePath(values)) : undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  env.QUEUE_URL = need(target.queueUrl, 'QUEUE_URL');
  env.ORDERS_TABLE = need(target.ordersTable, 'ORDERS_TABLE');
  // The shared ReCharge rate budget lives there (one per token, with the workers').
  env.IDEMPOTENCY_TABLE = need(target.idempotencyTable, 'IDEMPOTENCY_TABLE');
  env.AWS_REGION = target.region;
  if (state) {
    env.RECHARGE_API_URL = process.env.RECHARGE_API_URL || state.rechargeApiUrl;
    env.RECHARGE_API_TOKEN = process.env.RECHARGE_API_TOKEN || DEV_SECRETS.RECHARGE_API_TOKEN;
    // List the way the local mode's worker reads (a 2021-01 local mode pages by Link header).
    if (!process.env.RECHARGE_API_VERSION && state.rechargeApiVersion)
      env.RECHARGE_API_VERSION = state.rechargeApiVersion;
    // The local mode never reads a secret from AWS.
    delete env.SECRET_ARN;
  } else if (!process.env.RECHARGE_API_TOKEN) {
    // The worker's way: the API secret, and what it lacks from the combined one while a stack moves.
    if (target.apiSecretArn) {
      env.SECRET_ARN = target.apiSecretArn;
      if (target.secretArn) env.COMBINED_SECRET_ARN = target.secretArn;
    } else if (target.secretArn) env.SECRET_ARN = target.secretArn;
  }
  const baseUrl = values.url ?? (process.env.PUBLIC_BASE_URL || process.env.WEBHOOK_API_URL || target.apiUrl);
  const deps = buildReconcileDeps({
    env: { ...env, ...(baseUrl ? { PUBLIC_BASE_URL: baseUrl } : {}) },
    dynamo: target.dynamo,
    sqs: target.sqs,
    log,
    metrics: { count: () => undefined },
  });
  return { deps, target, baseUrl };
}
