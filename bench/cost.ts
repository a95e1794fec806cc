/**
 * What a webhook costs, counted from the real handlers: the ingest, the worker and a reconciler
 * pass run in this process against DynamoDB Local, fauxqs (SQS and S3) and the fake ReCharge, over
 * the mix below. Every AWS request is metered (shared/aws/call-recorder.ts, setAwsCallMeter) with
 * its billing units: DynamoDB capacity units as DynamoDB reports them (failed conditional writes:
 * the stored item's size; a read that finds nothing: its minimum), SQS requests in 64 KB chunks, S3
 * requests and the bytes left stored.
 * Lambda GB-seconds use the stack's memory sizes and durations measured here (an estimate: local
 * emulators, not AWS); log bytes are everything the handlers print at the stack's log level, plus
 * Lambda's own lines and the API access log line (estimates). The stack's settings (API type,
 * memory, batching window, alarms, dashboard) come from the synthesized template, so the model
 * follows the stack. Prices: bench/cost-prices.ts.
 *
 * The floor, measured in the same run: a webhook's unavoidable SQS send, receive and delete, its
 * API request and its two Lambda invocations (ingest and its share of a worker batch).
 *
 * Usage: `npm run bench:cost [-- --webhooks 400 --rate 10]`; writes bench/out/cost.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ESTIMATES, PRICES, PRICES_AS_OF, PRICES_REGION } from './cost-prices';
import { benchArg, benchAwsEnv } from './lib/cli';

benchAwsEnv();

const WEBHOOKS = Number(benchArg('webhooks', '400'));
/** Webhooks per second while traffic flows: decides how full the worker's batches get. */
const RATE = Number(benchArg('rate', '10'));
const OUT = path.join(__dirname, 'out', 'cost.json');
const TARGET_BODY_BYTES = 8 * 1024;
const PASSES_PER_MONTH = (30 * 24 * 60) / 15;

type Fn = 'ingest' | 'worker' | 'reconcile';

interface Meter {
  dynamoWrite: number;
  dynamoRead: number;
  dynamoCalls: Record<string, number>;
  /** Capacity units by command and table binding, e.g. `PutItem ORDERS_TABLE`. */
  dynamoUnits: Record<string, number>;
  sqsRequests: number;
  sqsCalls: Record<string, number>;
  s3Put: number;
  s3Get: number;
  s3Calls: Record<string, number>;
  logBytes: number;
  logLines: number;
  invocations: number;
  gbSeconds: number;
  metricNames: Set<string>;
}

const newMeter = (): Meter => ({
  dynamoWrite: 0,
  dynamoRead: 0,
  dynamoCalls: {},
  dynamoUnits: {},
  sqsRequests: 0,
  sqsCalls: {},
  s3Put: 0,
  s3Get: 0,
  s3Calls: {},
  logBytes: 0,
  logLines: 0,
  invocations: 0,
  gbSeconds: 0,
  metricNames: new Set(),
});

/** DynamoDB's size of a marshalled item (AWS "Item sizes and formats"). */
function attributeBytes(value: Record<string, unknown>): number {
  const [type, v] = Object.entries(value)[0] ?? ['NULL', true];
  if (type === 'S') return Buffer.byteLength(String(v), 'utf8');
  if (type === 'N') return Math.ceil(String(v).replace(/^-/, '').replace('.', '').length / 2) + 1;
  if (type === 'B') return (v as Uint8Array).length;
  if (type === 'BOOL' || type === 'NULL') return 1;
  if (type === 'L')
    return 3 + (v as Record<string, unknown>[]).reduce((s, item) => s + 1 + attributeBytes(item), 0);
  if (type === 'M') return 3 + itemBytes(v as Record<string, Record<string, unknown>>);
  if (type === 'SS' || type === 'NS') return (v as string[]).reduce((s, x) => s + Buffer.byteLength(x), 0);
  return 0;
}

function itemBytes(item: Record<string, Record<string, unknown>>): number {
  let sum = 0;
  for (const [name, value] of Object.entries(item)) sum += Buffer.byteLength(name) + attributeBytes(value);
  return sum;
}

const READS = /^(GetItem|Query|Scan|BatchGetItem|TransactGetItems)$/;

