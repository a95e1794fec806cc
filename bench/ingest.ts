/**
 * Ingest benchmark (not a test): `npm run bench:ingest`.
 * 1. In-process handler latency for 1 KB, 16 KB and 256 KB signed ReCharge bodies with the queue
 *    call stubbed, against a floor of SHA-256 + JSON.parse of the same body measured in the same run.
 * 2. Lambda bundle size and module-init time of the ingest function (plain import, with the Lambda
 *    wiring that runs at import inside Lambda, and as deployed with source maps), against bundles
 *    that only import @aws-sdk/client-sqs (or also construct the client), built in the same run.
 *    The bundle's contents: bench/out/ingest-bundle.analyze.txt (esbuild --analyze).
 * 3. Ack latency with the archive off and on, in one run, against the real emulator (fauxqs: SQS and
 *    S3 on loopback), interleaved: off (no bucket), on as built (the worker archives; the ingest
 *    touches S3 only for bodies beyond the SQS limit), the rejected alternative (the ingest writes
 *    the archive object in parallel with SendMessage), and a 3 MB body through the claim check.
 * Results: bench/out/ingest.json (and printed).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type IngestHandlerDeps, makeHandler } from '../functions/ingest/handler';
import { startSqsEmulator } from '../scripts/local/emulators';
import { ensureBucket, ensureQueues } from '../scripts/local/resources';
import { toArchived } from '../shared/archive/archive';
import { makeS3Archive } from '../shared/archive/s3-archive';
import { parseSecrets } from '../shared/config';
import { signRechargeBody } from '../shared/providers/recharge/signature';
import { makeSqsClient, makeSqsSender } from '../shared/queue/sqs-sender';
import { bundleForLambda, type InitSample, measureInit, median } from './lib/bundle';
import { measure, percentile, round, type Summary } from './lib/stats';

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'bench', 'out');
// At least 16 characters, like every credential the ingest accepts (shared/config.ts).
const SECRET = 'bench-recharge-client-secret';

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
    )(parseSecrets({ RECHARGE_WEBHOOK_SECRETS: `${SECRET},bench-old-recharge-secret` })),
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
/** The Secrets Manager client as shared/secrets.ts uses it (built on the first read, not at import). */
const SECRETS_CLIENT =
  "export { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';";
/** The SQS client as the ingest builds it (shared/queue/sqs-sender.ts makeSqsClient), at import. */
const SQS_CLIENT =
  "import { SQSClient } from '@aws-sdk/client-sqs'; export { SendMessageCommand } from '@aws-sdk/client-sqs'; export const client = new SQSClient({ region: process.env.AWS_REGION, maxAttempts: 2, requestHandler: { connectionTimeout: 233, requestTimeout: 700 } });";
const LAYERS: Record<string, string> = {
  sqsOnly: "export { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';",
  sqsOnlyWithClient: SQS_CLIENT,
  sqsPowertools: `export { SQSClient } from '@aws-sdk/client-sqs'; ${POWERTOOLS}`,
  sqsPowertoolsSecrets: `export { SQSClient } from '@aws-sdk/client-sqs'; ${SECRETS_CLIENT} ${POWERTOOLS}`,
};

/** The ingest function's environment as the stack deploys it (plus what Lambda itself sets). */
const LAMBDA_ENV: NodeJS.ProcessEnv = {
  AWS_LAMBDA_FUNCTION_NAME: 'bench-ingest',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'order-webhooks',
  POWERTOOLS_METRICS_NAMESPACE: 'OrderWebhooks',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhooks',
  MAX_MESSAGE_BYTES: '1048576',
  RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: '172800',
  QUEUE_SEND_TIMEOUT_MS: '700',
  SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:order-webhooks-AbCdEf',
  ARCHIVE_BUCKET: 'order-webhooks-archive-bench',
};
/** What the stack adds on top: an external source map, read because of --enable-source-maps. */
const SOURCE_MAPS: NodeJS.ProcessEnv = { NODE_OPTIONS: '--enable-source-maps' };

