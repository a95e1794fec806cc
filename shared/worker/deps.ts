import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as s3Sdk from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { makeS3Archive } from '../archive/s3-archive';
import { boundByCallDeadline } from '../aws/call-deadline';
import { recordAwsCalls } from '../aws/call-recorder';
import { functionAwsClients } from '../aws/clients';
import { parseWorkerEnv, type WorkerEnv, workerEnvProblems } from '../config';
import { ConfigError } from '../errors';
import { logExternalCall } from '../external-call';
import { type Log, processLog } from '../logger';
import { METRIC, makeMetricsSink } from '../metrics';
import { HttpOrderSystem } from '../order-system/http';
import { LedgerOrderSystem, OrderStore } from '../order-system/ledger';
import type { OrderSystem } from '../order-system/types';
import { makeRecordDeferrer } from '../queue/defer';
import { makeDeadLetterSender } from '../queue/dlq';
import { RechargeClient } from '../recharge-api/client';
import { type RateBudget, sharedRateBudget } from '../recharge-api/rate-budget';
import { makeSecretsProvider } from '../secrets';
import type { MetricsSink, WorkerDeps } from './process-record';

export interface BuildWorkerDepsOptions {
  env?: NodeJS.ProcessEnv;
  log?: Log;
  metrics?: MetricsSink;
  dynamo?: DynamoDBClient;
  sqs?: SQSClient;
  /** Override the shared rate budget (e.g. MemoryRateBudget to benchmark the worker alone). */
  rechargeBudget?: RateBudget;
  concurrency?: number;
  safetyMarginMs?: number;
  hooks?: WorkerDeps['hooks'];
}

/** Powertools metrics as a sink; `flush` publishes the stored EMF lines (once per invocation). */
export function powertoolsMetricsSink(): MetricsSink & { flush(): void } {
  return makeMetricsSink();
}

/**
 * Builds the worker's dependencies from the environment (workerEnvSchema), once per cold start:
 * SDK clients, the orders table (which also holds each order's effect steps), the order system chosen by ORDER_SYSTEM,
 * the ReCharge client with its shared rate-limit bucket, and the DLQ sender.
 */
export function buildWorkerDeps(options: BuildWorkerDepsOptions = {}): WorkerDeps & { env: WorkerEnv } {
  const source = options.env ?? process.env;
  const problems = workerEnvProblems(source);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  const env = parseWorkerEnv(source);
  const log: Log = options.log ?? processLog;
  const sink = options.metrics ?? powertoolsMetricsSink();
  const bindings = {
    IDEMPOTENCY_TABLE: env.IDEMPOTENCY_TABLE,
    ORDERS_TABLE: env.ORDERS_TABLE,
    QUEUE_URL: env.QUEUE_URL,
    DLQ_URL: env.DLQ_URL,
  };
  const { dynamo, sqs } = functionAwsClients(env, 'worker', bindings, options);
  // No fixed timeout fits every call: each is cut off at the invocation's deadline instead.
  boundByCallDeadline(dynamo, 'dynamodb');
  boundByCallDeadline(sqs, 'sqs');
  // An unparsable secret surfaces as a ConfigError that never quotes it (see makeSecretsProvider).
  const secrets = makeSecretsProvider(env, options.env ?? process.env, 'worker');

  let orderSystem: OrderSystem;
  if (env.ORDER_SYSTEM === 'http') {
    if (!env.ORDER_SYSTEM_URL) throw new ConfigError('ORDER_SYSTEM_URL is required when ORDER_SYSTEM=http');
    orderSystem = new HttpOrderSystem({
      url: env.ORDER_SYSTEM_URL,
      timeoutMs: env.ORDER_SYSTEM_TIMEOUT_MS,
      secret: async () => (await secrets()).ORDER_SYSTEM_SECRET,
      onCall: (call) => logExternalCall(log, call),
    });
  } else {
    orderSystem = new LedgerOrderSystem(dynamo, env.ORDERS_TABLE, env.ORDER_NUMBER_START, (call) =>
      logExternalCall(log, call),
    );
  }

  // One budget per token for every container (and the reconciler and CLI), kept in the idempotency table.
  const budget = options.rechargeBudget ?? sharedRateBudget(dynamo, env.IDEMPOTENCY_TABLE, env, log);
  const recharge = new RechargeClient({
    baseUrl: env.RECHARGE_API_URL,
    version: env.RECHARGE_API_VERSION,
    timeoutMs: env.RECHARGE_TIMEOUT_MS,
    token: async () => (await secrets()).RECHARGE_API_TOKEN,
    budget,
    onCall: (call) => {
      sink.count(METRIC.rechargeCalls);
      if (call.status === 429) sink.count(METRIC.recharge429);
      // One line per external effect (debug; warn when it failed): the ReCharge call and its answer.
      logExternalCall(log, { target: 'recharge', ...call });
    },
  });

  // One bucket: the archive (first step of each record) and the claim-check bodies it reads.
  // The S3 client is created here, at init (SDK imported statically, bundled): loading it lazily
  // put its load time on the first record, inside the worker's working time (graceful-stop e2e).
  const archive = env.ARCHIVE_BUCKET
    ? makeS3Archive({
        bucket: env.ARCHIVE_BUCKET,
        region: env.AWS_REGION,
        endpoint: env.S3_ENDPOINT,
        sdk: s3Sdk,
        onClient: (s3) =>
          recordAwsCalls(s3, 'worker', { ARCHIVE_BUCKET: env.ARCHIVE_BUCKET }, env.AWS_CALL_RECORD_FILE),
      })
    : undefined;

  return {
    env,
    ...(archive ? { archive, claims: archive } : {}),
    stepLeaseSeconds: env.IDEMPOTENCY_LEASE_SECONDS,
    orders: new OrderStore(dynamo, env.ORDERS_TABLE),
    orderSystem,
    recharge,
    deadLetter: makeDeadLetterSender(sqs, env.DLQ_URL),
    log,
    metrics: sink,
    now: Date.now,
    concurrency: options.concurrency ?? 5,
    safetyMarginMs: options.safetyMarginMs ?? 5000,
    hooks: options.hooks,
    defer: makeRecordDeferrer(sqs, env.QUEUE_URL, env.QUEUE_MAX_RECEIVE_COUNT),
    writeBackMode: env.RECHARGE_WRITE_BACK,
  };
}
