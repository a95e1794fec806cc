/**
 * Ingest benchmark (not a test): `npm run bench:ingest`.
 * 1. In-process handler latency for 1 KB, 16 KB and 256 KB signed ReCharge bodies with the queue
 *    call stubbed, against a floor of SHA-256 + JSON.parse of the same body measured in the same run.
 * 2. Lambda bundle size and module-init time of the ingest function, against a bundle that only
 *    imports @aws-sdk/client-sqs built in the same run.
 * Results: bench/out/ingest.json (and printed).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeHandler } from '../functions/ingest/handler';
import { parseSecrets } from '../shared/config';
import { signRechargeBody } from '../shared/providers/recharge/signature';
import { bundleForLambda, measureInit } from './lib/bundle';
import { measure, round, type Summary, summarize } from './lib/stats';

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'bench', 'out');
const SECRET = 'bench-secret';

/** A realistic ReCharge 2021-11 order, padded with line items to roughly `bytes`. */
function orderBody(bytes: number): string {
  const item = (i: number) => ({
    external_product_id: { ecommerce: `${7_000_000 + i}` },
    external_variant_id: { ecommerce: `${8_000_000 + i}` },
    quantity: 1 + (i % 3),
    sku: `SKU-${i}`,
    title: `Coffee subscription box ${i} — single origin`,
    unit_price: '12.50',
    total_price: '25.00',
    properties: [{ name: 'grind', value: 'whole bean' }],
  });
  const order = {
    order: {
      id: 550_123_456,
      status: 'success',
      type: 'recurring',
      is_prepaid: false,
      charge: { id: 770_001 },
      customer: { id: 91_000, email: 'customer@example.com', external_customer_id: { ecommerce: '5550001' } },
      billing_address: { country_code: 'US', city: 'Portland', address1: '1 Main St' },
      shipping_address: { country_code: 'US', city: 'Portland', address1: '1 Main St' },
      created_at: '2026-11-20T10:00:00',
      line_items: [] as unknown[],
    },
  };
  let i = 0;
  while (JSON.stringify(order).length < bytes) order.order.line_items.push(item(i++));
  return JSON.stringify(order);
}

