import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseWorkerEnv } from '../../shared/config';
import { QUEUE_DEFAULTS } from '../../shared/resources';
import { type ApiGatewayServer, type ProxyHandler, startApiGateway } from './api-gateway';
import { buildLambdaBundles } from './bundles';
import { DEFAULT_PORT, DEV_SECRETS, LOCAL_NAMES } from './dev-defaults';
import { startDynamoDbLocal, startSqsEmulator } from './emulators';
import { type FakeRecharge, startFakeRecharge } from './fake-recharge';
import { LAMBDA_NODE_MAJOR, nodeMajor } from './lambda-node';
import { assertCanListen, assertLocalSettings } from './preflight';
import { type LocalReconciler, startLocalReconciler } from './reconciler';
import { ensureBucket, ensureQueues, ensureTables } from './resources';
import { type Poller, type SqsHandler, startSqsPoller } from './sqs-poller';
import {
  assertStateFileFree,
  defaultStateFile,
  type LocalState,
  readState,
  removeState,
  writeState,
} from './state';
import { installLineLogs } from './terminal-logs';

export interface LocalModeOptions {
  /** HTTP port of the webhook API; 0 picks a free one. Default PORT or 3000. */
  port?: number;
  /** Interface to bind; default HOST or 127.0.0.1. */
  host?: string;
  /** Data folder (DynamoDB files, queue snapshot, state file); null = in memory. */
  dataDir?: string | null;
  /** State file the CLI reads; default `<dataDir or .local>/endpoints.json`. */
  stateFile?: string;
  /** Source of the configuration; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Messages per worker invocation (Lambda BatchSize). */
  batchSize?: number;
  /** Concurrent worker invocations. */
  concurrency?: number;
  /** Queue visibility timeout, shorter than the stack's so redeliveries happen in seconds. */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  workerTimeoutSeconds?: number;
  /** Long-poll wait of the poller; short values make stopping quicker. */
  waitTimeSeconds?: number;
  /** Log format: one line per event (default on a terminal) or Lambda's JSON lines (default otherwise). */
  logs?: 'lines' | 'json';
  /** Run the esbuild bundles Lambda runs (built with the stack's options) instead of the sources. */
  bundled?: boolean;
  /** Where the banner goes; default stdout. */
  print?: (text: string) => void;
}

export interface LocalMode {
  readonly apiUrl: string;
  readonly state: LocalState;
  readonly stateFile: string;
  /** The built-in fake ReCharge API when no RECHARGE_API_URL is configured. */
  readonly fakeRecharge: FakeRecharge | undefined;
  /** Graceful stop: no new requests, in-flight batches finish, emulators stop (queue snapshot saved). */
  stop(): Promise<void>;
  /** Abandons the worker's in-flight batches at once (as if its host died); for crash tests. */
  killWorker(): void;
  /** The reconciler and subscription guard, unless RECONCILE_INTERVAL_SECONDS=0. */
  readonly reconciler: LocalReconciler | undefined;
}

/** Settings of the local mode itself (no Lambda counterpart), read from the environment. */
export function localSettings(env: NodeJS.ProcessEnv) {
  const int = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
    return value;
  };
  const visibilityTimeoutSeconds = int('LOCAL_VISIBILITY_TIMEOUT_SECONDS', 30);
  return {
    port: int('PORT', DEFAULT_PORT),
    host: env.HOST || '127.0.0.1',
    batchSize: int('LOCAL_BATCH_SIZE', 10),
    concurrency: int('LOCAL_CONCURRENCY', 4),
    visibilityTimeoutSeconds,
    maxReceiveCount: int('LOCAL_MAX_RECEIVE_COUNT', QUEUE_DEFAULTS.maxReceiveCount),
    // A batch should end before its messages become visible again (timeout <= visibility), but the
    // worker keeps a 5 s safety margin inside its timeout, so never default below 10 s.
    workerTimeoutSeconds: int(
      'LOCAL_WORKER_TIMEOUT_SECONDS',
      Math.min(QUEUE_DEFAULTS.workerTimeoutSeconds, Math.max(10, visibilityTimeoutSeconds)),
    ),
    waitTimeSeconds: int('LOCAL_WAIT_TIME_SECONDS', 2),
    /** Seconds between reconciliation passes and subscription checks; 0 turns them off. */
    reconcileIntervalSeconds: int('RECONCILE_INTERVAL_SECONDS', 60),
  };
}