interface BundleRun {
  outfile: string;
  bytes: number;
  env?: NodeJS.ProcessEnv;
}

async function bundles(runs = 10) {
  const files: Record<string, BundleRun> = {};
  files.ingest = await bundleForLambda({
    entryPoint: path.join(root, 'functions/ingest/handler.ts'),
    lambda: 'ingest',
    outfile: path.join(out, 'ingest-bundle.js'),
    analyzeFile: path.join(out, 'ingest-bundle.analyze.txt'),
  });
  // Inside Lambda the module also validates the environment and creates the SQS client at import.
  files.ingestWithLambdaWiring = { ...files.ingest, env: LAMBDA_ENV };
  for (const [name, contents] of Object.entries(LAYERS))
    files[name] = await bundleForLambda({
      stdin: { contents, resolveDir: root },
      outfile: path.join(out, `layer-${name}.js`),
    });
  // The fair baseline for the wired ingest pays for a constructed client too.
  files.sqsOnlyWithClient = { ...(files.sqsOnlyWithClient as BundleRun), env: LAMBDA_ENV };
  // As deployed: source map shipped and NODE_OPTIONS=--enable-source-maps (infra/constructs/app-function.ts).
  files.ingestAsDeployed = {
    ...(await bundleForLambda({
      entryPoint: path.join(root, 'functions/ingest/handler.ts'),
      lambda: 'ingest',
      outfile: path.join(out, 'deployed', 'ingest-bundle.js'),
      sourcemap: true,
    })),
    env: { ...LAMBDA_ENV, ...SOURCE_MAPS },
  };
  files.sqsOnlyWithClientAsDeployed = {
    ...(await bundleForLambda({
      stdin: { contents: SQS_CLIENT, resolveDir: root },
      outfile: path.join(out, 'deployed', 'layer-sqsOnlyWithClient.js'),
      sourcemap: true,
    })),
    env: { ...LAMBDA_ENV, ...SOURCE_MAPS },
  };
  // For comparison only: an SQS-only bundle with the SDK's full credential chain (SSO, ini, process...).
  files.sqsOnlyWithClientSdkChainAsDeployed = {
    ...(await bundleForLambda({
      stdin: { contents: SQS_CLIENT, resolveDir: root },
      outfile: path.join(out, 'deployed', 'layer-sqsOnlyWithClientSdkChain.js'),
      sourcemap: true,
      sdkDefaultCredentials: true,
    })),
    env: { ...LAMBDA_ENV, ...SOURCE_MAPS },
  };
  // Interleaved rounds, so machine noise hits every bundle alike; median per bundle.
  const samples: Record<string, InitSample[]> = Object.fromEntries(
    Object.keys(files).map((name) => [name, []]),
  );
  for (let i = 0; i < runs; i++)
    for (const [name, file] of Object.entries(files))
      samples[name]?.push(...measureInit(file.outfile, 1, file.env));
  const stat = (pick: (s: InitSample) => number) =>
    Object.fromEntries(
      Object.entries(samples).map(([name, xs]) => {
        const sorted = xs.map(pick).sort((a, b) => a - b);
        return [
          name,
          {
            median: round(median(sorted), 1),
            p25: round(percentile(sorted, 25), 1),
            p75: round(percentile(sorted, 75), 1),
          },
        ];
      }),
    ) as Record<string, { median: number; p25: number; p75: number }>;
  const wall = stat((s) => s.wallMs);
  const cpu = stat((s) => s.cpuMs);
  const ratio = (a: string, b: string) => ({
    wall: round((wall[a]?.median ?? 0) / (wall[b]?.median ?? 1), 2),
    cpu: round((cpu[a]?.median ?? 0) / (cpu[b]?.median ?? 1), 2),
  });
  return {
    runs,
    bytes: Object.fromEntries(Object.entries(files).map(([name, file]) => [name, file.bytes])),
    initMedianMs: Object.fromEntries(Object.entries(wall).map(([name, s]) => [name, s.median])),
    initWallMs: wall,
    initCpuMs: cpu,
    ratios: {
      /** `import` of the ingest bundle vs a bundle importing only client-sqs. */
      ingestVsSqsOnly: ratio('ingest', 'sqsOnly'),
      /** Stricter: the wired ingest (env parsed, SQS client built) vs the bare sqs-only import. */
      wiredVsSqsOnly: ratio('ingestWithLambdaWiring', 'sqsOnly'),
      /** Like for like: both construct an SQS client at import. */
      wiredVsSqsOnlyWithClient: ratio('ingestWithLambdaWiring', 'sqsOnlyWithClient'),
      /**
       * The target (<= 1.3): as deployed on both sides (the stack's bundling, credentials from the
       * environment, source map + --enable-source-maps, wired at import), the SQS-only bundle
       * constructing its client as the ingest does.
       */
      asDeployedVsSqsOnlyWithClientAsDeployed: ratio('ingestAsDeployed', 'sqsOnlyWithClientAsDeployed'),
      /** Not the target: against an SQS-only bundle that carries the SDK's full credential chain. */
      asDeployedVsSqsOnlySdkChain: ratio('ingestAsDeployed', 'sqsOnlyWithClientSdkChainAsDeployed'),
    },
  };
}