async function latency() {
  const handler = makeHandler({
    settings: {
      maxMessageBytes: 1_048_576,
      rechargeTimestampToleranceSeconds: 172_800,
      queueSendTimeoutMs: 700,
      secretsTimeoutMs: 1000,
    },
    getSecrets: (
      (secrets) => async () =>
        secrets
    )(parseSecrets({ RECHARGE_WEBHOOK_SECRETS: `${SECRET},bench-old-secret` })),
    sendToQueue: async () => {},
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const rows: Record<string, { bodyBytes: number; handler: Summary; floor: Summary; ratioP50: number }> = {};
  for (const [label, size, iterations] of [
    ['1KB', 1024, 20_000],
    ['16KB', 16 * 1024, 5_000],
    ['256KB', 256 * 1024, 400],
  ] as const) {
    const body = orderBody(size);
    const bodyBuffer = Buffer.from(body);
    const headers = signRechargeBody(body, SECRET, { scheme: 'timestamp' });
    const event = {
      path: '/webhooks/recharge/order/created',
      httpMethod: 'POST',
      headers,
      multiValueHeaders: {},
      body,
      isBase64Encoded: false,
    };
    const check = await handler(event);
    if (check.statusCode !== 200)
      throw new Error(`bench request not accepted: ${check.statusCode} ${check.body}`);
    const floor = await measure(() => {
      createHash('sha256').update(bodyBuffer).digest('hex');
      return JSON.parse(body);
    }, iterations);
    const measured = await measure(() => handler(event), iterations);
    rows[label] = {
      bodyBytes: bodyBuffer.length,
      handler: measured,
      floor,
      ratioP50: round(measured.p50 / floor.p50, 2),
    };
  }
  return rows;
}

/** Layers of the ingest's dependencies, each bundled alone, to show where init time goes. */
const POWERTOOLS =
  "import { Logger } from '@aws-lambda-powertools/logger'; import { Metrics } from '@aws-lambda-powertools/metrics'; export const p = [new Logger(), new Metrics({ namespace: 'x' })];";
const LAYERS: Record<string, string> = {
  sqsOnly: "export { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';",
  sqsPowertools: `export { SQSClient } from '@aws-sdk/client-sqs'; ${POWERTOOLS}`,
  sqsPowertoolsSecrets: `export { SQSClient } from '@aws-sdk/client-sqs'; export { getSecret } from '@aws-lambda-powertools/parameters/secrets'; ${POWERTOOLS}`,
  sqsPowertoolsSecretsZod: `export { SQSClient } from '@aws-sdk/client-sqs'; export { getSecret } from '@aws-lambda-powertools/parameters/secrets'; import * as z from 'zod'; export const s = z.object({ a: z.string() }); ${POWERTOOLS}`,
};

async function bundles(runs = 10) {
  const files: Record<string, { outfile: string; bytes: number; env?: NodeJS.ProcessEnv }> = {};
  files.ingest = await bundleForLambda({
    entryPoint: path.join(root, 'functions/ingest/handler.ts'),
    outfile: path.join(out, 'ingest-bundle.js'),
  });
  // Inside Lambda the module also validates the environment and creates the SQS client at import.
  files.ingestWithLambdaWiring = {
    ...files.ingest,
    env: {
      AWS_LAMBDA_FUNCTION_NAME: 'bench-ingest',
      AWS_REGION: 'us-east-1',
      QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhooks',
      RECHARGE_WEBHOOK_SECRETS: SECRET,
    },
  };
  for (const [name, contents] of Object.entries(LAYERS))
    files[name] = await bundleForLambda({
      stdin: { contents, resolveDir: root },
      outfile: path.join(out, `layer-${name}.js`),
    });
  // Interleaved rounds, so machine noise hits every bundle alike; median per bundle.
  const samples: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    for (const [name, file] of Object.entries(files)) {
      const list = samples[name] ?? [];
      list.push(measureInit(file.outfile, 1, file.env).medianMs);
      samples[name] = list;
    }
  }
  const initMedianMs = Object.fromEntries(
    Object.entries(samples).map(([name, xs]) => [name, round(summarize(xs).p50, 1)]),
  ) as Record<string, number>;
  const bytes = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, file.bytes]));
  return {
    bytes,
    initMedianMs,
    initRatio: round((initMedianMs.ingestWithLambdaWiring ?? 0) / (initMedianMs.sqsOnly ?? 1), 2),
  };
}

async function main() {
  mkdirSync(out, { recursive: true });
  const results = {
    node: process.version,
    at: new Date().toISOString(),
    latencyMs: await latency(),
    bundle: await bundles(),
    targets: { ratioAt16KB: '<= 3', initMs: '< 150', initRatio: '<= 1.3' },
  };
  writeFileSync(path.join(out, 'ingest.json'), `${JSON.stringify(results, null, 2)}\n`);
  for (const [label, row] of Object.entries(results.latencyMs)) {
    console.log(
      `${label.padEnd(6)} handler p50 ${row.handler.p50.toFixed(3)} ms p99 ${row.handler.p99.toFixed(3)} ms | floor p50 ${row.floor.p50.toFixed(3)} ms p99 ${row.floor.p99.toFixed(3)} ms | ratio p50 ${row.ratioP50}`,
    );
  }
  const b = results.bundle;
  for (const [name, ms] of Object.entries(b.initMedianMs))
    console.log(
      `init ${name.padEnd(24)} ${String(ms).padStart(6)} ms  bundle ${((b.bytes[name] ?? 0) / 1024).toFixed(0)} KiB`,
    );
  console.log(`init ratio (ingest with Lambda wiring / sqs-only): ${b.initRatio}`);
  console.log(`results: ${path.relative(root, path.join(out, 'ingest.json'))}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
