import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { makeHandler } from '../../functions/ingest/handler';
import { getFreePort } from '../../scripts/local/emulators';
import { samplePayload } from '../../scripts/samples/index';
import { entryKeyOfRef } from '../../shared/archive/archive';
import { EXTENDED_POINTER_CLASS, offloadBody, resolveBody } from '../../shared/archive/claim-check';
import { makeS3Archive } from '../../shared/archive/s3-archive';
import { parseSecrets } from '../../shared/config';
import { OrderStore } from '../../shared/order-system/ledger';
import {
  ATTR,
  type QueuedWebhook,
  toMessageAttributes,
  toSendMessageInput,
} from '../../shared/queue/message';
import { fromSqsRecord } from '../../shared/queue/message-schema';
import { makeSqsClient, makeSqsSender } from '../../shared/queue/sqs-sender';
import { processBatch } from '../../shared/worker/process-batch';
import { createTestBucket, testS3Client } from '../support/aws';
import {
  createWorkerWorld,
  drainQueue,
  type JsonObject,
  lambdaContext,
  receiveRecords,
  type WorkerWorld,
} from '../support/fake-worker';
import { proxyEvent, rechargeSignatureHeader, recordingLog } from '../support/signing';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const SECRET = 'claim-check-secret';
const MB = 1024 * 1024;

let world: WorkerWorld;
let s3: S3Client;
let bucket: string;
let s3Env: { ARCHIVE_BUCKET: string; S3_ENDPOINT: string };

beforeAll(async () => {
  world = await createWorkerWorld();
  s3 = testS3Client();
  ({ bucket, env: s3Env } = await createTestBucket(s3));
});
afterAll(() => world.close());

/** The archive as the CLI reads it (no order lookup: by time range). */
const archiveReader = () =>
  makeS3Archive({ bucket, region: 'us-east-1', endpoint: s3Env.S3_ENDPOINT, credentials });
beforeEach(() => world.recharge.reset());

/** The ingest handler on the emulator queue, with the claim store at `s3Endpoint` (default: the emulator). */
function ingest(s3Endpoint = s3Env.S3_ENDPOINT) {
  const endpoint = process.env.TEST_SQS_ENDPOINT as string;
  const sender = makeSqsSender(
    makeSqsClient({ region: 'us-east-1', endpoint, timeoutMs: 5000, credentials }),
    world.queues.queueUrl,
    5000,
  );
  const log = recordingLog();
  const handler = makeHandler({
    settings: {
      maxMessageBytes: 1_048_576,
      rechargeTimestampToleranceSeconds: 172_800,
      queueSendTimeoutMs: 5000,
      secretsTimeoutMs: 1000,
      claimPutTimeoutMs: 2000,
    },
    getSecrets: async () => parseSecrets({ RECHARGE_WEBHOOK_SECRETS: SECRET }),
    sendToQueue: (webhook, signal) => sender.send(webhook, signal),
    claims: makeS3Archive({
      bucket,
      region: 'us-east-1',
      endpoint: s3Endpoint,
      credentials,
      timeoutMs: 2000,
    }),
    log,
  });
  return { handler, log };
}

/** A signed ReCharge order/created delivery of about `bytes` (padding in a field the mapping ignores). */
function rechargeDelivery(orderId: number, bytes: number) {
  const payload = samplePayload<JsonObject>('recharge', '2021-11-created-regular');
  payload.order.id = orderId;
  const base = JSON.stringify(payload).length;
  payload.order.note_attributes_blob = 'x'.repeat(Math.max(0, bytes - base - 30));
  const body = JSON.stringify(payload);
  const t = Math.floor(Date.now() / 1000);
  const event = proxyEvent({
    path: '/webhooks/recharge/order/created',
    body,
    headers: { 'X-Recharge-Webhook-Signature': rechargeSignatureHeader(SECRET, t, body) },
  });
  event.requestContext = { ...event.requestContext, requestId: `req-${orderId}` };
  return { body, event };
}

