/**
 * Renewal burst against ReCharge's rate limit. The real worker handler (bundled like the Lambda) runs
 * in K separate OS processes (K Lambda containers), on DynamoDB Local and the fauxqs SQS emulator,
 * against a fake ReCharge that strictly enforces the leaky bucket (429 beyond it) at a scaled rate.
 * Load: N orders, half prepaid, each delivered as order/created and order/processed with 10 %
 * duplicates, all enqueued before the drain starts; the order/updated echo of each write-back is
 * enqueued when the fake applies the PUT, as ReCharge sends it. One shared rate budget per token.
 *
 * Usage: `npm run bench:burst [-- --orders 2000 --k 2,4,8 --rate 20 --capacity 40]`.
 * Prints a table and writes bench/out/burst.json (one object per K).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, type SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { makeHandler } from '../functions/worker/handler';
import { queuedMessageCount } from '../scripts/cli/stats';
import { startDynamoDbLocal, startSqsEmulator } from '../scripts/local/emulators';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../scripts/local/fake-recharge';
import { ensureQueues, ensureTables } from '../scripts/local/resources';
import { toSqsRecord } from '../scripts/local/sqs-poller';
import { samplePayload } from '../scripts/samples/index';
import { sha256Hex } from '../shared/ingest/crypto';
import { type QueuedWebhook, toSendMessageInput } from '../shared/queue/message';
import { buildWorkerDeps } from '../shared/worker/deps';
import { bundleForLambda } from './lib/bundle';
import { benchArg, benchAwsEnv } from './lib/cli';
import { round } from './lib/stats';

benchAwsEnv();

const arg = benchArg;
const ORDERS = Number(arg('orders', '2000'));
const KS = arg('k', '2,4,8').split(',').map(Number);
const RATE = Number(arg('rate', '20'));
const CAPACITY = Number(arg('capacity', '40'));
const DUPLICATE_SHARE = 0.1;
const REGION = 'us-east-1';
const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'bench/out');

// biome-ignore lint/suspicious/noExplicitAny: sample payloads are edited freely
type Json = Record<string, any>;

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function webhook(topic: string, payload: Json): QueuedWebhook {
  const body = JSON.stringify(payload);
  return {
    provider: 'recharge',
    topic,
    // As the ingest derives it for ReCharge: identical bodies are the same delivery.
    deliveryKey: `recharge:${sha256Hex(`${topic}\n${body}`)}`,
    receivedAt: new Date().toISOString(),
    verification: 'recharge-hmac-sha256-v1',
    body,
  };
}

function orderPayload(sample: string, orderId: number): Json {
  const p = samplePayload<Json>('recharge', sample);
  p.order.id = orderId;
  p.order.charge.id = orderId + 500_000_000;
  return p;
}

/** created + processed per order, half prepaid, plus 10 % duplicate deliveries, deterministic. */
function load(base: number): QueuedWebhook[] {
  const out: QueuedWebhook[] = [];
  for (let n = 0; n < ORDERS; n++) {
    const kind = n % 2 === 0 ? 'prepaid' : 'regular';
    out.push(webhook('order/created', orderPayload(`2021-11-created-${kind}`, base + n)));
  }
  for (let n = 0; n < ORDERS; n++) {
    const kind = n % 2 === 0 ? 'prepaid' : 'regular';
    out.push(webhook('order/processed', orderPayload(`2021-11-processed-${kind}`, base + n)));
  }
  const unique = out.length;
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  // Duplicates of the echo are added as the echoes are sent (see echoFor).
  for (let i = 0; i < Math.round(unique * DUPLICATE_SHARE); i++)
    out.splice(Math.floor(random() * out.length), 0, out[Math.floor(random() * unique)] as QueuedWebhook);
  return out;
}

/** The order/updated ReCharge sends for our own write: the order now holds the ids we wrote. */
function echoFor(orderId: number, body: Json): QueuedWebhook {
  const prepaid = (orderId - BASE_OF.current) % 2 === 0;
  const p = orderPayload(`2021-11-updated-${prepaid ? 'prepaid' : 'regular'}`, orderId);
  p.order.external_order_id = body.external_order_id;
  p.order.external_order_number = body.external_order_number;
  return webhook('order/updated', p);
}
const BASE_OF = { current: 0 };

