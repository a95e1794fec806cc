import type { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { newReplayRunId, planReplay, sendReplay } from '../../shared/archive/replay';
import { makeS3Archive, type S3Archive } from '../../shared/archive/s3-archive';
import { OrderStore } from '../../shared/order-system/ledger';
import { type QueuedWebhook, toSendMessageInput } from '../../shared/queue/message';
import { processBatch } from '../../shared/worker/process-batch';
import { createTestBucket, testS3Client } from '../support/aws';
import { type FakeOrderSystem, startFakeOrderSystem } from '../support/fake-order-system';
import {
  createWorkerWorld,
  lambdaContext,
  receiveRecords,
  sampleWebhook,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

const SECRET = 'replay-order-system-secret-0123456789';
const DAY = { from: new Date('2026-11-03T00:00:00Z'), to: new Date('2026-11-04T00:00:00Z') };

let world: WorkerWorld;
let orderSystem: FakeOrderSystem;
let s3: S3Client;
let archive: S3Archive;
let s3Env: { ARCHIVE_BUCKET: string; S3_ENDPOINT: string };

beforeAll(async () => {
  [world, orderSystem] = await Promise.all([createWorkerWorld(), startFakeOrderSystem(SECRET)]);
  s3 = testS3Client();
  const created = await createTestBucket(s3);
  s3Env = created.env;
  archive = makeS3Archive({
    bucket: created.bucket,
    region: 'us-east-1',
    endpoint: s3Env.S3_ENDPOINT,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  await Promise.all([world.close(), orderSystem.close()]);
});

const env = () => ({
  ...s3Env,
  ORDER_SYSTEM: 'http',
  ORDER_SYSTEM_URL: orderSystem.url,
  ORDER_SYSTEM_SECRET: SECRET,
});

let nextId = 810_000_000 + Math.floor(Math.random() * 1_000_000) * 10;

/** One ReCharge order's day: created, processed, updated, received at 09:00, 09:01 and 10:30 UTC. */
function orderDay(): { orderId: string; webhooks: QueuedWebhook[] } {
  nextId += 10;
  const id = nextId;
  const times = ['2026-11-03T09:00:00.000Z', '2026-11-03T09:01:00.000Z', '2026-11-03T10:30:00.000Z'];
  const webhooks = ['2021-11-created-regular', '2021-11-processed-regular', '2021-11-updated-regular'].map(
    (name, i) => ({
      ...sampleWebhook('recharge', name, (p) => {
        p.order.id = id;
        p.order.charge.id = id + 1;
      }),
      receivedAt: times[i] as string,
    }),
  );
  return { orderId: String(id), webhooks };
}

/** Processes the provider's deliveries one at a time, as the worker would (archive first). */
async function deliver(webhooks: QueuedWebhook[]) {
  for (const webhook of webhooks) {
    const { results } = await processBatch([sqsRecord(webhook)], world.deps({ env: env() }), lambdaContext());
    expect(results.map((r) => r.outcome)).toEqual(['applied']);
  }
}

/** Replays the query through the emulator queue and processes what arrives; returns the outcomes. */
async function replay(query: Parameters<typeof planReplay>[1]) {
  const entries = await planReplay(archive, query);
  const runId = newReplayRunId();
  await sendReplay(entries, runId, {
    reader: archive,
    claims: archive,
    send: async (webhook) => {
      await world.sqs.send(new SendMessageCommand(toSendMessageInput(world.queues.queueUrl, webhook)));
    },
    maxMessageBytes: 1_048_576,
  });
  const records = await receiveRecords(world.sqs, world.queues.queueUrl, entries.length);
  const { results } = await processBatch(records, world.deps({ env: env() }), lambdaContext());
  return { entries, runId, outcomes: results.map((r) => r.outcome) };
}

const externalCalls = () => orderSystem.requests.length + world.recharge.requests.length;

describe('replay from the archive', () => {
  it('replaying a whole day of an already synced order makes no external call, and history marks the replay', async () => {
    const { orderId, webhooks } = orderDay();
    await deliver(webhooks);
    const before = externalCalls();
    expect(before).toBeGreaterThan(0);

    const { entries, runId, outcomes } = await replay({ provider: 'recharge', ...DAY, orderId });

    expect(entries).toHaveLength(3);
    expect(outcomes).toHaveLength(3);
    expect(outcomes.every((o) => o === 'applied' || o === 'stale')).toBe(true);
    expect(externalCalls()).toBe(before);
    const stored = await new OrderStore(world.dynamo, world.tables.orders).get({
      provider: 'recharge',
      orderId,
    });
    const replayed = stored?.history.filter((h) => h.deliveryKey.startsWith(`replay:${runId}:`)) ?? [];
    expect(replayed.length).toBeGreaterThan(0);
    expect(replayed.every((h) => h.origin === 'replay')).toBe(true);
    expect(stored?.history.filter((h) => !h.deliveryKey.startsWith('replay:')).every((h) => !h.origin)).toBe(
      true,
    );
  });

  it('replaying after a mapping fix puts the corrected details on the stored order', async () => {
    const { orderId, webhooks } = orderDay();
    await deliver(webhooks);
    const orders = new OrderStore(world.dynamo, world.tables.orders);
    const ref = { provider: 'recharge' as const, orderId };
    const correct = structuredClone((await orders.get(ref))?.order);
    // What an older, buggy mapping had stored: wrong line-item titles and no customer email.
    const stale = await orders.get(ref);
    if (!stale) throw new Error('order not stored');
    stale.order = {
      ...stale.order,
      lineItems: stale.order.lineItems.map((item) => ({ ...item, title: 'mapped wrong' })),
    };
    await orders.save(stale, stale.version);
    expect((await orders.get(ref))?.order).not.toEqual(correct);

    await replay({ provider: 'recharge', ...DAY, orderId });

    const fixed = await orders.get(ref);
    expect(fixed?.order).toEqual(correct);
    expect(fixed?.history.at(-1)).toMatchObject({ field: 'details', outcome: 'applied', origin: 'replay' });
  });

  it('does not archive a replay again', async () => {
    const { orderId, webhooks } = orderDay();
    await deliver(webhooks.slice(0, 1));

    await replay({ provider: 'recharge', ...DAY, orderId });

    expect(await archive.list({ provider: 'recharge', ...DAY, orderId })).toHaveLength(1);
  });
});