describe('claim check: webhooks beyond the SQS limit', () => {
  it('acknowledges a 3 MB signed ReCharge webhook, processes it once, writes back once and archives it byte for byte', async () => {
    const { body, event } = rechargeDelivery(3_000_001, 3 * MB);
    const { handler } = ingest();

    const response = await handler(event);

    expect(response.statusCode).toBe(200);
    const [record, ...others] = await receiveRecords(world.sqs, world.queues.queueUrl, 1);
    expect(others).toHaveLength(0);
    // The queue holds the SQS Extended Client's pointer, not the body.
    expect(JSON.parse(record?.body ?? '')[0]).toBe(EXTENDED_POINTER_CLASS);
    expect(record?.messageAttributes[ATTR.extendedPayloadSize]?.stringValue).toBe(
      String(Buffer.byteLength(body)),
    );

    const deps = world.deps({ env: s3Env });
    const first = await processBatch([record as never], deps, lambdaContext());
    const again = await processBatch([record as never], deps, lambdaContext());

    expect(first.results.map((r) => r.outcome)).toEqual(['applied']);
    expect(again.results.map((r) => r.outcome)).toEqual(['duplicate']);
    expect(world.recharge.applied().filter((r) => r.path === '/orders/3000001')).toHaveLength(1);
    const webhook = fromSqsRecord(record as never);
    const at = Date.parse(webhook.receivedAt);
    const reader = archiveReader();
    const [entry, ...more] = await reader.list({
      provider: 'recharge',
      orderId: '3000001',
      from: new Date(at - 1000),
      to: new Date(at + 1000),
    });
    // Processed twice (SQS delivered the same message again): one receipt, listed once.
    expect(more).toHaveLength(0);
    const archived = await reader.get(entry?.key as string);
    expect(Buffer.from(archived.body).equals(Buffer.from(body))).toBe(true);
    expect(archived).toMatchObject({
      provider: 'recharge',
      orderId: '3000001',
      verification: 'recharge-hmac-sha256-v1',
      requestId: 'req-3000001',
      receivedAt: webhook.receivedAt,
    });
  });

  it('answers 503 for a large body when S3 is down, and nothing is queued; small bodies are unaffected', async () => {
    const down = `http://127.0.0.1:${await getFreePort()}`;
    const { handler, log } = ingest(down);
    const large = rechargeDelivery(3_000_002, 2 * MB);
    const small = rechargeDelivery(3_000_003, 2_000);

    const largeResponse = await handler(large.event);
    const smallResponse = await handler(small.event);

    expect(largeResponse.statusCode).toBe(503);
    expect(JSON.parse(largeResponse.body)).toEqual({ error: 'storage unavailable' });
    expect(smallResponse.statusCode).toBe(200);
    const queued = await receiveRecords(world.sqs, world.queues.queueUrl, 2);
    expect(queued.map((r) => fromSqsRecord(r).body)).toEqual([small.body]);
    expect(log.lines.find((l) => l.level === 'error')?.extra).toMatchObject({
      reason: 'storage unavailable',
    });
  });

  it('answers 413 only above API Gateway’s 10 MB', async () => {
    const { event } = rechargeDelivery(3_000_004, 10 * MB + 10);

    const response = await ingest().handler(event);

    expect(response.statusCode).toBe(413);
  });

  it('dead-letters a replayed large message with 10 attributes at most, keeping origin and its pointer readable', async () => {
    const archive = makeS3Archive({ bucket, region: 'us-east-1', endpoint: s3Env.S3_ENDPOINT, credentials });
    // Valid JSON without the order envelope: the worker dead-letters it as a permanent failure.
    const body = JSON.stringify({ not_an_order: 'x'.repeat(2 * MB) });
    const replay: QueuedWebhook = {
      provider: 'recharge',
      topic: 'order/created',
      deliveryKey: 'replay:run1:recharge:abc',
      receivedAt: new Date().toISOString(),
      verification: 'recharge-hmac-sha256-v1',
      origin: 'replay',
      requestId: 'req-replayed',
      body,
    };
    const message = await offloadBody(replay, archive);
    await world.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.queues.queueUrl,
        MessageBody: message.body,
        MessageAttributes: toMessageAttributes(message),
      }),
    );
    const records = await receiveRecords(world.sqs, world.queues.queueUrl, 1);
    expect(Object.keys(records[0]?.messageAttributes ?? {})).toHaveLength(8);

    const { results } = await processBatch(records, world.deps({ env: s3Env }), lambdaContext());

    expect(results.map((r) => r.outcome)).toEqual(['dead-lettered']);
    const [dead] = await drainQueue(world.sqs, world.queues.dlqUrl);
    const names = Object.keys(dead?.MessageAttributes ?? {});
    expect(names).toHaveLength(10);
    expect(names).toEqual(
      expect.arrayContaining(['provider', 'topic', 'deliveryKey', 'receivedAt', 'verification', 'origin']),
    );
    expect(dead?.MessageAttributes?.failureStep?.StringValue).toBe('parse-payload');
    expect(await resolveBody(dead?.Body ?? '', archive)).toBe(body);
  });

  it('leaves a pointer whose object is gone to the dead-letter queue, and a failing S3 read to SQS', async () => {
    const pointer = JSON.stringify([
      EXTENDED_POINTER_CLASS,
      { s3BucketName: bucket, s3Key: 'claim/recharge/gone' },
    ]);
    const webhook: QueuedWebhook = {
      provider: 'recharge',
      topic: 'order/created',
      deliveryKey: 'recharge:gone',
      receivedAt: new Date().toISOString(),
      verification: 'recharge-hmac-sha256-v1',
      extendedPayloadSize: 5,
      body: pointer,
    };
    await world.sqs.send(new SendMessageCommand(toSendMessageInput(world.queues.queueUrl, webhook)));
    const records = await receiveRecords(world.sqs, world.queues.queueUrl, 1);

    const missing = await processBatch(records, world.deps({ env: s3Env }), lambdaContext());
    const down = await processBatch(
      records,
      world.deps({ env: { ...s3Env, S3_ENDPOINT: `http://127.0.0.1:${await getFreePort()}` } }),
      lambdaContext(),
    );

    expect(missing.results.map((r) => r.outcome)).toEqual(['dead-lettered']);
    expect(down.results.map((r) => [r.outcome, r.failed])).toEqual([['transient-failure', true]]);
    const [dead] = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(dead?.Body).toBe(pointer);
  });
});