/**
 * The worker reads its configuration on its first batch; refuse a bad one before anything starts,
 * naming the local setting. Resource names are placeholders: the local mode sets them itself.
 */
function checkWorkerSettings(env: NodeJS.ProcessEnv, workerTimeoutSeconds: number): void {
  try {
    parseWorkerEnv({
      ...env,
      QUEUE_URL: 'local',
      DLQ_URL: 'local',
      IDEMPOTENCY_TABLE: 'local',
      ORDERS_TABLE: 'local',
      WORKER_TIMEOUT_SECONDS: String(workerTimeoutSeconds),
    });
  } catch (error) {
    throw new Error(
      String((error as Error).message).replace('WORKER_TIMEOUT_SECONDS', 'LOCAL_WORKER_TIMEOUT_SECONDS'),
    );
  }
}

function killStaleEmulators(stateFile: string): void {
  assertStateFileFree(stateFile);
  const previous = readState(stateFile);
  if (!previous) return;
  // A crashed run (kill -9) can leave its emulators behind; kill only if the pid is still ours.
  for (const pid of previous.emulatorPids ?? []) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/DynamoDBLocal|fauxqs-server/.test(cmdline)) process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already, or not Linux: nothing to clean.
    }
  }
}

function localLogger(): Logger {
  return new Logger({ serviceName: 'local' });
}

/**
 * Starts the whole pipeline on this machine: DynamoDB Local and the fauxqs SQS emulator with the
 * stack's tables and queues, the ingest handler behind an API Gateway-shaped HTTP server, and the
 * worker handler behind an SQS event-source-shaped poller. Handler modules are imported only after
 * process.env holds their configuration, because they read it once at cold start (so one process
 * runs one local mode; tests start it as a child process).
 */
