import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { defaultDeps, makeHandler as makeIngestHandler } from '../../functions/ingest/handler';
import { makeHandler as makeWorkerHandler } from '../../functions/worker/handler';
import { FAKE_RECHARGE_TOKEN } from '../../scripts/local/fake-recharge';
import type { AwsCallRecord } from '../../shared/aws/call-recorder';
import { buildReconcileDeps } from '../../shared/reconcile/deps';
import { runScheduledReconcile } from '../../shared/reconcile/run';
import { createTestBucket, testS3Client } from '../support/aws';
import { type FakeOrderSystem, startFakeOrderSystem } from '../support/fake-order-system';
import {
  createWorkerWorld,
  lambdaContext,
  receiveRecords,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';
import { readCallRecords, ungrantedCalls } from '../support/iam-contract';
import { type MotoSecrets, startMotoSecrets } from '../support/moto';
import { rechargeOrder } from '../support/recharge-orders';
import { proxyEvent } from '../support/signing';
import { ALL_FEATURES, buildStack } from './build-stack';

/*
 * The IAM contract: every AWS call a function makes must be allowed by its role in the
 * synthesized template. DynamoDB Local and fauxqs enforce no IAM, so without this a missing grant
 * passes every other test and fails only in AWS (as GetItem on the idempotency table did).
 *
 * Why this suite runs its own flows rather than only reading what the other suites recorded:
 * jest runs suites in parallel and in no fixed order, so a check inside a test can never be sure
 * the others are done. This suite drives one of each kind of call through the real handlers and
 * clients (env-built, as in Lambda) and checks them, so it fails on its own, in any order, even
 * when run alone. The calls every integration and e2e suite made are checked as well: here, those
 * recorded so far, and in the jest globalTeardown, all of them once every suite has finished.
 */

const ORDER_SYSTEM_SECRET = 'iam-contract-order-system-secret';
const SEVI_TOKEN = 'iam-contract-sevi-token-0001';
jest.setTimeout(90_000);

let SECRET_ARN: string;

let template: Template;
let featuresTemplate: Template;
let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
let secretsManager: MotoSecrets;
let recordDir: string;
let recordFile: string;
let archive: { bucket: string; env: { ARCHIVE_BUCKET: string; S3_ENDPOINT: string } };
const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

beforeAll(async () => {
  ({ template } = buildStack());
  ({ template: featuresTemplate } = buildStack(ALL_FEATURES));
  secretsManager = await startMotoSecrets();
  SECRET_ARN = await secretsManager.put(
    `iam-contract-${randomUUID().slice(0, 8)}`,
    JSON.stringify({
      ORDER_SYSTEM_SECRET,
      RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
      SEVI_WEBHOOK_TOKENS: [SEVI_TOKEN],
    }),
  );
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(ORDER_SYSTEM_SECRET)]);
  recordDir = mkdtempSync(path.join(tmpdir(), 'iam-contract-'));
  recordFile = path.join(recordDir, 'calls.jsonl');
  archive = await createTestBucket(testS3Client());
});
afterAll(async () => {
  await Promise.all([world?.close(), orderSystem?.close(), secretsManager?.close()]);
  rmSync(recordDir, { recursive: true, force: true });
});

/** Worker deps built from the environment as in Lambda, credentials from the (fake) secret. */
function worker(env: Record<string, string>) {
  return makeWorkerHandler(
    world.deps({ env: { SECRET_ARN, AWS_CALL_RECORD_FILE: recordFile, RECHARGE_API_TOKEN: '', ...env } }),
  );
}

function wix(name: string, orderId: string) {
  return sampleWebhook('wix-cashier-pay', name, (p) => {
    const event = p.expiredOrderEvent ?? p.transactionEvent ?? p.subscriptionStatusChangeEvent;
    event.orderId = orderId;
  });
}