async function sendAll(sqs: SQSClient, queueUrl: string, items: QueuedWebhook[]): Promise<void> {
  const inputs = items.map((w) => toSendMessageInput(queueUrl, w));
  const chunks: SendMessageCommandInput[][] = [];
  for (let i = 0; i < inputs.length; i += 10) chunks.push(inputs.slice(i, i + 10));
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((m, i) => ({
              Id: String(i),
              MessageBody: m.MessageBody,
              MessageAttributes: m.MessageAttributes,
            })),
          }),
        );
        if (out.Failed?.length) throw new Error(`enqueue failed for ${out.Failed.length} messages`);
      }
    }),
  );
}

/**
 * DynamoDB calls the worker makes for one new order (order/created, success), counted by SDK
 * middleware: claims, ledger, steps and the rate budget, with ReCharge answering at once.
 */
async function countDynamoCalls(
  endpoint: string,
  tables: { idempotency: string; orders: string },
  rechargeUrl: string,
  sqsEndpoint: string,
  queues: { queueUrl: string; dlqUrl: string },
): Promise<{ regular: number; prepaid: number }> {
  const client = new DynamoDBClient({ endpoint, region: REGION });
  let calls = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      calls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  const deps = buildWorkerDeps({
    env: {
      AWS_REGION: REGION,
      QUEUE_URL: queues.queueUrl,
      DLQ_URL: queues.dlqUrl,
      SQS_ENDPOINT: sqsEndpoint,
      IDEMPOTENCY_TABLE: tables.idempotency,
      ORDERS_TABLE: tables.orders,
      RECHARGE_API_URL: rechargeUrl,
      RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
      RECHARGE_RATE_CAPACITY: String(CAPACITY),
      RECHARGE_RATE_PER_SECOND: String(RATE),
    },
    dynamo: client,
    log: silent,
    metrics: { count() {} },
  });
  const handler = makeHandler(deps);
  const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
  const one = async (sample: string, id: number) => {
    const input = toSendMessageInput(queues.queueUrl, webhook('order/created', orderPayload(sample, id)));
    const record: SQSRecord = toSqsRecord(
      { MessageId: `count-${id}`, Body: input.MessageBody, MessageAttributes: input.MessageAttributes },
      'arn:aws:sqs:us-east-1:000000000000:bench',
      REGION,
    );
    calls = 0;
    const out = await handler({ Records: [record] }, context);
    if (out.batchItemFailures.length) throw new Error('counting record failed');
    return calls;
  };
  await one('2021-11-created-regular', 42_000_001); // warm-up
  return {
    regular: await one('2021-11-created-regular', 42_000_003),
    prepaid: await one('2021-11-created-prepaid', 42_000_004),
  };
}

interface RunResult {
  K: number;
  orders: number;
  ratePerSecond: number;
  capacity: number;
  throughputRatio: number;
  throttledShare: number;
  deadLettered: number;
  duplicateEffects: number;
  missingWriteBacks: number;
  callsPerOrder: number;
  dynamoCallsPerNewOrder: number;
  dynamoCallsPerNewPrepaidOrder: number;
  drainSeconds: number;
  queueEmptySeconds: number;
  floorSeconds: number;
  calls: number;
  throttled: number;
  messages: number;
  duplicateGapsMs: number[];
}