/** Ack latency (handler start to answer) over real loopback SQS and S3, archive off and on, interleaved. */
async function archiveAck(rounds = Number(process.env.BENCH_ARCHIVE_ROUNDS ?? 200)) {
  const emulator = await startSqsEmulator();
  try {
    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const region = 'us-east-1';
    const sqsClient = makeSqsClient({ region, endpoint: emulator.endpoint, timeoutMs: 2000, credentials });
    const { queueUrl } = await ensureQueues(sqsClient, 'bench-archive');
    const bucket = 'bench-archive';
    await ensureBucket(
      new S3Client({ region, endpoint: emulator.endpoint, forcePathStyle: true, credentials }),
      bucket,
    );
    const sender = makeSqsSender(sqsClient, queueUrl, 2000);
    const archive = makeS3Archive({
      bucket,
      region,
      endpoint: emulator.endpoint,
      credentials,
      timeoutMs: 3000,
    });
    const base: Omit<IngestHandlerDeps, 'sendToQueue'> = {
      settings: {
        maxMessageBytes: 1_048_576,
        rechargeTimestampToleranceSeconds: 172_800,
        queueSendTimeoutMs: 2000,
        secretsTimeoutMs: 1000,
        claimPutTimeoutMs: 3000,
      },
      getSecrets: (
        (secrets) => async () =>
          secrets
      )(parseSecrets({ RECHARGE_WEBHOOK_SECRETS: SECRET })),
      log: { debug() {}, info() {}, warn() {}, error() {} },
    };
    const variants = {
      off: makeHandler({ ...base, sendToQueue: (w, signal) => sender.send(w, signal) }),
      onAsBuilt: makeHandler({
        ...base,
        claims: archive,
        sendToQueue: (w, signal) => sender.send(w, signal),
      }),
      onInIngestParallel: makeHandler({
        ...base,
        claims: archive,
        sendToQueue: async (w, signal) => {
          await Promise.all([sender.send(w, signal), archive.putBatch([toArchived(w, undefined)])]);
        },
      }),
    };
    const eventFor = (body: string) => ({
      path: '/webhooks/recharge/order/created',
      httpMethod: 'POST',
      headers: signRechargeBody(body, SECRET, { scheme: 'timestamp' }),
      multiValueHeaders: {},
      body,
      isBase64Encoded: false,
    });
    const small = eventFor(orderBody(16 * 1024));
    const large = eventFor(orderBody(3 * 1024 * 1024));
    const samples: Record<string, number[]> = {
      off: [],
      onAsBuilt: [],
      onInIngestParallel: [],
      claimCheck3MB: [],
    };
    const time = async (name: string, run: () => Promise<{ statusCode: number }>) => {
      const t0 = performance.now();
      const res = await run();
      if (res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode}`);
      samples[name]?.push(performance.now() - t0);
    };
    for (let i = 0; i < rounds + 20; i++) {
      const warm = i < 20;
      for (const [name, handler] of Object.entries(variants)) {
        if (warm) await handler(small);
        else await time(name, () => handler(small));
      }
      if (i % 10 === 0) {
        if (warm) await variants.onAsBuilt(large);
        else await time('claimCheck3MB', () => variants.onAsBuilt(large));
      }
    }
    return Object.fromEntries(
      Object.entries(samples).map(([name, xs]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return [
          name,
          {
            samples: xs.length,
            p50: round(percentile(sorted, 50), 2),
            p99: round(percentile(sorted, 99), 2),
          },
        ];
      }),
    );
  } finally {
    await emulator.stop();
  }
}

async function main() {
  mkdirSync(out, { recursive: true });
  // BENCH_INGEST_PARTS=init (comma-separated: latency, archive, init) runs only those parts.
  const parts = (process.env.BENCH_INGEST_PARTS ?? 'latency,archive,init').split(',');
  const results = {
    node: process.version,
    at: new Date().toISOString(),
    latencyMs: parts.includes('latency') ? await latency() : ({} as Awaited<ReturnType<typeof latency>>),
    archiveAckMs: parts.includes('archive')
      ? await archiveAck()
      : ({} as Awaited<ReturnType<typeof archiveAck>>),
    bundle: parts.includes('init') ? await bundles(Number(process.env.BENCH_INIT_RUNS ?? 10)) : undefined,
    targets: { ratioAt16KB: '<= 3', initMs: '< 150', initRatioAsDeployed: '<= 1.3' },
  };
  writeFileSync(path.join(out, 'ingest.json'), `${JSON.stringify(results, null, 2)}\n`);
  for (const [label, row] of Object.entries(results.latencyMs)) {
    console.log(
      `${label.padEnd(6)} handler p50 ${row.handler.p50.toFixed(3)} ms p99 ${row.handler.p99.toFixed(3)} ms | floor p50 ${row.floor.p50.toFixed(3)} ms p99 ${row.floor.p99.toFixed(3)} ms | ratio p50 ${row.ratioP50}`,
    );
  }
  for (const [name, row] of Object.entries(results.archiveAckMs))
    console.log(`ack ${name.padEnd(20)} p50 ${row.p50} ms p99 ${row.p99} ms (${row.samples} requests)`);
  const b = results.bundle;
  if (b) {
    console.log(`init: median of ${b.runs} fresh processes each; wall [p25-p75] and process CPU time`);
    for (const [name, w] of Object.entries(b.initWallMs)) {
      const c = b.initCpuMs[name];
      console.log(
        `init ${name.padEnd(28)} wall ${String(w.median).padStart(6)} ms [${w.p25}-${w.p75}]  cpu ${String(c?.median).padStart(6)} ms  bundle ${((b.bytes[name] ?? 0) / 1024).toFixed(0)} KiB`,
      );
    }
    const r = b.ratios;
    const show = (x: { wall: number; cpu: number }) => `${x.wall} (cpu ${x.cpu})`;
    console.log(`init ratio ingest / sqs-only: ${show(r.ingestVsSqsOnly)}`);
    console.log(`init ratio ingest with Lambda wiring / sqs-only: ${show(r.wiredVsSqsOnly)}`);
    console.log(
      `init ratio ingest with Lambda wiring / sqs-only + client constructed: ${show(r.wiredVsSqsOnlyWithClient)}`,
    );
    console.log(
      `init ratio as deployed / sqs-only + client, as deployed (target <= 1.3): ${show(r.asDeployedVsSqsOnlyWithClientAsDeployed)}`,
    );
    console.log(
      `init ratio as deployed / sqs-only + client with the SDK's full credential chain (not the target): ${show(r.asDeployedVsSqsOnlySdkChain)}`,
    );
  }
  console.log(`results: ${path.relative(root, path.join(out, 'ingest.json'))}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