describe('IAM contract: the calls the functions make are the calls their roles allow', () => {
  let recorded: AwsCallRecord[];

  beforeAll(async () => {
    const http = worker({ ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: orderSystem.url });
    const ledger = worker({});
    const orderId = randomUUID();
    // A status before its order exists (the case whose read once lacked a grant), then the create.
    await http(sqsEvent([sqsRecord(wix('transaction-pending', orderId))]), lambdaContext());
    // Then the order is created and its status pushed: step claims, completes, order writes.
    await http(sqsEvent([sqsRecord(wix('transaction-approved', orderId))]), lambdaContext());
    // Ledger: the number counter, a ReCharge order with its write-back.
    const rechargeId = 800_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
    await ledger(
      sqsEvent([
        sqsRecord(
          sampleWebhook('recharge', '2021-11-created-prepaid', (p) => {
            p.order.id = rechargeId;
            p.order.charge.id = rechargeId + 1;
          }),
        ),
      ]),
      lambdaContext(),
    );
    // A permanent failure: the record goes to the dead-letter queue.
    const broken = sqsRecord(wix('transaction-pending', randomUUID()));
    await ledger(sqsEvent([{ ...broken, body: 'not json' }]), lambdaContext());

    // The ingest, wired from the environment: the secret, then SendMessage; a body beyond the
    // (lowered) message limit goes to S3 first (claim/). The worker then reads it back, archives
    // both deliveries (raw/, one object for the batch) and processes them.
    const ingest = makeIngestHandler({
      ...defaultDeps({
        AWS_REGION: 'us-east-1',
        QUEUE_URL: world.queues.queueUrl,
        SQS_ENDPOINT: process.env.TEST_SQS_ENDPOINT,
        SECRET_ARN,
        AWS_CALL_RECORD_FILE: recordFile,
        ...archive.env,
        MAX_MESSAGE_BYTES: '2048',
      }),
      metrics: undefined,
      log: quiet,
    });
    for (const note of ['', 'x'.repeat(4096)]) {
      const response = await ingest(
        proxyEvent({
          path: '/webhooks/sevi',
          body: JSON.stringify({ order: { id: randomUUID(), status: 'PAID', note } }),
          headers: { Authorization: `Bearer ${SEVI_TOKEN}` },
        }),
      );
      expect(response.statusCode).toBe(200);
    }
    const queued = await receiveRecords(world.sqs, world.queues.queueUrl, 2);
    expect(queued).toHaveLength(2);
    await worker(archive.env)(sqsEvent(queued), lambdaContext());

    // The reconciler, wired from the environment as in Lambda: its watermark, the order reads in
    // batches, the shared rate budget, the enqueue of an order never seen, the secret.
    world.recharge.orders.set('1', {
      ...rechargeOrder('2021-11'),
      id: 900_000_000 + Math.floor(Math.random() * 1e6),
    });
    const reconcile = buildReconcileDeps({
      env: {
        AWS_REGION: 'us-east-1',
        QUEUE_URL: world.queues.queueUrl,
        ORDERS_TABLE: world.tables.orders,
        IDEMPOTENCY_TABLE: world.tables.idempotency,
        DYNAMODB_ENDPOINT: process.env.TEST_DYNAMODB_ENDPOINT,
        SQS_ENDPOINT: process.env.TEST_SQS_ENDPOINT,
        RECHARGE_API_URL: world.recharge.url,
        PUBLIC_BASE_URL: 'https://hooks.example.com',
        SECRET_ARN,
        AWS_CALL_RECORD_FILE: recordFile,
      },
      log: quiet,
      metrics: { count: () => undefined },
    });
    const run = await runScheduledReconcile(reconcile, Date.now() + 30_000);
    expect(run.pass).toMatchObject({ outcome: 'completed', enqueued: 1 });
    recorded = readCallRecords(recordFile);
  });

  it('exercises every kind of call the functions make (so the check below covers them)', () => {
    const seen = new Set(recorded.map((r) => `${r.fn} ${r.action} ${r.binding}`));
    expect([...seen]).toEqual(
      expect.arrayContaining([
        'worker dynamodb:UpdateItem IDEMPOTENCY_TABLE',
        'worker dynamodb:Query ORDERS_TABLE',
        'worker dynamodb:PutItem ORDERS_TABLE',
        'worker dynamodb:UpdateItem ORDERS_TABLE',
        'worker sqs:SendMessage DLQ_URL',
        'worker secretsmanager:GetSecretValue SECRET_ARN',
        'ingest secretsmanager:GetSecretValue SECRET_ARN',
        'ingest sqs:SendMessage QUEUE_URL',
        'ingest s3:PutObject ARCHIVE_BUCKET',
        'worker s3:GetObject ARCHIVE_BUCKET',
        'worker s3:PutObject ARCHIVE_BUCKET',
        'reconcile dynamodb:GetItem ORDERS_TABLE',
        'reconcile dynamodb:BatchGetItem ORDERS_TABLE',
        'reconcile dynamodb:UpdateItem ORDERS_TABLE',
        'reconcile dynamodb:UpdateItem IDEMPOTENCY_TABLE',
        'reconcile sqs:SendMessage QUEUE_URL',
        'reconcile secretsmanager:GetSecretValue SECRET_ARN',
      ]),
    );
  });

  it.each([
    ['default settings', () => template],
    ['every optional feature (imported secret, http order system)', () => featuresTemplate],
  ])('finds a grant for every call with %s', (_name, templateOf) => {
    expect(ungrantedCalls(recorded, templateOf())).toEqual([]);
  });

  it('finds a grant for every call the integration and e2e suites recorded so far', () => {
    // The rest are checked by the globalTeardown once every suite is done.
    expect(ungrantedCalls(readCallRecords(process.env.AWS_CALL_RECORD_FILE), template)).toEqual([]);
  });
});