function capacityOf(output: Record<string, unknown> | undefined): number {
  const consumed = output?.ConsumedCapacity as { CapacityUnits?: number } | { CapacityUnits?: number }[];
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
}

function sqsPayloadBytes(input: Record<string, unknown>): number {
  const one = (m: { MessageBody?: string; MessageAttributes?: Record<string, { StringValue?: string }> }) => {
    let bytes = Buffer.byteLength(m.MessageBody ?? '');
    for (const [name, a] of Object.entries(m.MessageAttributes ?? {}))
      bytes += Buffer.byteLength(name) + Buffer.byteLength(a.StringValue ?? '') + 6;
    return bytes;
  };
  const entries = input.Entries as Parameters<typeof one>[0][] | undefined;
  return entries ? entries.reduce((s, e) => s + one(e), 0) : one(input as Parameters<typeof one>[0]);
}

const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / PRICES.sqsChunkBytes));

async function main() {
  const { createApp } = await import('../infra/create-app');
  const { Template } = await import('aws-cdk-lib/assertions');
  const { stack } = createApp({
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  const stackFacts = readStack(template);

  // The functions log at the stack's level: set before the logger module is first imported.
  process.env.POWERTOOLS_LOG_LEVEL = stackFacts.logLevel;
  process.env.POWERTOOLS_SERVICE_NAME = 'order-webhooks';
  delete process.env.POWERTOOLS_DEV;

  const { setAwsCallMeter } = await import('../shared/aws/call-recorder');
  const { startDynamoDbLocal, startSqsEmulator } = await import('../scripts/local/emulators');
  const { ensureBucket, ensureQueues, ensureTables } = await import('../scripts/local/resources');
  const { startFakeRecharge, FAKE_RECHARGE_TOKEN } = await import('../scripts/local/fake-recharge');

  const meters: Record<Fn, Meter> = { ingest: newMeter(), worker: newMeter(), reconcile: newMeter() };
  let current: Meter = meters.ingest;
  let capturing = false;
  const realWrite = process.stdout.write.bind(process.stdout);
  const realErrorWrite = process.stderr.write.bind(process.stderr);
  // Lambda sends both streams to CloudWatch Logs (Powertools writes warnings and errors to stderr).
  const capture = (real: typeof realWrite) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (!capturing) return (real as (...a: unknown[]) => boolean)(chunk, ...rest);
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        current.logBytes += Buffer.byteLength(line) + PRICES.logEventOverheadBytes;
        current.logLines++;
        if (line.includes('"_aws"')) {
          try {
            const emf = JSON.parse(line) as {
              _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
            };
            for (const group of emf._aws.CloudWatchMetrics)
              for (const m of group.Metrics) current.metricNames.add(m.Name);
          } catch {}
        }
      }
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture(realWrite);
  process.stderr.write = capture(realErrorWrite);

  const dynamo = await startDynamoDbLocal();
  const sqsEmulator = await startSqsEmulator();
  const recharge = await startFakeRecharge();
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const rawDynamo = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials });
  const rawSqs = new SQSClient({ endpoint: sqsEmulator.endpoint, region, credentials });
  const rawS3 = new S3Client({ endpoint: sqsEmulator.endpoint, region, credentials, forcePathStyle: true });
  try {
    const stamp = Date.now();
    const tables = { idempotency: `cost-idem-${stamp}`, orders: `cost-orders-${stamp}` };
    await ensureTables(rawDynamo, tables);
    const { queueUrl, dlqUrl } = await ensureQueues(rawSqs, `cost-${stamp}`);
    const bucket = `cost-archive-${stamp}`;
    await ensureBucket(rawS3, bucket);

    setAwsCallMeter((event) => {
      const m = current;
      const [service, command = ''] = event.call.split(':');
      if (service === 'dynamodb') {
        m.dynamoCalls[command] = (m.dynamoCalls[command] ?? 0) + 1;
        let units = capacityOf(event.output);
        if (event.error) {
          const old = (event.error as { Item?: Record<string, Record<string, unknown>> }).Item;
          units = Math.max(1, Math.ceil((old ? itemBytes(old) : 0) / 1024));
        }
        // A read that finds nothing is billed its minimum (one unit strongly consistent, half a unit
        // eventually consistent); DynamoDB Local reports 0 for it.
        if (READS.test(command) && /^(GetItem|Query|Scan)$/.test(command))
          units = Math.max(units, event.input.ConsistentRead ? 1 : 0.5);
        if (READS.test(command)) m.dynamoRead += units;
        else m.dynamoWrite += units;
        const table = String(event.input.TableName ?? Object.keys(event.input.RequestItems ?? {})[0] ?? '');
        const what = `${command} ${table.includes('orders') ? 'orders' : 'idempotency'}${event.error ? ' (refused)' : ''}`;
        m.dynamoUnits[what] = (m.dynamoUnits[what] ?? 0) + units;
      } else if (service === 'sqs') {
        m.sqsCalls[command] = (m.sqsCalls[command] ?? 0) + 1;
        m.sqsRequests += /^Send/.test(command) ? chunks(sqsPayloadBytes(event.input)) : 1;
      } else if (service === 's3') {
        m.s3Calls[command] = (m.s3Calls[command] ?? 0) + 1;
        if (/^(Get|Head)Object$/.test(command)) m.s3Get++;
        else m.s3Put++;
      }
    });

    const secretsEnv = {
      RECHARGE_WEBHOOK_SECRETS: 'bench-recharge-client-secret',
      WIX_CASHIER_PAY_TOKENS: 'bench-wix-hook-token-0001',
      SEVI_WEBHOOK_TOKENS: 'bench-sevi-token-000001',
      RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
    };
    const env = {
      AWS_REGION: region,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SQS_ENDPOINT: sqsEmulator.endpoint,
      S3_ENDPOINT: sqsEmulator.endpoint,
      QUEUE_URL: queueUrl,
      DLQ_URL: dlqUrl,
      IDEMPOTENCY_TABLE: tables.idempotency,
      ORDERS_TABLE: tables.orders,
      ARCHIVE_BUCKET: bucket,
      RECHARGE_API_URL: recharge.url,
      RECHARGE_API_VERSION: '2021-11',
      ...stackFacts.workerEnv,
      ...secretsEnv,
    };
    Object.assign(process.env, env);

    const ingestModule = await import('../functions/ingest/handler');
    const workerModule = await import('../functions/worker/handler');
    const reconcileModule = await import('../functions/reconcile/handler');
    const { buildWorkerDeps, powertoolsMetricsSink } = await import('../shared/worker/deps');
    const { buildReconcileDeps } = await import('../shared/reconcile/deps');
    const { buildMix } = await import('./lib/cost-mix');

    const ingest = ingestModule.makeHandler(() => ingestModule.defaultDeps(process.env));
    const worker = workerModule.makeHandler(() =>
      buildWorkerDeps({ env: process.env, metrics: powertoolsMetricsSink() }),
    );
    const reconcile = reconcileModule.makeHandler(() =>
      buildReconcileDeps({ env: process.env, metrics: powertoolsMetricsSink() }),
    );
    const context = (ms: number) =>
      ({ getRemainingTimeInMillis: () => ms }) as unknown as import('aws-lambda').Context;

    const timed = async <T>(fn: Fn, memoryMb: number, run: () => Promise<T>): Promise<T> => {
      current = meters[fn];
      capturing = true;
      const started = performance.now();
      try {
        return await run();
      } finally {
        const ms = Math.ceil(performance.now() - started);
        capturing = false;
        current.invocations++;
        current.gbSeconds += (memoryMb / 1024) * (ms / 1000);
        if (stackFacts.platformLines) current.logBytes += ESTIMATES.lambdaPlatformLogBytesPerInvocation;
      }
    };

    // Idle: one reconciler pass with nothing changed (and a cold start of every client).
    await timed('reconcile', stackFacts.memory.reconcile, () => reconcile({}, context(120_000)));
    const idlePass = meters.reconcile;
    meters.reconcile = newMeter();

    const mix = buildMix(WEBHOOKS, TARGET_BODY_BYTES, secretsEnv);
    for (const order of mix.rechargeOrders) await recharge.upsertOrder(order);

    // Traffic: every webhook through the ingest (API Gateway's event), then the worker drains the
    // queue in batches as its event source would form them at RATE webhooks per second.
    const apiRequests = mix.requests.length;
    let accessLogBytes = 0;
    for (const request of mix.requests) {
      const response = await timed('ingest', stackFacts.memory.ingest, () => ingest(request.event));
      if (response.statusCode !== 200)
        throw new Error(`ingest answered ${response.statusCode}: ${response.body}`);
      accessLogBytes += stackFacts.accessLogLineBytes;
    }
    const batchSize = Math.max(
      1,
      Math.min(
        stackFacts.batchSize,
        Math.round((RATE * stackFacts.batchingWindowSeconds) / ESTIMATES.idleQueuePollers),
      ),
    );
    let processed = 0;
    let batches = 0;
    for (let idle = 0; idle < 3; ) {
      current = meters.worker;
      const records: SQSRecord[] = [];
      let receivedBytes = 0;
      while (records.length < batchSize) {
        const got = await rawSqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, batchSize - records.length),
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            WaitTimeSeconds: records.length ? 0 : 1,
          }),
        );
        meters.worker.sqsCalls.ReceiveMessage = (meters.worker.sqsCalls.ReceiveMessage ?? 0) + 1;
        const messages = got.Messages ?? [];
        for (const m of messages) {
          receivedBytes += Buffer.byteLength(m.Body ?? '');
          records.push(toRecord(m));
        }
        meters.worker.sqsRequests += chunks(receivedBytes);
        receivedBytes = 0;
        if (messages.length === 0) break;
      }
      if (records.length === 0) {
        idle++;
        continue;
      }
      idle = 0;
      batches++;
      const answer = await timed('worker', stackFacts.memory.worker, () =>
        worker({ Records: records }, context(stackFacts.workerTimeoutMs)),
      );
      const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
      if (failed.size) throw new Error(`${failed.size} records failed`);
      const done = records.filter((r) => !failed.has(r.messageId));
      processed += done.length;
      await rawSqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      meters.worker.sqsCalls.DeleteMessageBatch = (meters.worker.sqsCalls.DeleteMessageBatch ?? 0) + 1;
      meters.worker.sqsRequests += 1;
    }
    if (processed < apiRequests) throw new Error(`only ${processed} of ${apiRequests} records processed`);
    // The receives that found the queue empty above stand for the idle polling priced below.
    meters.worker.sqsRequests -= 3;

    // A reconciler pass that lists the traffic's ReCharge orders (they all changed).
    await timed('reconcile', stackFacts.memory.reconcile, () => reconcile({}, context(120_000)));
    const busyPass = meters.reconcile;

    let storedBytes = 0;
    let storedObjects = 0;
    let token: string | undefined;
    do {
      const page = await rawS3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        storedBytes += o.Size ?? 0;
        storedObjects++;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    const report = price({
      webhooks: apiRequests,
      batches,
      batchSize,
      meters,
      idlePass,
      busyPass,
      accessLogBytes,
      storedBytes,
      storedObjects,
      stackFacts,
      mix: mix.summary,
    });
    realWrite(report.text);
    mkdirSync(path.dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(report.json, null, 2)}\n`);
    realWrite(`wrote ${path.relative(process.cwd(), OUT)}\n`);
  } finally {
    setAwsCallMeter(undefined);
    capturing = false;
    process.stdout.write = realWrite as typeof process.stdout.write;
    process.stderr.write = realErrorWrite as typeof process.stderr.write;
    await recharge.close();
    await sqsEmulator.stop();
    await dynamo.stop();
  }
}

function toRecord(m: import('@aws-sdk/client-sqs').Message): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {}))
    messageAttributes[k] = {
      dataType: v.DataType ?? 'String',
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  return {
    messageId: m.MessageId as string,
    receiptHandle: m.ReceiptHandle as string,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: m.Attributes?.SentTimestamp ?? '0',
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes,
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:cost',
    awsRegion: 'us-east-1',
  };
}

interface StackFacts {
  apiType: 'rest' | 'http';
  memory: Record<Fn, number>;
  workerTimeoutMs: number;
  batchSize: number;
  batchingWindowSeconds: number;
  logLevel: string;
  /** Lambda's platform lines (start, report) are logged only at INFO or DEBUG system level. */
  platformLines: boolean;
  workerEnv: Record<string, string>;
  alarmMetrics: number;
  compositeAlarms: number;
  alarms: number;
  dashboards: number;
  secrets: number;
  accessLogLineBytes: number;
}

/** What the cost depends on, read from the synthesized template (stack defaults). */
function readStack(template: {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}): StackFacts {
  const resources = Object.values(template.Resources);
  const of = (type: string) => resources.filter((r) => r.Type === type);
  const fn = (word: string) => {
    const found = of('AWS::Lambda::Function').find((r) =>
      String(r.Properties?.Description ?? '').includes(`order-webhooks ${word}`),
    );
    if (!found) throw new Error(`no ${word} function in the template`);
    return found.Properties as {
      MemorySize: number;
      Timeout: number;
      Environment?: { Variables?: Record<string, unknown> };
      LoggingConfig?: { SystemLogLevel?: string };
    };
  };
  const ingest = fn('ingest');
  const worker = fn('worker');
  const reconcile = fn('reconcile');
  const mapping = of('AWS::Lambda::EventSourceMapping')[0]?.Properties as
    | { BatchSize?: number; MaximumBatchingWindowInSeconds?: number }
    | undefined;
  const vars = worker.Environment?.Variables ?? {};
  const logLevel = String(vars.POWERTOOLS_LOG_LEVEL ?? vars.LOG_LEVEL ?? 'INFO');
  const workerEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars))
    if (
      typeof v === 'string' &&
      /^(ORDER_SYSTEM|ORDER_NUMBER_START|IDEMPOTENCY_\w+|WORKER_TIMEOUT_SECONDS|POWERTOOLS_LOG_LEVEL|PUBLISH_DASHBOARD_METRICS)$/.test(
        k,
      )
    )
      workerEnv[k] = v;
  let alarmMetrics = 0;
  const alarms = of('AWS::CloudWatch::Alarm');
  for (const alarm of alarms) {
    const metrics = alarm.Properties?.Metrics as { MetricStat?: unknown }[] | undefined;
    alarmMetrics += metrics ? metrics.filter((m) => m.MetricStat).length || 1 : 1;
  }
  const http = of('AWS::ApiGatewayV2::Api').length > 0;
  const stage = (http ? of('AWS::ApiGatewayV2::Stage') : of('AWS::ApiGateway::Stage'))[0]?.Properties as
    | { AccessLogSetting?: { Format?: string }; AccessLogSettings?: { Format?: string } }
    | undefined;
  const format = stage?.AccessLogSetting?.Format ?? stage?.AccessLogSettings?.Format ?? '';
  return {
    apiType: http ? 'http' : 'rest',
    memory: { ingest: ingest.MemorySize, worker: worker.MemorySize, reconcile: reconcile.MemorySize },
    workerTimeoutMs: worker.Timeout * 1000,
    batchSize: mapping?.BatchSize ?? 10,
    batchingWindowSeconds: mapping?.MaximumBatchingWindowInSeconds ?? 0,
    logLevel,
    platformLines: !/^(WARN|ERROR)$/.test(String(worker.LoggingConfig?.SystemLogLevel ?? 'INFO')),
    workerEnv,
    alarmMetrics,
    compositeAlarms: of('AWS::CloudWatch::CompositeAlarm').length,
    alarms: alarms.length,
    dashboards: of('AWS::CloudWatch::Dashboard').length,
    secrets: of('AWS::SecretsManager::Secret').length,
    accessLogLineBytes: format
      ? Buffer.byteLength(renderAccessLog(format)) + PRICES.logEventOverheadBytes
      : 0,
  };
}

/** The access log line for a typical request: each `$context.x` replaced by a typical value. */
function renderAccessLog(format: string): string {
  const typical: Record<string, string> = {
    requestId: '6f1c2a8e-0b5d-4c1e-9a77-3d2f1e0c5b6a',
    requestTime: '06/Dec/2026:20:30:00 +0000',
    requestTimeEpoch: '1796589000123',
    'identity.sourceIp': '203.0.113.10',
    'identity.userAgent': 'ReCharge Webhooks/1.0',
    httpMethod: 'POST',
    resourcePath: '/webhooks/recharge',
    routeKey: 'POST /webhooks/recharge',
    status: '200',
    responseLength: '19',
    responseLatency: '42',
    'integration.status': '200',
    integrationStatus: '200',
    integrationLatency: '38',
    'integration.latency': '38',
    integrationErrorMessage: '-',
    'integration.error': '-',
    'error.message': '-',
  };
  return format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => {
    const value = typical[name];
    // A field the table does not know would make the estimate quietly short.
    if (value === undefined) throw new Error(`bench:cost: no typical value for $context.${name}`);
    return value;
  });
}

interface PriceInput {
  webhooks: number;
  batches: number;
  batchSize: number;
  meters: Record<Fn, Meter>;
  idlePass: Meter;
  busyPass: Meter;
  accessLogBytes: number;
  storedBytes: number;
  storedObjects: number;
  stackFacts: StackFacts;
  mix: Record<string, unknown>;
}

interface Line {
  name: string;
  unitsPerWebhook: number;
  unit: string;
  usdPerMillion: number;
}

function price(input: PriceInput): { text: string; json: unknown } {
  const { webhooks, meters, stackFacts: s } = input;
  const per = (n: number) => n / webhooks;
  const M = 1e6;
  const lines: Line[] = [];
  const add = (name: string, units: number, unit: string, usdPerUnit: number) =>
    lines.push({ name, unitsPerWebhook: per(units), unit, usdPerMillion: per(units) * usdPerUnit * M });
  const apiPrice = s.apiType === 'http' ? PRICES.apiHttpPerMillion : PRICES.apiRestPerMillion;
  // Traffic's share of the reconciler: the busy pass beyond an idle one.
  const extra = (pick: (m: Meter) => number) => Math.max(0, pick(input.busyPass) - pick(input.idlePass));

  add(`API Gateway (${s.apiType.toUpperCase()})`, webhooks, 'request', apiPrice / M);
  for (const fn of ['ingest', 'worker'] as const) {
    const m = meters[fn];
    add(`${fn} Lambda requests`, m.invocations, 'invocation', PRICES.lambdaRequestPerMillion / M);
    add(`${fn} Lambda duration (estimate)`, m.gbSeconds, 'GB-s', PRICES.lambdaGbSecondArm);
  }
  add(
    'SQS requests',
    meters.ingest.sqsRequests + meters.worker.sqsRequests + extra((m) => m.sqsRequests),
    '64 KB request',
    PRICES.sqsPerMillionRequests / M,
  );
  add(
    'DynamoDB write units',
    meters.worker.dynamoWrite + meters.ingest.dynamoWrite + extra((m) => m.dynamoWrite),
    'WRU',
    PRICES.dynamoWritePerMillion / M,
  );
  add(
    'DynamoDB read units',
    meters.worker.dynamoRead + meters.ingest.dynamoRead + extra((m) => m.dynamoRead),
    'RRU',
    PRICES.dynamoReadPerMillion / M,
  );
  add(
    'S3 PUT/LIST requests',
    meters.worker.s3Put + meters.ingest.s3Put,
    'request',
    PRICES.s3PutPerThousand / 1000,
  );
  add(
    'S3 GET/HEAD requests',
    meters.worker.s3Get + meters.ingest.s3Get,
    'request',
    PRICES.s3GetPerThousand / 1000,
  );
  add(
    'CloudWatch Logs',
    meters.ingest.logBytes + meters.worker.logBytes + input.accessLogBytes + extra((m) => m.logBytes),
    'byte',
    PRICES.logsIngestPerGb / 1024 ** 3,
  );
  add(
    'reconciler (traffic share)',
    extra((m) => m.gbSeconds),
    'GB-s',
    PRICES.lambdaGbSecondArm,
  );
  // Metric names published with traffic cost a month each when traffic flows every hour; at
  // 1 M webhooks a month it does, so a million carries one month of them.
  const trafficMetrics = new Set([...meters.ingest.metricNames, ...meters.worker.metricNames]);
  lines.push({
    name: `custom metrics with traffic (${trafficMetrics.size} names, a month)`,
    unitsPerWebhook: 0,
    unit: 'metric-month',
    usdPerMillion: trafficMetrics.size * PRICES.customMetricPerMonth,
  });
  const perMillionUsd = lines.reduce((s2, l) => s2 + l.usdPerMillion, 0);

  // What scales with batches, not webhooks: worker invocations, receives and deletes, archive PUTs.
  // At another batch size those lines scale by batch / other (receives in 64 KB chunks: approximate).
  const perBatchUsd =
    per(meters.worker.invocations) * PRICES.lambdaRequestPerMillion +
    per(meters.worker.sqsRequests) * PRICES.sqsPerMillionRequests +
    per(meters.worker.s3Put) * (PRICES.s3PutPerThousand / 1000) * M;
  const atBatch = (b: number) => perMillionUsd - perBatchUsd + (perBatchUsd * input.batchSize) / b;
  const batchAt = (rate: number) =>
    Math.max(
      1,
      Math.min(s.batchSize, Math.round((rate * s.batchingWindowSeconds) / ESTIMATES.idleQueuePollers)),
    );
  const byRate = [
    { traffic: '100 k a month, evenly spread', perSecond: 1e5 / (30 * 86_400) },
    { traffic: '1 M a month, evenly spread', perSecond: 1e6 / (30 * 86_400) },
    { traffic: '10 M a month, evenly spread', perSecond: 1e7 / (30 * 86_400) },
    { traffic: `bursts of ${RATE}/s (this run)`, perSecond: RATE },
  ].map((r) => ({ ...r, batch: batchAt(r.perSecond), perMillionUsd: atBatch(batchAt(r.perSecond)) }));

  // Floor: the unavoidable requests of one webhook (API, ingest, send/receive/delete, its share of
  // a worker invocation), priced the same way.
  const floorPerWebhook =
    apiPrice / M +
    (PRICES.lambdaRequestPerMillion / M) * (1 + per(meters.worker.invocations)) +
    (PRICES.sqsPerMillionRequests / M) * (1 + 2 * per(input.batches));
  const floorPerMillion = floorPerWebhook * M;

  // Idle month.
  const idle: Line[] = [];
  const month = (name: string, usd: number) =>
    idle.push({ name, unitsPerWebhook: 0, unit: 'month', usdPerMillion: usd });
  const pass = input.idlePass;
  month(
    `reconciler, ${PASSES_PER_MONTH} passes (Lambda, DynamoDB, SQS, logs)`,
    PASSES_PER_MONTH *
      (PRICES.lambdaRequestPerMillion / M +
        pass.gbSeconds * PRICES.lambdaGbSecondArm +
        (pass.dynamoWrite * PRICES.dynamoWritePerMillion) / M +
        (pass.dynamoRead * PRICES.dynamoReadPerMillion) / M +
        (pass.sqsRequests * PRICES.sqsPerMillionRequests) / M +
        (pass.logBytes * PRICES.logsIngestPerGb) / 1024 ** 3),
  );
  month(
    `custom metrics published by an idle pass (${pass.metricNames.size}: ${[...pass.metricNames].join(', ') || 'none'})`,
    pass.metricNames.size * PRICES.customMetricPerMonth,
  );
  month(
    `alarms (${s.alarms}, ${s.alarmMetrics} metrics; ${s.compositeAlarms} composite)`,
    s.alarmMetrics * PRICES.alarmMetricPerMonth + s.compositeAlarms * PRICES.compositeAlarmPerMonth,
  );
  month(`dashboards (${s.dashboards})`, s.dashboards * PRICES.dashboardPerMonth);
  month(`secrets (${s.secrets})`, s.secrets * PRICES.secretPerMonth);
  month(
    'worker event source polling an empty queue (estimate)',
    (ESTIMATES.idleQueuePollers *
      ESTIMATES.idleReceivesPerPollerPerMinute *
      60 *
      24 *
      30 *
      PRICES.sqsPerMillionRequests) /
      M,
  );
  const fixedMonthlyUsd = idle.reduce((s2, l) => s2 + l.usdPerMillion, 0);

  const bytesPerWebhook = input.storedBytes / webhooks;
  const storagePerMillionPerYearUsd = ((bytesPerWebhook * M) / 1024 ** 3) * PRICES.s3StandardGbMonth * 12;

  const money = (n: number) => `$${n.toFixed(n < 1 ? 3 : 2)}`;
  const out: string[] = [];
  out.push(
    `bench:cost  ${webhooks} webhooks, ${input.batches} worker batches (batch ${input.batchSize} at ${RATE}/s, window ${s.batchingWindowSeconds} s), API ${s.apiType}, log level ${s.logLevel}`,
    `prices: ${PRICES_REGION} list prices as of ${PRICES_AS_OF} (bench/cost-prices.ts)`,
    '',
    'per million webhooks:',
  );
  for (const l of lines)
    out.push(
      `  ${l.name.padEnd(58)} ${l.unitsPerWebhook.toFixed(3).padStart(10)} ${l.unit.padEnd(14)} ${money(l.usdPerMillion).padStart(9)}`,
    );
  out.push(
    `  ${'total'.padEnd(84)} ${money(perMillionUsd).padStart(9)}  (target ≤ $5.00)`,
    `  with the ${s.apiType === 'http' ? 'REST' : 'HTTP'} API instead (apiType): ${money(perMillionUsd - apiPrice + (s.apiType === 'http' ? PRICES.apiRestPerMillion : PRICES.apiHttpPerMillion))}`,
    `  floor (API + SQS send/receive/delete + Lambda requests)${' '.repeat(29)}${money(floorPerMillion).padStart(9)}  ratio ${(perMillionUsd / floorPerMillion).toFixed(2)}×`,
    '',
    '',
    'per million webhooks by traffic (batch = rate x window / 5 pollers):',
    ...byRate.map(
      (r) =>
        `  ${r.traffic.padEnd(40)} ${r.perSecond.toFixed(3).padStart(8)}/s  batch ${String(r.batch).padStart(2)}  ${money(r.perMillionUsd).padStart(9)}`,
    ),
    '',
    'per month with no traffic:',
  );
  for (const l of idle) out.push(`  ${l.name.padEnd(84)} ${money(l.usdPerMillion).padStart(9)}`);
  out.push(
    `  ${'total'.padEnd(84)} ${money(fixedMonthlyUsd).padStart(9)}  (target ≤ $2.00)`,
    '',
    `archive: ${input.storedObjects} objects, ${(bytesPerWebhook / 1024).toFixed(2)} KB stored per webhook: ${money(storagePerMillionPerYearUsd)} per million webhooks kept a year (S3 Standard)`,
    `calls: ingest ${JSON.stringify({ ...meters.ingest.sqsCalls, ...meters.ingest.dynamoCalls, ...meters.ingest.s3Calls })}`,
    `       worker ${JSON.stringify({ ...meters.worker.sqsCalls, ...meters.worker.dynamoCalls, ...meters.worker.s3Calls })}`,
    `       idle reconcile pass ${JSON.stringify({ ...input.idlePass.sqsCalls, ...input.idlePass.dynamoCalls })}`,
    `DynamoDB units per webhook (worker): ${Object.entries(meters.worker.dynamoUnits)
      .map(([k, v]) => `${k} ${per(v).toFixed(2)}`)
      .join(', ')}`,
    `log bytes per webhook: ingest ${per(meters.ingest.logBytes).toFixed(0)}, worker ${per(meters.worker.logBytes).toFixed(0)}, access log ${per(input.accessLogBytes).toFixed(0)}`,
    `traffic metrics: ${[...trafficMetrics].join(', ')}`,
    '',
  );
  return {
    text: out.join('\n'),
    json: {
      perMillionUsd: round(perMillionUsd),
      fixedMonthlyUsd: round(fixedMonthlyUsd),
      storagePerMillionPerYearUsd: round(storagePerMillionPerYearUsd),
      floorPerMillionUsd: round(floorPerMillion),
      otherApiTypePerMillionUsd: round(
        perMillionUsd -
          apiPrice +
          (s.apiType === 'http' ? PRICES.apiRestPerMillion : PRICES.apiHttpPerMillion),
      ),
      lines: lines.map((l) => ({
        ...l,
        unitsPerWebhook: round(l.unitsPerWebhook, 4),
        usdPerMillion: round(l.usdPerMillion),
      })),
      byTraffic: byRate.map((r) => ({
        ...r,
        perSecond: round(r.perSecond, 4),
        perMillionUsd: round(r.perMillionUsd),
      })),
      idleLines: idle.map((l) => ({ name: l.name, usdPerMonth: round(l.usdPerMillion) })),
      mix: input.mix,
      run: {
        webhooks,
        batches: input.batches,
        batchSize: input.batchSize,
        ratePerSecond: RATE,
        apiType: s.apiType,
        batchingWindowSeconds: s.batchingWindowSeconds,
        logLevel: s.logLevel,
        memoryMb: s.memory,
        pricesAsOf: PRICES_AS_OF,
      },
    },
  };
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
