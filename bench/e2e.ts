/**
 * End-to-end benchmark (not a test): `npm run bench:e2e`.
 *
 * Sends the same mixed workload through
 *   - the local mode (`npm start` as a child: API Gateway-shaped server -> ingest -> SQS emulator ->
 *     poller -> worker -> DynamoDB Local + fake ReCharge), and
 *   - a naive baseline that does the whole job inside the HTTP request (verify, write the order,
 *     call ReCharge, then answer), built from the same ingest and worker code,
 * from 50 concurrent senders, with the built-in fake ReCharge answering after 0 ms and 2,000 ms.
 * Reports acknowledged/s, processed/s end to end, and ack latency p50/p99 (all webhooks, and the
 * ReCharge ones that need a write-back).
 *
 * Workload per run: 40 paid ReCharge orders (each written back to ReCharge; 40 is ReCharge's bucket
 * size, beyond which the worker must pace itself at 2 calls/s) + 480 Sevi and 480 Wix payments.
 * Each run starts with 60 warm-up deliveries that are not measured. The senders then open their 50
 * keep-alive connections just before the measured burst and keep them for all of it (see
 * test/e2e/helpers/senders.ts), so no run pays for new connections inside its measurement.
 * Results: bench/out/e2e.json (and printed as a Markdown table).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeHandler } from '../functions/ingest/handler';
import { startApiGateway } from '../scripts/local/api-gateway';
import { DEV_SECRETS } from '../scripts/local/dev-defaults';
import { startDynamoDbLocal } from '../scripts/local/emulators';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../scripts/local/fake-recharge';
import { ensureTables } from '../scripts/local/resources';
import { toSqsRecord } from '../scripts/local/sqs-poller';
import { samplePayload } from '../scripts/samples/index';
import { parseSecrets } from '../shared/config';
import { listOrders } from '../shared/order-system/ledger';
import { toMessageAttributes } from '../shared/queue/message';
import { buildWorkerDeps } from '../shared/worker/deps';
import { processBatch } from '../shared/worker/process-batch';
import { startLocalProcess, waitFor } from '../test/e2e/helpers/local-process';
import { openSenders } from '../test/e2e/helpers/senders';
import { type Delivery, deliver, depths, withConcurrency } from '../test/e2e/helpers/webhooks';
import { percentile, round } from './lib/stats';

const SENDERS = 50;
const RECHARGE_LATENCIES = [0, 2000];

// biome-ignore lint/suspicious/noExplicitAny: sample payloads are edited freely
type Json = Record<string, any>;

function workload(run: string): (Delivery & { recharge: boolean })[] {
  const out: (Delivery & { recharge: boolean })[] = [];
  for (let n = 0; n < 480; n++) {
    const s = samplePayload<Json>('sevi', 'paid');
    s.order.id = `SV-BENCH-${run}-${n}`;
    out.push({ provider: 'sevi', body: JSON.stringify(s), recharge: false });
    const w = samplePayload<Json>('wix-cashier-pay', 'transaction-approved');
    w.transactionEvent.orderId = `wix-bench-${run}-${n}`;
    w.transactionEvent.transactionId = `tx-bench-${run}-${n}`;
    out.push({ provider: 'wix-cashier-pay', body: JSON.stringify(w), recharge: false });
  }
  // The ReCharge orders are spread evenly through the burst.
  for (let n = 0; n < 40; n++) {
    const p = samplePayload<Json>('recharge', '2021-11-created-regular');
    p.order.id = Number(`9${run}${String(n).padStart(5, '0')}`);
    out.splice(n * 25, 0, {
      provider: 'recharge',
      body: JSON.stringify(p),
      topic: 'order/created',
      recharge: true,
    });
  }
  return out;
}

interface Row {
  mode: 'queued (local mode)' | 'naive (all in request)';
  rechargeLatencyMs: number;
  webhooks: number;
  failed: number;
  ackPerSecond: number;
  processedPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  rechargeAckP50Ms: number;
  rechargeAckP99Ms: number;
}

/** A few deliveries first, so both modes are measured warm (SDK clients connected, code loaded). */
async function warmUp(apiUrl: string, run: string): Promise<void> {
  const items = workload(`${run}9`).slice(0, 60);
  const senders = openSenders(apiUrl, SENDERS);
  try {
    await withConcurrency(items, SENDERS, (d) => deliver(apiUrl, d, senders.post));
  } finally {
    senders.close();
  }
}