export async function startLocal(options: LocalModeOptions = {}): Promise<LocalMode> {
  const sourceEnv = options.env ?? process.env;
  // Every setting of the local mode and of both functions, before anything starts (fail fast).
  assertLocalSettings(sourceEnv, { port: options.port, host: options.host });
  const settings = localSettings(sourceEnv);
  const dataDir = options.dataDir === undefined ? null : options.dataDir && path.resolve(options.dataDir);
  const stateFile = options.stateFile ?? defaultStateFile(dataDir);
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  checkWorkerSettings(sourceEnv, options.workerTimeoutSeconds ?? settings.workerTimeoutSeconds);
  killStaleEmulators(stateFile);
  await assertCanListen(options.port ?? settings.port, options.host ?? settings.host, {
    port: options.port === undefined ? 'PORT' : '--port',
    host: options.host === undefined ? 'HOST' : '--host',
  });

  const region = sourceEnv.AWS_REGION || 'us-east-1';
  const started: { stop(): Promise<void> }[] = [];
  const cleanup = async () => {
    for (const item of started.reverse()) await item.stop().catch(() => undefined);
  };

  // Built while the emulators start (esbuild runs in its own process).
  const bundling = options.bundled ? buildLambdaBundles() : undefined;
  bundling?.catch(() => undefined); // awaited below; a failure surfaces there
  try {
    // Emulators in their own process groups: Ctrl-C reaches only us, and we stop them last.
    // S3 on a second fauxqs process: archive writes must not slow the SQS answers the ingest waits
    // for (in AWS they are separate services too).
    const [dynamo, sqs, s3] = await Promise.all([
      startDynamoDbLocal({ dataDir: dataDir ? path.join(dataDir, 'dynamodb') : undefined, detached: true }),
      startSqsEmulator({
        snapshotFile: dataDir ? path.join(dataDir, 'sqs-messages.json') : undefined,
        snapshotIntervalMs: dataDir ? 2000 : undefined,
        detached: true,
      }),
      startSqsEmulator({ s3Dir: dataDir ? path.join(dataDir, 's3') : undefined, detached: true }),
    ]);
    started.push(dynamo, sqs, s3);

    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials });
    const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region, credentials });
    await ensureTables(dynamoClient, {
      idempotency: LOCAL_NAMES.idempotencyTable,
      orders: LOCAL_NAMES.ordersTable,
    });
    await ensureBucket(
      new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region, credentials }),
      LOCAL_NAMES.archiveBucket,
    );
    const { queueUrl, dlqUrl } = await ensureQueues(sqsClient, LOCAL_NAMES.queue, {
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? settings.visibilityTimeoutSeconds,
      maxReceiveCount: options.maxReceiveCount ?? settings.maxReceiveCount,
    });

    // Development credentials for whatever is not configured, so the demo works with no setup.
    const defaulted: string[] = [];
    const secrets: Record<string, string> = {};
    for (const [name, value] of Object.entries(DEV_SECRETS)) {
      const configured = sourceEnv[name];
      if (configured) secrets[name] = configured;
      else {
        secrets[name] = value;
        defaulted.push(name);
      }
    }
    let fakeRecharge: FakeRecharge | undefined;
    const fakeLog = new Logger({ serviceName: 'fake-recharge' });
    let rechargeApiUrl = sourceEnv.RECHARGE_API_URL;
    if (!rechargeApiUrl) {
      fakeRecharge = await startFakeRecharge({
        tokens: [secrets.RECHARGE_API_TOKEN as string],
        latencyMs: Number(sourceEnv.LOCAL_FAKE_RECHARGE_LATENCY_MS ?? 0),
        onAnswer: (call) => fakeLog.info('fake recharge received', { ...call }),
        // Signs the webhooks it delivers to its subscriptions as ReCharge would.
        webhookSecret: (secrets.RECHARGE_WEBHOOK_SECRETS as string).split(',')[0]?.trim(),
      });
      // A share of deliveries lost on purpose, to watch the reconciler recover them.
      const dropRate = Number(sourceEnv.LOCAL_FAKE_RECHARGE_DROP_RATE ?? 0);
      if (dropRate > 0) fakeRecharge.setDeliveryDrop(dropRate);
      const fake = fakeRecharge;
      started.push({ stop: () => fake.close() });
      rechargeApiUrl = fakeRecharge.url;
    }

    const handlerEnv: Record<string, string> = {
      ...secrets,
      AWS_REGION: region,
      QUEUE_URL: queueUrl,
      DLQ_URL: dlqUrl,
      IDEMPOTENCY_TABLE: LOCAL_NAMES.idempotencyTable,
      ORDERS_TABLE: LOCAL_NAMES.ordersTable,
      SQS_ENDPOINT: sqs.endpoint,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      // fauxqs also emulates S3: the archive and claim checks work as in the stack.
      S3_ENDPOINT: s3.endpoint,
      ARCHIVE_BUCKET: LOCAL_NAMES.archiveBucket,
      RECHARGE_API_URL: rechargeApiUrl,
      POWERTOOLS_SERVICE_NAME: 'order-webhooks',
      WORKER_TIMEOUT_SECONDS: String(options.workerTimeoutSeconds ?? settings.workerTimeoutSeconds),
    };
    // Emulators accept any credentials; real ones from the shell must never be sent anywhere.
    handlerEnv.AWS_ACCESS_KEY_ID = 'local';
    handlerEnv.AWS_SECRET_ACCESS_KEY = 'local';
    handlerEnv.AWS_EC2_METADATA_DISABLED = 'true';
    // One line per event on a terminal (not Powertools' 16-line indented dev JSON); --json-logs keeps JSON.
    if ((options.logs ?? (process.stdout.isTTY ? 'lines' : 'json')) === 'lines') {
      installLineLogs(process.stdout);
      installLineLogs(process.stderr);
    }
    // CloudWatch EMF lines mean nothing locally; `stats` shows the counts instead.
    if (sourceEnv.POWERTOOLS_METRICS_DISABLED === undefined) handlerEnv.POWERTOOLS_METRICS_DISABLED = 'true';
    for (const [name, value] of Object.entries(sourceEnv))
      if (process.env[name] === undefined) process.env[name] = value;
    Object.assign(process.env, handlerEnv);
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    delete process.env.SECRET_ARN;

    const log = localLogger();
    let ingest: ProxyHandler;
    let worker: SqsHandler;
    if (bundling) {
      const bundles = await bundling;
      started.push({ stop: async () => bundles.remove() });
      process.setSourceMapsEnabled(true); // as NODE_OPTIONS=--enable-source-maps does in Lambda
      const load = createRequire(__filename);
      ingest = (load(bundles.ingest) as { handler: ProxyHandler }).handler;
      worker = (load(bundles.worker) as { handler: SqsHandler }).handler;
    } else {
      ingest = (await import('../../functions/ingest/handler')).handler as unknown as ProxyHandler;
      worker = (await import('../../functions/worker/handler')).handler as unknown as SqsHandler;
    }

    const poller: Poller = await startSqsPoller({
      client: sqsClient,
      queueUrl,
      handler: worker,
      region,
      batchSize: options.batchSize ?? settings.batchSize,
      concurrency: options.concurrency ?? settings.concurrency,
      functionTimeoutMs: (options.workerTimeoutSeconds ?? settings.workerTimeoutSeconds) * 1000,
      waitTimeSeconds: options.waitTimeSeconds ?? settings.waitTimeSeconds,
      onBatch: (info) => {
        if (info.outcome !== 'ok') log.warn('worker batch', { ...info });
      },
      onError: (error) => log.warn('poller error', { error: (error as Error)?.message ?? String(error) }),
    });
    started.push(poller);

    let reconciler: LocalReconciler | undefined;
    const reconcileInterval = settings.reconcileIntervalSeconds;
    let api: ApiGatewayServer;
    try {
      api = await startApiGateway(ingest, {
        port: options.port ?? settings.port,
        host: options.host ?? settings.host,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new Error(`port ${options.port ?? settings.port} is in use: set PORT or --port`);
      throw error;
    }
    if (reconcileInterval > 0) {
      const { buildReconcileDeps } = await import('../../shared/reconcile/deps');
      const baseUrl = sourceEnv.PUBLIC_BASE_URL || api.url;
      const deps = buildReconcileDeps({ env: { ...process.env, PUBLIC_BASE_URL: baseUrl } });
      // The built-in fake ReCharge starts empty on every start: what the guard has seen is kept for
      // this run only, so a start registers (logged, no "recreated" warning) whatever the kept data
      // remembers, and a subscription lost while running is still a re-creation.
      if (fakeRecharge) {
        let seen: readonly string[] = [];
        deps.guard.seen = {
          get: async () => seen,
          record: async (topics) => {
            seen = topics;
          },
        };
      }
      reconciler = startLocalReconciler({
        deps,
        intervalSeconds: reconcileInterval,
        baseUrl,
        log: {
          debug: (message, extra) => log.debug(message, extra ?? {}),
          info: (message, extra) => log.info(message, extra ?? {}),
          warn: (message, extra) => log.warn(message, extra ?? {}),
          error: (message, extra) => log.error(message, extra ?? {}),
        },
      });
      const running = reconciler;
      // Reverse start order: stopped after the API and before the worker.
      started.push({ stop: () => running.stop() });
    }
    started.push({ stop: () => api.close() });

    const state: LocalState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      dataDir,
      apiUrl: api.url,
      region,
      sqsEndpoint: sqs.endpoint,
      dynamodbEndpoint: dynamo.endpoint,
      queueUrl,
      dlqUrl,
      idempotencyTable: LOCAL_NAMES.idempotencyTable,
      ordersTable: LOCAL_NAMES.ordersTable,
      archiveBucket: LOCAL_NAMES.archiveBucket,
      s3Endpoint: s3.endpoint,
      fakeRechargeUrl: fakeRecharge?.url ?? null,
      rechargeApiUrl,
      rechargeApiVersion: process.env.RECHARGE_API_VERSION || undefined,
      emulatorPids: [dynamo.pid, sqs.pid, s3.pid].filter((p): p is number => p !== undefined),
      devCredentials: defaulted,
    };
    writeState(stateFile, state);
    print(banner(state, { defaulted, secrets, stateFile, bundled: options.bundled }));

    let stopping: Promise<void> | undefined;
    return {
      apiUrl: api.url,
      state,
      stateFile,
      fakeRecharge,
      killWorker: () => poller.kill(),
      reconciler,
      stop() {
        stopping ??= (async () => {
          // Reverse start order: API first (no new work), then the worker drains, then the emulators.
          await cleanup();
          removeState(stateFile);
        })();
        return stopping;
      },
    };
  } catch (error) {
    await cleanup();
    await bundling?.then((b) => b.remove()).catch(() => undefined);
    throw error;
  }
}