describe('IAM contract checker', () => {
  const call = (fn: AwsCallRecord['fn'], action: string, binding: string): AwsCallRecord => ({
    fn,
    action,
    binding,
  });

  it('allows the calls the code is known to make, including ChangeMessageVisibility on the queue', () => {
    expect(
      ungrantedCalls(
        [
          { ...call('worker', 'dynamodb:UpdateItem', 'IDEMPOTENCY_TABLE'), pk: 'ratebudget#recharge#x' },
          call('worker', 'sqs:ChangeMessageVisibility', 'QUEUE_URL'),
          call('worker', 'sqs:SendMessage', 'DLQ_URL'),
        ],
        template,
      ),
    ).toEqual([]);
  });

  it('reports a reconciler call outside its items and an archive call outside the prefixes granted', () => {
    const problems = ungrantedCalls(
      [
        { ...call('reconcile', 'dynamodb:UpdateItem', 'ORDERS_TABLE'), pk: 'order#recharge#1' },
        { ...call('reconcile', 'dynamodb:UpdateItem', 'IDEMPOTENCY_TABLE'), pk: 'step#recharge#1' },
        { ...call('reconcile', 'dynamodb:GetItem', 'ORDERS_TABLE') },
        { ...call('worker', 's3:PutObject', 'ARCHIVE_BUCKET'), objectKey: 'claim/abc' },
        { ...call('ingest', 's3:GetObject', 'ARCHIVE_BUCKET'), objectKey: 'claim/abc' },
      ],
      template,
    );
    expect(problems).toHaveLength(5);
    expect(
      ungrantedCalls(
        [
          { ...call('reconcile', 'dynamodb:UpdateItem', 'ORDERS_TABLE'), pk: 'RECONCILE#recharge' },
          { ...call('reconcile', 'dynamodb:UpdateItem', 'IDEMPOTENCY_TABLE'), pk: 'ratebudget#recharge#x' },
          { ...call('worker', 's3:PutObject', 'ARCHIVE_BUCKET'), objectKey: 'raw/2026/abc.json' },
        ],
        template,
      ),
    ).toEqual([]);
  });

  it("keeps the worker to its own items: the rate budget's, the order items and the counter, never the reconciler's watermark", () => {
    const outside = ungrantedCalls(
      [
        { ...call('worker', 'dynamodb:UpdateItem', 'ORDERS_TABLE'), pk: 'RECONCILE#recharge' },
        { ...call('worker', 'dynamodb:PutItem', 'ORDERS_TABLE'), pk: 'RECONCILE#recharge' },
        { ...call('worker', 'dynamodb:GetItem', 'ORDERS_TABLE'), pk: 'RECONCILE#recharge' },
        { ...call('worker', 'dynamodb:Query', 'ORDERS_TABLE'), pk: 'RECONCILE#recharge' },
        { ...call('worker', 'dynamodb:DeleteItem', 'ORDERS_TABLE'), pk: 'RECONCILE#recharge' },
        { ...call('worker', 'dynamodb:UpdateItem', 'IDEMPOTENCY_TABLE'), pk: 'delivery#recharge#1' },
      ],
      template,
    );
    expect(outside).toHaveLength(6);
    expect(
      ungrantedCalls(
        [
          { ...call('worker', 'dynamodb:UpdateItem', 'ORDERS_TABLE'), pk: 'ORDER#recharge#1' },
          { ...call('worker', 'dynamodb:PutItem', 'ORDERS_TABLE'), pk: 'ORDER#sevi#2' },
          // The order's partition read at once, and a superseded order-details item deleted.
          { ...call('worker', 'dynamodb:Query', 'ORDERS_TABLE'), pk: 'ORDER#sevi#2' },
          { ...call('worker', 'dynamodb:DeleteItem', 'ORDERS_TABLE'), pk: 'ORDER#recharge#1' },
          { ...call('worker', 'dynamodb:UpdateItem', 'ORDERS_TABLE'), pk: 'COUNTER' },
          { ...call('worker', 'dynamodb:UpdateItem', 'IDEMPOTENCY_TABLE'), pk: 'ratebudget#recharge#x' },
        ],
        template,
      ),
    ).toEqual([]);
  });

  it('lets the ingest read only the webhook secret and the worker and reconciler only the API secret', () => {
    const secretOf = (fn: 'ingest' | 'worker' | 'reconcile') => {
      const functions = template.findResources('AWS::Lambda::Function');
      const found = Object.values(functions).find((f) =>
        String(f.Properties.Description).startsWith(`order-webhooks ${fn}`),
      );
      return JSON.stringify(found?.Properties.Environment.Variables.SECRET_ARN);
    };
    // Each reads its own SECRET_ARN, and they name two different secrets.
    expect(secretOf('worker')).toBe(secretOf('reconcile'));
    expect(secretOf('ingest')).not.toBe(secretOf('worker'));
    expect(
      ungrantedCalls(
        ['ingest', 'worker', 'reconcile'].map((fn) =>
          call(fn as AwsCallRecord['fn'], 'secretsmanager:GetSecretValue', 'SECRET_ARN'),
        ),
        template,
      ),
    ).toEqual([]);
    // The old combined secret is out of the worker's and reconciler's reach unless combinedSecret is set.
    const combined = (['worker', 'reconcile'] as const).map((fn) =>
      call(fn, 'secretsmanager:GetSecretValue', 'COMBINED_SECRET_ARN'),
    );
    expect(ungrantedCalls(combined, template)).toHaveLength(2);
    expect(ungrantedCalls(combined, featuresTemplate)).toEqual([]);
  });

  it('reports a call without a grant: wrong action, wrong resource, wrong function, unknown resource', () => {
    const problems = ungrantedCalls(
      [
        call('worker', 'dynamodb:Scan', 'ORDERS_TABLE'),
        call('worker', 'dynamodb:PutItem', 'IDEMPOTENCY_TABLE'),
        call('worker', 'sqs:PurgeQueue', 'QUEUE_URL'),
        call('ingest', 'dynamodb:GetItem', 'ORDERS_TABLE'),
        call('worker', 'dynamodb:GetItem', 'unknown:some-other-table'),
      ],
      template,
    );
    expect(problems).toHaveLength(5);
    expect(problems).toContainEqual(
      expect.stringMatching(/^worker dynamodb:Scan on ORDERS_TABLE \(OrdersTable/),
    );
  });
});