/**
 * The measured burst, on SENDERS connections opened right before it (unmeasured): how long the
 * run waited before (the queued mode waits for its warm-up to drain) must not decide whether the
 * burst starts on warm connections.
 */
async function send(apiUrl: string, items: (Delivery & { recharge: boolean })[]) {
  const senders = openSenders(apiUrl, SENDERS);
  try {
    await senders.connect();
    const started = performance.now();
    const results = await withConcurrency(items, SENDERS, async (d) => {
      const t0 = performance.now();
      const res = await deliver(apiUrl, d, senders.post).catch(() => ({ status: 0, text: '' }));
      return { ms: performance.now() - t0, ok: res.status === 200, recharge: d.recharge };
    });
    return { results, ackSeconds: (performance.now() - started) / 1000, started };
  } finally {
    senders.close();
  }
}

function summarizeAcks(results: { ms: number; ok: boolean; recharge: boolean }[]) {
  const all = results.map((r) => r.ms).sort((a, b) => a - b);
  const rc = results
    .filter((r) => r.recharge)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  return {
    failed: results.filter((r) => !r.ok).length,
    ackP50Ms: round(percentile(all, 50), 1),
    ackP99Ms: round(percentile(all, 99), 1),
    rechargeAckP50Ms: round(percentile(rc, 50), 1),
    rechargeAckP99Ms: round(percentile(rc, 99), 1),
  };
}

async function runQueued(fake: FakeRecharge, latencyMs: number): Promise<Row> {
  fake.setLatency(latencyMs);
  const local = await startLocalProcess({
    env: {
      RECHARGE_API_URL: fake.url,
      RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
      LOCAL_VISIBILITY_TIMEOUT_SECONDS: '30',
      LOCAL_WORKER_TIMEOUT_SECONDS: '30',
      // A lease must outlast the invocation it guards (the local mode refuses a shorter one).
      IDEMPOTENCY_LEASE_SECONDS: '40',
    },
  });
  try {
    await warmUp(local.state.apiUrl, `1${latencyMs}`);
    await waitFor(async () => (await depths(local)).queueEmpty, 'the warm-up to drain', 600_000, 100);
    const before = (await listOrders(local.dynamo, local.state.ordersTable)).length;
    const items = workload(`1${latencyMs}`);
    const { results, ackSeconds, started } = await send(local.state.apiUrl, items);
    await waitFor(async () => (await depths(local)).queueEmpty, 'the queue to drain', 600_000, 100);
    const processedSeconds = (performance.now() - started) / 1000;
    const stored = (await listOrders(local.dynamo, local.state.ordersTable)).length - before;
    if (stored !== items.length) throw new Error(`queued run stored ${stored} of ${items.length} orders`);
    return {
      mode: 'queued (local mode)',
      rechargeLatencyMs: latencyMs,
      webhooks: items.length,
      ackPerSecond: round(items.length / ackSeconds, 0),
      processedPerSecond: round(items.length / processedSeconds, 0),
      ...summarizeAcks(results),
    };
  } finally {
    await local.stop();
  }
}

