import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { buildLambdaBundles, type LambdaBundles } from '../../scripts/local/bundles';
import { lambdaNodeBinary } from '../../scripts/local/lambda-node';
import { samplePayload } from '../../scripts/samples/index';
import { EXTENDED_POINTER_CLASS, offloadBody } from '../../shared/archive/claim-check';
import { makeS3Archive } from '../../shared/archive/s3-archive';
import { toMessageAttributes } from '../../shared/queue/message';
import { buildStack } from '../infra/build-stack';
import { createTestBucket, testS3Client } from '../support/aws';
import { createWorkerWorld, type JsonObject, receiveRecords, type WorkerWorld } from '../support/fake-worker';

/**
 * The worker as deployed (the esbuild bundle on Lambda's Node) on the largest batch it can be
 * given: batchSize records, each a claim-checked ReCharge order of the largest body that reaches
 * the ingest in AWS (Lambda's 6 MB invocation payload, under API Gateway's 10 MB), mostly ASCII but
 * with a character outside Latin-1, so V8 keeps every copy of it at two bytes a character.
 */
const MB = 1024 * 1024;
const BODY_BYTES = 6 * MB - 64 * 1024;
/**
 * The peak must stay under the memory the stack gives the worker: past it Lambda stops the function and
 * the whole batch goes back to the queue. On a quiet machine the peak is about 170-190 MB; on a loaded
 * one garbage collection runs later and it reaches about 220 MB (the code before the one-body-at-a-time
 * reads peaked at 550-595 MB), so the bound is the limit itself, not a share of it.
 */
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const { template } = buildStack();
const workerProps = Object.values(
  template.findResources('AWS::Lambda::Function') as Record<
    string,
    { Properties: { Description?: string; MemorySize: number } }
  >,
).find((fn) => fn.Properties.Description?.startsWith('order-webhooks worker'))?.Properties;
const mapping = Object.values(
  template.findResources('AWS::Lambda::EventSourceMapping') as Record<
    string,
    { Properties: { BatchSize: number } }
  >,
)[0]?.Properties;

let world: WorkerWorld;
let s3: S3Client;
let s3Env: { ARCHIVE_BUCKET: string; S3_ENDPOINT: string };
let bundles: LambdaBundles;
let dir: string;

beforeAll(async () => {
  world = await createWorkerWorld();
  s3 = testS3Client();
  ({ env: s3Env } = await createTestBucket(s3));
  bundles = await buildLambdaBundles();
  dir = mkdtempSync(path.join(tmpdir(), 'worker-memory-'));
}, 120_000);
afterAll(async () => {
  bundles?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await world?.close();
});

/** A ReCharge order/created body of `bytes` UTF-8 bytes; the padding sits in a field the mapping ignores. */
function largeOrderBody(orderId: number, bytes: number): string {
  const payload = samplePayload<JsonObject>('recharge', '2021-11-created-regular');
  payload.order.id = orderId;
  payload.order.note_attributes_blob = '';
  const base = Buffer.byteLength(JSON.stringify(payload));
  // '✓' is 3 bytes in UTF-8 and outside Latin-1.
  payload.order.note_attributes_blob = `✓${'x'.repeat(bytes - base - 3)}`;
  return JSON.stringify(payload);
}

/** Runs the bundled handler on `records` in a fresh process with Lambda's Node; its answer and peak RSS. */
function invokeBundledWorker(
  records: unknown[],
  memoryMb: number,
  env: NodeJS.ProcessEnv,
): Promise<{ response: { batchItemFailures: unknown[] }; maxRssMb: number }> {
  const eventFile = path.join(dir, 'event.json');
  const resultFile = path.join(dir, 'result.json');
  writeFileSync(eventFile, JSON.stringify({ Records: records }));
  const script = `
    const fs = require('node:fs');
    const event = JSON.parse(fs.readFileSync(${JSON.stringify(eventFile)}, 'utf8'));
    const { handler } = require(${JSON.stringify(bundles.worker)});
    const end = Date.now() + 120000;
    const context = { awsRequestId: 'memory-test', functionName: 'worker', getRemainingTimeInMillis: () => end - Date.now() };
    handler(event, context).then((response) => {
      fs.writeFileSync(${JSON.stringify(resultFile)}, JSON.stringify({ response, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    });`;
  return new Promise((resolve, reject) => {
    // Node's flags as Lambda's runtime sets them for the function's memory (its bootstrap: a tenth
    // for the young generation, the rest for the old, --expose-gc), and source maps as the stack does.
    const newSpace = Math.floor(memoryMb / 10);
    const flags = [
      '--expose-gc',
      '--max-http-header-size=81920',
      `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
      `--max-old-space-size=${memoryMb - newSpace}`,
      '--enable-source-maps',
    ];
    const child = spawn(lambdaNodeBinary(), [...flags, '-e', script], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the bundled worker exited with ${code}:\n${output}`));
      resolve(JSON.parse(readFileSync(resultFile, 'utf8')));
    });
  });
}

describe('worker memory', () => {
  it('handles a full batch of the largest claim-checked webhooks within the memory the stack gives it', async () => {
    const memoryMb = workerProps?.MemorySize as number;
    const batchSize = mapping?.BatchSize as number;
    expect(memoryMb).toBeGreaterThan(0);
    expect(batchSize).toBeGreaterThan(0);
    const archive = makeS3Archive({
      bucket: s3Env.ARCHIVE_BUCKET,
      region: 'us-east-1',
      endpoint: s3Env.S3_ENDPOINT,
      credentials,
    });
    for (let i = 0; i < batchSize; i++) {
      const orderId = 6_100_000 + i;
      const message = await offloadBody(
        {
          provider: 'recharge',
          topic: 'order/created',
          deliveryKey: `recharge:memory-${orderId}`,
          receivedAt: new Date().toISOString(),
          verification: 'recharge-hmac-sha256-v1',
          body: largeOrderBody(orderId, BODY_BYTES),
        },
        archive,
      );
      await world.sqs.send(
        new SendMessageCommand({
          QueueUrl: world.queues.queueUrl,
          MessageBody: message.body,
          MessageAttributes: toMessageAttributes(message),
        }),
      );
    }
    const records = await receiveRecords(world.sqs, world.queues.queueUrl, batchSize);
    expect(records).toHaveLength(batchSize);
    for (const record of records) expect(JSON.parse(record.body)[0]).toBe(EXTENDED_POINTER_CLASS);

    const { response, maxRssMb } = await invokeBundledWorker(
      records,
      memoryMb,
      world.env({
        ...s3Env,
        AWS_LAMBDA_FUNCTION_NAME: 'worker',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        SQS_ENDPOINT: process.env.TEST_SQS_ENDPOINT as string,
        DYNAMODB_ENDPOINT: process.env.TEST_DYNAMODB_ENDPOINT as string,
      }) as NodeJS.ProcessEnv,
    );

    // Every record was processed (applied and written back), none left for a retry.
    expect(response.batchItemFailures).toEqual([]);
    expect(world.recharge.applied().filter((r) => r.path.startsWith('/orders/61000'))).toHaveLength(
      batchSize,
    );
    expect(maxRssMb).toBeLessThan(memoryMb);
  }, 300_000);
});