function banner(
  state: LocalState,
  info: { defaulted: string[]; secrets: Record<string, string>; stateFile: string; bundled?: boolean },
): string {
  const wixToken = info.defaulted.includes('WIX_CASHIER_PAY_TOKENS')
    ? encodeURIComponent(DEV_SECRETS.WIX_CASHIER_PAY_TOKENS)
    : '<your WIX_CASHIER_PAY_TOKENS token>';
  const lines = [
    '',
    `order-webhooks local mode is running (${info.bundled ? `Lambda's esbuild bundles on Node ${process.version}` : 'same handlers as in Lambda'}, on local emulators)`,
    '',
    'Webhook URLs:',
    `  ReCharge         POST ${state.apiUrl}/webhooks/recharge/order/created   (or /order/processed, /order/updated, or /webhooks/recharge with X-Recharge-Topic)`,
    `  Wix Cashier Pay  POST ${state.apiUrl}/webhooks/wix-cashier-pay/${wixToken}`,
    `  Sevi             POST ${state.apiUrl}/webhooks/sevi   (Authorization: <token>)`,
    '',
    `Data:     ${state.dataDir ?? 'in memory (nothing is kept after stop)'}`,
    `State:    ${info.stateFile}`,
    `ReCharge: ${state.fakeRechargeUrl ? `built-in fake ReCharge API at ${state.fakeRechargeUrl} (set RECHARGE_API_URL to use a real one)` : state.rechargeApiUrl}`,
    `SQS:      ${state.sqsEndpoint} (queue ${LOCAL_NAMES.queue}, dead-letter queue ${LOCAL_NAMES.queue}-dlq)`,
    `S3:       ${state.s3Endpoint} (archive bucket ${LOCAL_NAMES.archiveBucket}: \`npm run cli -- archive list --provider recharge\`)`,
    `DynamoDB: ${state.dynamodbEndpoint} (tables ${state.idempotencyTable}, ${state.ordersTable})`,
  ];
  if (info.bundled && nodeMajor(process.version) !== LAMBDA_NODE_MAJOR)
    lines.push(
      '',
      `Note: Lambda runs Node ${LAMBDA_NODE_MAJOR}, this is Node ${process.version} (docs/local-mode.md, "Which Node").`,
    );
  if (info.defaulted.length > 0) {
    lines.push(
      '',
      'Development credentials (not configured, so these are used; never use them in production):',
    );
    for (const name of info.defaulted) lines.push(`  ${name}=${info.secrets[name]}`);
  }
  lines.push(
    '',
    'Try it:',
    '  npm run cli -- send recharge 2021-11-created-regular',
    '  npm run cli -- orders',
    '  npm run cli -- stats',
    '',
    'Ctrl-C stops everything (in-flight work finishes first).',
    '',
  );
  return lines.join('\n');
}