describe('archive as the worker’s first step', () => {
  it("archives a small delivery in one object, found from the order's history, with no index keys", async () => {
    const { event, body } = rechargeDelivery(3_000_005, 2_000);
    await ingest().handler(event);
    const records = await receiveRecords(world.sqs, world.queues.queueUrl, 1);
    const webhook = fromSqsRecord(records[0] as never);

    await processBatch(records, world.deps({ env: s3Env }), lambdaContext());

    const stored = await new OrderStore(world.dynamo, world.tables.orders).get({
      provider: 'recharge',
      orderId: '3000005',
    });
    const ref = stored?.history.find((h) => h.deliveryKey === webhook.deliveryKey)?.archive;
    const archived = await archiveReader().get(entryKeyOfRef(ref as string) as string);
    expect(archived.body).toBe(body);
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((c) => c.Key);
    expect(keys?.filter((k) => k?.startsWith('index/'))).toEqual([]);
    expect(keys?.filter((k) => k?.startsWith('raw/') && k.endsWith('.jsonl.gz')).length).toBeGreaterThan(0);
  });

  it('leaves a delivery to SQS, unapplied, when the archive cannot be written', async () => {
    const { event } = rechargeDelivery(3_000_006, 2_000);
    await ingest().handler(event);
    const records = await receiveRecords(world.sqs, world.queues.queueUrl, 1);
    const down = { ...s3Env, S3_ENDPOINT: `http://127.0.0.1:${await getFreePort()}` };

    const { results } = await processBatch(records, world.deps({ env: down }), lambdaContext());

    expect(results.map((r) => [r.outcome, r.failed])).toEqual([['transient-failure', true]]);
    expect(world.recharge.applied().filter((r) => r.path === '/orders/3000006')).toHaveLength(0);
  });
});
