import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { functionAwsClients } from '../aws/clients';
import { parseEnv, type ReconcileEnv, reconcileEnvSchema } from '../config';
import { type Log, processLog } from '../logger';
import { METRIC } from '../metrics';
import { ordersDocumentClient } from '../order-system/ledger';
import { rechargeReconcileSource } from '../providers/recharge/reconcile';
import { RECHARGE_WRITE_BACK_STEPS } from '../providers/recharge/write-back';
import { RechargeClient } from '../recharge-api/client';
import { type RateBudget, sharedRateBudget } from '../recharge-api/rate-budget';
import { createWebhook, listWebhooks } from '../recharge-api/webhooks';
import { makeSecretsProvider } from '../secrets';
import { powertoolsMetricsSink } from '../worker/deps';
import type { MetricsSink } from '../worker/process-record';
import { makeBatchEnqueuer } from './enqueue';
import { makeSnapshotReader } from './order-snapshots';
import type { ReconcilePorts } from './pass';
import { makeStateStore } from './state-store';
import type { GuardPorts } from './subscription-guard';

export interface BuildReconcileDepsOptions {
  env?: NodeJS.ProcessEnv;
  log?: Log;
  metrics?: MetricsSink;
  dynamo?: DynamoDBClient;
  sqs?: SQSClient;
  /** Override the shared rate budget (a MemoryRateBudget for benchmarks). */
  rechargeBudget?: RateBudget;
  /** Counts every call made to each backend (benchmark, tests). */
  onCall?: (backend: 'recharge' | 'dynamodb' | 'sqs') => void;
  /** Client overrides for tests (a fast sleep for 429 back-off). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ReconcileDeps {
  env: ReconcileEnv;
  ports: ReconcilePorts;
  guard: GuardPorts;
  recharge: RechargeClient;
  /**
   * False while the secret holds no RECHARGE_API_TOKEN (a first deploy before the secret is filled):
   * the scheduled run logs "not configured yet" and skips, with no failure counted.
   */
  configured?: () => Promise<boolean>;
}

/**
 * Builds the reconciler's dependencies from the environment (reconcileEnvSchema), once per cold
 * start: every ReCharge call goes through one RechargeClient (the shared rate budget, timeouts, 429 handling).
 */
export function buildReconcileDeps(options: BuildReconcileDepsOptions = {}): ReconcileDeps {
  const env = parseEnv(reconcileEnvSchema, options.env ?? process.env);
  const log: Log = options.log ?? processLog;
  const sink = options.metrics ?? powertoolsMetricsSink();
  const { dynamo, sqs } = functionAwsClients(
    env,
    'reconcile',
    { ORDERS_TABLE: env.ORDERS_TABLE, IDEMPOTENCY_TABLE: env.IDEMPOTENCY_TABLE, QUEUE_URL: env.QUEUE_URL },
    options,
  );
  const secrets = makeSecretsProvider(env, options.env ?? process.env, 'reconcile');
  const recharge = new RechargeClient({
    baseUrl: env.RECHARGE_API_URL,
    version: env.RECHARGE_API_VERSION,
    timeoutMs: env.RECHARGE_TIMEOUT_MS,
    token: async () => (await secrets()).RECHARGE_API_TOKEN,
    // The same budget as every worker container (one per token, in the idempotency table): list and
    // webhook calls take their slots from it, so the reconciler can never push the token over its limit.
    budget: options.rechargeBudget ?? sharedRateBudget(dynamo, env.IDEMPOTENCY_TABLE, env, log),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    onCall: (call) => {
      options.onCall?.('recharge');
      sink.count(METRIC.rechargeCalls);
      if (call.status === 429) sink.count(METRIC.recharge429);
      log.debug('recharge call', { ...call });
    },
  });
  const doc = ordersDocumentClient(dynamo);
  const ports: ReconcilePorts = {
    source: rechargeReconcileSource(recharge, env.RECHARGE_WRITE_BACK),
    readSnapshots: makeSnapshotReader({
      doc,
      table: env.ORDERS_TABLE,
      steps: RECHARGE_WRITE_BACK_STEPS,
      onCall: () => options.onCall?.('dynamodb'),
    }),
    enqueue: makeBatchEnqueuer(sqs, env.QUEUE_URL, { onCall: () => options.onCall?.('sqs') }),
    state: makeStateStore(doc, env.ORDERS_TABLE),
    log,
    metrics: sink,
    now: Date.now,
  };
  const guard: GuardPorts = {
    list: (deadline) => listWebhooks(recharge, deadline),
    create: (subscription, deadline) => createWebhook(recharge, subscription, deadline),
    log,
    metrics: sink,
    // One GetItem per run on the state item (the write only when the set of ours changed).
    seen: {
      get: async () => (await ports.state.get('recharge')).subscriptionsSeen ?? [],
      record: (topics) => ports.state.recordSubscriptionsSeen('recharge', topics),
    },
  };
  const configured = async () => {
    try {
      return Boolean((await secrets()).RECHARGE_API_TOKEN);
    } catch {
      // An unreadable secret is not "not configured yet": the pass runs and reports the error.
      return true;
    }
  };
  return { env, ports, guard, recharge, configured };
}