/** The baseline: the same ingest code, but "enqueue" runs the worker's processing inline. */
async function runNaive(fake: FakeRecharge, latencyMs: number, dynamoEndpoint: string): Promise<Row> {
  fake.setLatency(latencyMs);
  const suffix = randomUUID().slice(0, 8);
  const tables = { idempotency: `naive-idem-${suffix}`, orders: `naive-orders-${suffix}` };
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const dynamo = new DynamoDBClient({ endpoint: dynamoEndpoint, region: 'us-east-1', credentials });
  await ensureTables(dynamo, tables);
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const worker = buildWorkerDeps({
    env: {
      AWS_REGION: 'us-east-1',
      QUEUE_URL: 'http://unused.invalid/queue',
      DLQ_URL: 'http://unused.invalid/dlq',
      IDEMPOTENCY_TABLE: tables.idempotency,
      ORDERS_TABLE: tables.orders,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      RECHARGE_API_URL: fake.url,
      RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
    },
    dynamo,
    log: silent,
    metrics: { count() {} },
  });
  const secrets = parseSecrets({ ...DEV_SECRETS, RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN });
  const ingest = makeHandler({
    settings: {
      maxMessageBytes: 1_048_576,
      rechargeTimestampToleranceSeconds: 172_800,
      // The whole job runs in the request, so its budget is API Gateway's, not SendMessage's.
      queueSendTimeoutMs: 29_000,
      secretsTimeoutMs: 2000,
    },
    getSecrets: async () => secrets,
    log: silent,
    sendToQueue: async (webhook) => {
      const record = toSqsRecord(
        {
          MessageId: randomUUID(),
          ReceiptHandle: 'inline',
          Body: webhook.body,
          MessageAttributes: toMessageAttributes(webhook),
          Attributes: { ApproximateReceiveCount: '1' },
        },
        'arn:aws:sqs:us-east-1:000000000000:inline',
        'us-east-1',
      );
      const { response } = await processBatch([record], worker, { getRemainingTimeInMillis: () => 29_000 });
      if (response.batchItemFailures.length > 0) throw new Error('processing failed');
    },
  });
  const api = await startApiGateway(ingest as never);
  try {
    await warmUp(api.url, `2${latencyMs}`);
    const before = (await listOrders(dynamo, tables.orders)).length;
    const items = workload(`2${latencyMs}`);
    const { results, ackSeconds } = await send(api.url, items);
    const stored = (await listOrders(dynamo, tables.orders)).length - before;
    if (stored !== items.length - results.filter((r) => !r.ok).length)
      throw new Error(`naive run stored ${stored} orders for ${items.length} webhooks`);
    return {
      mode: 'naive (all in request)',
      rechargeLatencyMs: latencyMs,
      webhooks: items.length,
      ackPerSecond: round(items.length / ackSeconds, 0),
      processedPerSecond: round(items.length / ackSeconds, 0),
      ...summarizeAcks(results),
    };
  } finally {
    await api.close();
    dynamo.destroy();
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const fake = await startFakeRecharge();
  const naiveDynamo = await startDynamoDbLocal();
  const rows: Row[] = [];
  try {
    for (const latency of RECHARGE_LATENCIES) {
      process.stderr.write(`queued, ReCharge ${latency} ms...\n`);
      rows.push(await runQueued(fake, latency));
      process.stderr.write(`naive, ReCharge ${latency} ms...\n`);
      rows.push(await runNaive(fake, latency, naiveDynamo.endpoint));
    }
  } finally {
    await naiveDynamo.stop();
    await fake.close();
  }
  const header =
    '| mode | ReCharge latency | webhooks | failed | acked/s | processed/s | ack p50 | ack p99 | ReCharge-webhook ack p50 | ReCharge-webhook ack p99 |';
  const lines = [header, '|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows)
    lines.push(
      `| ${r.mode} | ${r.rechargeLatencyMs} ms | ${r.webhooks} | ${r.failed} | ${r.ackPerSecond} | ${r.processedPerSecond} | ${r.ackP50Ms} ms | ${r.ackP99Ms} ms | ${r.rechargeAckP50Ms} ms | ${r.rechargeAckP99Ms} ms |`,
    );
  process.stdout.write(
    `\n${lines.join('\n')}\n\n${SENDERS} concurrent senders; workload per run: 40 ReCharge paid orders (write-back), 480 Sevi, 480 Wix.\n`,
  );
  const outDir = path.resolve(__dirname, 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'e2e.json'), `${JSON.stringify({ senders: SENDERS, rows }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:e2e failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
