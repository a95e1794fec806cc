import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ArchivedWebhook } from '../../shared/archive/archive';
import { makeS3Archive } from '../../shared/archive/s3-archive';
import { processBatch } from '../../shared/worker/process-batch';
import { createTestBucket, testS3Client } from '../support/aws';
import {
  createWorkerWorld,
  lambdaContext,
  sampleWebhook,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

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

/** The archive on the emulator, recording every PutObject it sends. */
function archiveRecordingPuts() {
  const puts: { Key: string; IfNoneMatch?: string }[] = [];
  const archive = makeS3Archive({
    bucket,
    region: 'us-east-1',
    endpoint: s3Env.S3_ENDPOINT,
    credentials,
    onClient: (client) =>
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if ((context as { commandName?: string }).commandName === 'PutObjectCommand')
            puts.push(args.input as { Key: string; IfNoneMatch?: string });
          return next(args);
        },
        { step: 'initialize', name: 'recordPuts' },
      ),
  });
  return { archive, puts };
}

const objectKeys = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map(
    (c) => c.Key as string,
  );

const objectBytes = async (key: string) =>
  Buffer.from(
    await (
      (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as {
        transformToByteArray(): Promise<Uint8Array>;
      }
    ).transformToByteArray(),
  );

let lastId = 830_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
const newOrderId = () => {
  lastId += 10;
  return lastId;
};

function delivery(receivedAt: string, orderId = newOrderId()): ArchivedWebhook {
  const webhook = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
    p.order.id = orderId;
    p.order.charge.id = orderId + 1;
  });
  return {
    provider: 'recharge',
    topic: webhook.topic,
    deliveryKey: webhook.deliveryKey,
    receivedAt,
    verification: webhook.verification,
    orderId: String(orderId),
    body: webhook.body,
  };
}

describe('archive: one object per batch, write-once', () => {
  it('archives a batch of five deliveries as one object, each found again by its own key', async () => {
    const hour = '2026-10-07T11';
    const records = Array.from({ length: 5 }, (_, i) => {
      const orderId = newOrderId();
      const webhook = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
        p.order.id = orderId;
        p.order.charge.id = orderId + 1;
      });
      return sqsRecord({ ...webhook, receivedAt: `${hour}:0${i}:00.000Z` });
    });

    const { results } = await processBatch(records, world.deps({ env: s3Env }), lambdaContext());

    expect(results.map((r) => r.outcome)).toEqual(Array(5).fill('applied'));
    const keys = await objectKeys('raw/2026/10/07/11/');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^raw\/2026\/10\/07\/11\/[0-9a-z-]+\.jsonl\.gz$/);
    const { archive } = archiveRecordingPuts();
    const listed = await archive.list({
      provider: 'recharge',
      from: new Date(`${hour}:00:00Z`),
      to: new Date(`${hour}:59:59Z`),
    });
    expect(listed.map((e) => e.receivedAt)).toEqual(records.map((_, i) => `${hour}:0${i}:00.000Z`));
  });

  it('keeps a repeat within the hour as a second entry, in time order, and never replaces an object', async () => {
    const { archive, puts } = archiveRecordingPuts();
    const first = delivery('2026-10-08T09:10:00.000Z');
    const repeat = { ...first, receivedAt: '2026-10-08T09:40:00.000Z' };
    const other = delivery('2026-10-08T09:20:00.000Z');

    await archive.putBatch([first, other]);
    const [firstObject] = await objectKeys('raw/2026/10/08/09/');
    const before = await objectBytes(firstObject as string);
    await archive.putBatch([repeat]);

    // Two writes, two keys, each conditional on the key being new (S3 refuses to replace an object).
    expect(puts).toHaveLength(2);
    expect(new Set(puts.map((p) => p.Key)).size).toBe(2);
    expect(puts.every((p) => p.IfNoneMatch === '*')).toBe(true);
    expect((await objectBytes(firstObject as string)).equals(before)).toBe(true);
    const listed = await archive.list({
      provider: 'recharge',
      from: new Date('2026-10-08T09:00:00Z'),
      to: new Date('2026-10-08T10:00:00Z'),
    });
    expect(listed.map((e) => [e.deliveryKey, e.receivedAt])).toEqual([
      [first.deliveryKey, first.receivedAt],
      [other.deliveryKey, other.receivedAt],
      [first.deliveryKey, repeat.receivedAt],
    ]);
    expect((await archive.get(listed[2]?.key as string)).receivedAt).toBe(repeat.receivedAt);
  });

  it("finds an order's deliveries from its history at any time, and by time range", async () => {
    const orderId = newOrderId();
    const created = delivery('2026-09-01T08:00:00.000Z', orderId);
    const reader = makeS3Archive({
      bucket,
      region: 'us-east-1',
      endpoint: s3Env.S3_ENDPOINT,
      credentials,
      orderRefs: async () => refs,
    });
    const refs = await reader.putBatch([delivery('2026-09-01T08:00:00.000Z'), created]);
    refs.splice(0, 1);

    const byHistory = await reader.list({ provider: 'recharge', orderId: String(orderId) });
    const byRange = await reader.list({
      provider: 'recharge',
      orderId: String(orderId),
      from: new Date('2026-09-01T00:00:00Z'),
      to: new Date('2026-09-02T00:00:00Z'),
    });

    expect(refs[0]).toMatch(/^2026090108\/[0-9a-z-]+#1$/);
    expect(byHistory.map((e) => e.deliveryKey)).toEqual([created.deliveryKey]);
    expect(byRange.map((e) => e.key)).toEqual(byHistory.map((e) => e.key));
  });

  it('lists a receipt archived twice (its batch failed after archiving and came back) once', async () => {
    const { archive } = archiveRecordingPuts();
    const once = delivery('2026-10-09T15:00:00.000Z');

    await archive.putBatch([once]);
    await archive.putBatch([once]);

    const listed = await archive.list({
      provider: 'recharge',
      from: new Date('2026-10-09T15:00:00Z'),
      to: new Date('2026-10-09T16:00:00Z'),
    });
    expect(listed).toHaveLength(1);
  });
});
