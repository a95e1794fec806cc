import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { makeHandler as makeIngestHandler } from '../../functions/ingest/handler';
import { makeHandler as makeWorkerHandler } from '../../functions/worker/handler';
import { type ApiGatewayServer, type ProxyHandler, startApiGateway } from '../../scripts/local/api-gateway';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import type { QueueUrls, TableNames } from '../../scripts/local/resources';
import { type Poller, type SqsHandler, startSqsPoller } from '../../scripts/local/sqs-poller';
import { parseSecrets } from '../../shared/config';
import { makeSqsClient, makeSqsSender } from '../../shared/queue/sqs-sender';
import { MemoryRateBudget } from '../../shared/recharge-api/rate-budget';
import { buildReconcileDeps, type ReconcileDeps } from '../../shared/reconcile/deps';
import { buildWorkerDeps } from '../../shared/worker/deps';
import { createTestQueues, createTestTables, testDynamoClient, testSqsClient } from './aws';
import { recordingLog, recordingMetrics } from './fake-worker';

export const WEBHOOK_SECRET = 'reconcile-test-client-secret';
const FAST_BUDGET = () => new MemoryRateBudget({ capacity: 10_000, perSecond: 10_000 });

/**
 * The whole pipeline in one process, every part real: the fake ReCharge (keeping orders, listing
 * them, delivering signed webhooks to its subscriptions), the ingest handler behind the API Gateway
 * stand-in, the SQS emulator, the worker handler behind the event-source poller, DynamoDB Local;
 * and the reconciler's dependencies pointed at the same queue, table and fake.
 */
export interface ReconcileWorld {
  version: '2021-01' | '2021-11';
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  tables: TableNames;
  queues: QueueUrls;
  recharge: FakeRecharge;
  api: ApiGatewayServer;
  /** What the worker logged and counted. */
  workerLog: ReturnType<typeof recordingLog>;
  workerMetrics: ReturnType<typeof recordingMetrics>;
  reconcileDeps(
    env?: Record<string, string>,
    options?: { sleep?: (ms: number) => Promise<void> },
  ): ReconcileDeps & {
    log: ReturnType<typeof recordingLog>;
    metrics: ReturnType<typeof recordingMetrics>;
  };
  /** Waits until the fake has no delivery in flight and the queue is empty and idle (twice in a row). */
  settle(timeoutMs?: number): Promise<void>;
  /** Messages in the dead-letter queue (approximate, as SQS counts). */
  deadLetters(): Promise<number>;
  close(): Promise<void>;
}

async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

export async function createReconcileWorld(
  version: '2021-01' | '2021-11',
  options: { workerEnv?: Record<string, string> } = {},
): Promise<ReconcileWorld> {
  const dynamo = testDynamoClient();
  const sqs = testSqsClient();
  const [tables, queues, recharge] = await Promise.all([
    createTestTables(dynamo),
    // Generous: this process runs the fake, the ingest and the worker on one event loop, and a batch cut
    // short by its deadline would abort a PUT the fake already applied (then retried: a second PUT).
    createTestQueues(sqs, { visibilityTimeoutSeconds: 180 }),
    startFakeRecharge({ webhookSecret: WEBHOOK_SECRET }),
  ]);
  const secrets = parseSecrets({ RECHARGE_WEBHOOK_SECRETS: WEBHOOK_SECRET });
  const endpoint = process.env.TEST_SQS_ENDPOINT as string;
  const sender = makeSqsSender(
    makeSqsClient({
      region: 'us-east-1',
      endpoint,
      timeoutMs: 5000,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
    queues.queueUrl,
    5000,
  );
  const ingest = makeIngestHandler({
    settings: {
      maxMessageBytes: 1_048_576,
      rechargeTimestampToleranceSeconds: 172_800,
      queueSendTimeoutMs: 5000,
      secretsTimeoutMs: 1000,
    },
    getSecrets: async () => secrets,
    sendToQueue: (webhook, signal) => sender.send(webhook, signal),
    log: recordingLog(),
  });
  const api = await startApiGateway(ingest as unknown as ProxyHandler, { port: 0 });

  const env = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    AWS_REGION: 'us-east-1',
    QUEUE_URL: queues.queueUrl,
    DLQ_URL: queues.dlqUrl,
    IDEMPOTENCY_TABLE: tables.idempotency,
    ORDERS_TABLE: tables.orders,
    RECHARGE_API_URL: recharge.url,
    RECHARGE_API_VERSION: version,
    RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
    // Everything shares one event loop here: a short timeout would retry PUTs the fake already applied.
    RECHARGE_TIMEOUT_MS: '15000',
    PUBLIC_BASE_URL: api.url,
    ...overrides,
  });
  const workerLog = recordingLog();
  const workerMetrics = recordingMetrics();
  const workerDeps = buildWorkerDeps({
    env: env(options.workerEnv),
    dynamo,
    sqs,
    log: workerLog,
    metrics: workerMetrics,
    rechargeBudget: FAST_BUDGET(),
    safetyMarginMs: 1000,
  });
  const poller: Poller = await startSqsPoller({
    client: sqs,
    queueUrl: queues.queueUrl,
    handler: makeWorkerHandler(workerDeps) as unknown as SqsHandler,
    region: 'us-east-1',
    batchSize: 10,
    concurrency: 4,
    functionTimeoutMs: 120_000,
    waitTimeSeconds: 1,
  });

  return {
    version,
    dynamo,
    sqs,
    tables,
    queues,
    recharge,
    api,
    workerLog,
    workerMetrics,
    reconcileDeps(overrides = {}, options = {}) {
      const log = recordingLog();
      const metrics = recordingMetrics();
      const deps = buildReconcileDeps({ env: env(overrides), dynamo, sqs, log, metrics, ...options });
      return { ...deps, log, metrics };
    },
    async settle(timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      let quiet = 0;
      while (quiet < 2) {
        if (Date.now() > until) throw new Error('the pipeline did not settle in time');
        await recharge.idle();
        const busy = (await depth(sqs, queues.queueUrl)) + poller.inFlight;
        quiet = busy === 0 ? quiet + 1 : 0;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    },
    deadLetters: () => depth(sqs, queues.dlqUrl),
    async close() {
      await poller.stop();
      await api.close();
      await recharge.close();
    },
  };
}

export { chargeIdOf, isPaid, rechargeOrder } from './recharge-orders';