async function runOnce(
  K: number,
  emulators: { dynamo: string; sqs: string },
  workerBundle: string,
  dynamoCalls: { regular: number; prepaid: number },
): Promise<RunResult> {
  const suffix = `k${K}-${Date.now()}`;
  const dynamo = new DynamoDBClient({ endpoint: emulators.dynamo, region: REGION });
  const sqs = new SQSClient({ endpoint: emulators.sqs, region: REGION });
  const tables = { idempotency: `burst-idem-${suffix}`, orders: `burst-orders-${suffix}` };
  await ensureTables(dynamo, tables);
  const queues = await ensureQueues(sqs, `burst-${suffix}`, { visibilityTimeoutSeconds: 120 });
  const base = 300_000_000 + K * 1_000_000;
  BASE_OF.current = base;

  let echoes: Promise<unknown>[] = [];
  let echoSeed = 11;
  const fake: FakeRecharge = await startFakeRecharge({
    rateLimit: { capacity: CAPACITY, perSecond: RATE },
    onApplied: (request) => {
      const match = /^\/orders\/(\d+)$/.exec(request.path);
      if (request.method !== 'PUT' || !match) return;
      const echo = echoFor(Number(match[1]), request.body as Json);
      echoSeed = (echoSeed * 1_103_515_245 + 12_345) % 2 ** 31;
      const copies = echoSeed / 2 ** 31 < DUPLICATE_SHARE ? [echo, echo] : [echo];
      echoes.push(sendAll(sqs, queues.queueUrl, copies));
    },
  });

  const messages = load(base);
  await sendAll(sqs, queues.queueUrl, messages);

  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  let polling = 0;
  let drainStart = 0;
  const ready = new Promise<void>((resolve) => {
    for (let k = 0; k < K; k++) {
      const child = spawn(process.execPath, ['--enable-source-maps', workerBundle], {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: 'bench',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          POWERTOOLS_METRICS_DISABLED: 'true',
          POWERTOOLS_LOG_LEVEL: 'ERROR',
          POWERTOOLS_SERVICE_NAME: 'order-webhooks',
          QUEUE_URL: queues.queueUrl,
          DLQ_URL: queues.dlqUrl,
          SQS_ENDPOINT: emulators.sqs,
          DYNAMODB_ENDPOINT: emulators.dynamo,
          IDEMPOTENCY_TABLE: tables.idempotency,
          ORDERS_TABLE: tables.orders,
          RECHARGE_API_URL: fake.url,
          RECHARGE_API_VERSION: '2021-11',
          RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
          RECHARGE_RATE_CAPACITY: String(CAPACITY),
          RECHARGE_RATE_PER_SECOND: String(RATE),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString('utf8').includes('polling')) {
          polling += 1;
          // The drain starts when the first container polls; the others' start-up counts against us.
          if (polling === 1) drainStart = Date.now();
          if (polling === K) resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
      children.push(child);
    }
  });
  await ready;

  // Drained: the queue empty on three checks in a row (echoes arrive right after their PUT).
  let drainEnd = 0;
  let empties = 0;
  const limit = Date.now() + 20 * 60_000;
  while (empties < 3) {
    if (Date.now() > limit)
      throw new Error(`K=${K}: the queue did not drain\n${stderr.join('').slice(-2000)}`);
    await sleep(250);
    await Promise.all(echoes);
    echoes = [];
    const depth = await queuedMessageCount(sqs, queues.queueUrl);
    if (process.env.BENCH_DEBUG && Date.now() % 5000 < 260)
      process.stdout.write(
        `t=${round((Date.now() - drainStart) / 1000, 1)} depth=${depth} applied=${fake.applied().length}\n`,
      );
    if (depth === 0) {
      if (empties === 0) drainEnd = Date.now();
      empties += 1;
    } else empties = 0;
  }
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );

  const requests = fake.requests;
  const applied = fake.applied();
  const throttled = requests.filter((r) => r.status === 429).length;
  const byPath = new Map<string, number>();
  for (const r of applied) byPath.set(r.path, (byPath.get(r.path) ?? 0) + 1);
  const duplicateEffects = [...byPath.values()].reduce((sum, n) => sum + (n - 1), 0);
  // For diagnosis: how far apart repeated writes to one path were (a timed-out call retried, a takeover).
  const firstAt = new Map<string, number>();
  const duplicateGapsMs: number[] = [];
  for (const r of applied) {
    const first = firstAt.get(r.path);
    if (first === undefined) firstAt.set(r.path, r.at);
    else duplicateGapsMs.push(r.at - first);
  }
  const expectedPaths = ORDERS + Math.ceil(ORDERS / 2);
  // The ReCharge drain: from the first container polling to the last write ReCharge applied. The queue
  // empties a little later (the processed, echo and duplicate deliveries behind the last write make no
  // call): reported as queueEmptySeconds.
  const lastWrite = Math.max(...applied.map((r) => r.at));
  const drainSeconds = (lastWrite - drainStart) / 1000;
  const deadLettered = await queuedMessageCount(sqs, queues.dlqUrl);
  await fake.close();
  return {
    K,
    orders: ORDERS,
    ratePerSecond: RATE,
    capacity: CAPACITY,
    // Writes ReCharge applied per second over the drain, against the rate it allows.
    throughputRatio: round(applied.length / drainSeconds / RATE, 3),
    throttledShare: round(throttled / Math.max(1, requests.length), 4),
    deadLettered,
    duplicateEffects,
    missingWriteBacks: expectedPaths - byPath.size,
    callsPerOrder: round(requests.length / ORDERS, 3),
    dynamoCallsPerNewOrder: dynamoCalls.regular,
    dynamoCallsPerNewPrepaidOrder: dynamoCalls.prepaid,
    drainSeconds: round(drainSeconds, 1),
    queueEmptySeconds: round((drainEnd - drainStart) / 1000, 1),
    floorSeconds: round(applied.length / RATE, 1),
    calls: requests.length,
    throttled,
    messages: messages.length,
    duplicateGapsMs,
  };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const workerBundle = path.join(OUT, 'burst-worker.cjs');
  await bundleForLambda({ entryPoint: path.join(ROOT, 'bench/burst-worker.ts'), outfile: workerBundle });
  const [dynamo, sqsEmulator] = await Promise.all([startDynamoDbLocal(), startSqsEmulator()]);
  try {
    const emulators = { dynamo: dynamo.endpoint, sqs: sqsEmulator.endpoint };
    const counter = await startFakeRecharge();
    const tables = { idempotency: `count-idem-${Date.now()}`, orders: `count-orders-${Date.now()}` };
    const sqs = new SQSClient({ endpoint: emulators.sqs, region: REGION });
    await ensureTables(new DynamoDBClient({ endpoint: emulators.dynamo, region: REGION }), tables);
    const queues = await ensureQueues(sqs, `count-${Date.now()}`);
    const dynamoCalls = await countDynamoCalls(emulators.dynamo, tables, counter.url, emulators.sqs, queues);
    await counter.close();

    const results: RunResult[] = [];
    for (const K of KS) {
      const started = Date.now();
      const result = await runOnce(K, emulators, workerBundle, dynamoCalls);
      results.push(result);
      process.stdout.write(
        `K=${K} done in ${round((Date.now() - started) / 1000, 1)} s: ${JSON.stringify(result)}\n`,
      );
    }
    const header = [
      'K',
      'orders',
      'messages',
      'calls',
      '429',
      'throughput',
      'throttled',
      'DLQ',
      'dup',
      'missing',
      'calls/order',
      'ddb/new order',
      'drain s',
      'queue empty s',
      'floor s',
    ];
    const rows = results.map((r) => [
      r.K,
      r.orders,
      r.messages,
      r.calls,
      r.throttled,
      r.throughputRatio,
      r.throttledShare,
      r.deadLettered,
      r.duplicateEffects,
      r.missingWriteBacks,
      r.callsPerOrder,
      `${r.dynamoCallsPerNewOrder} (prepaid ${r.dynamoCallsPerNewPrepaidOrder})`,
      r.drainSeconds,
      r.queueEmptySeconds,
      r.floorSeconds,
    ]);
    process.stdout.write(
      `\nReCharge renewal burst: ${ORDERS} orders, fake ReCharge ${CAPACITY} deep at ${RATE}/s\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
    );
    writeFileSync(path.join(OUT, 'burst.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await Promise.all([dynamo.stop(), sqsEmulator.stop()]);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
