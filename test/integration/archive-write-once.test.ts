import type { S3Client } from '@aws-sdk/client-s3';
import { planReplay } from '../../shared/archive/replay';
import { makeS3Archive, type S3Archive } from '../../shared/archive/s3-archive';
import { wixDeliveryKey } from '../../shared/providers/wix-cashier-pay/delivery-key';
import { wixEnvelopeSchema } from '../../shared/providers/wix-cashier-pay/envelope-schema';
import { processBatch } from '../../shared/worker/process-batch';
import { createTestBucket, testS3Client } from '../support/aws';
import {
  createWorkerWorld,
  lambdaContext,
  sampleWebhook,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

let world: WorkerWorld;
let s3: S3Client;
let archive: S3Archive;
let s3Env: { ARCHIVE_BUCKET: string; S3_ENDPOINT: string };

beforeAll(async () => {
  world = await createWorkerWorld();
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
afterAll(() => world.close());

let nextId = 0;
/** A Wix transaction whose delivery key (type, order, transaction, status) does not cover `merchantId`. */
function wixTransaction(merchantId: string, receivedAt: string) {
  nextId += 1;
  const orderId = `write-once-${process.pid}-${Date.now()}-${nextId}`;
  return (forged = merchantId) => {
    const webhook = sampleWebhook('wix-cashier-pay', 'transaction-approved', (p) => {
      p.transactionEvent.orderId = orderId;
      p.transactionEvent.merchantId = forged;
    });
    // The ingest's own key, as a token holder's forgery would get it.
    const deliveryKey = wixDeliveryKey(wixEnvelopeSchema.parse(JSON.parse(webhook.body)));
    return { ...webhook, deliveryKey, receivedAt };
  };
}

describe('archive: write-once', () => {
  it('never replaces a stored delivery: a second body under the same delivery key is a receipt of its own', async () => {
    const make = wixTransaction('m-original', '2026-11-05T09:10:00.000Z');
    const original = make();
    const forged = { ...make('m-forged'), receivedAt: '2026-11-05T09:40:00.000Z' };
    expect(forged.deliveryKey).toBe(original.deliveryKey);

    await archive.putBatch([original]);
    await archive.putBatch([forged]);

    const listed = await archive.list({
      provider: 'wix-cashier-pay',
      from: new Date('2026-11-05T09:00:00Z'),
      to: new Date('2026-11-05T10:00:00Z'),
      deliveryKey: original.deliveryKey,
    });
    expect(listed.map((e) => e.receivedAt)).toEqual([original.receivedAt, forged.receivedAt]);
    const stored = await archive.get((listed[0] as { key: string }).key);
    expect(stored.body).toBe(original.body);
    expect(stored.body).not.toContain('m-forged');
  });

  it('keeps the original through the worker, so a later replay sends what the provider sent first', async () => {
    const make = wixTransaction('m-real', '2026-11-05T11:05:00.000Z');
    const original = make();
    const forged = { ...make('m-attacker'), receivedAt: '2026-11-05T11:20:00.000Z' };
    expect(forged.deliveryKey).toBe(original.deliveryKey);
    const deps = world.deps({ env: s3Env });
    for (const webhook of [original, forged]) {
      const { results } = await processBatch([sqsRecord(webhook)], deps, lambdaContext());
      expect(results).toHaveLength(1);
    }

    const entries = await planReplay(archive, {
      provider: 'wix-cashier-pay',
      from: new Date('2026-11-05T11:00:00Z'),
      to: new Date('2026-11-05T12:00:00Z'),
      deliveryKey: original.deliveryKey,
    });
    expect(entries.length).toBeGreaterThanOrEqual(1);
    const replayed = await archive.get((entries[0] as { key: string }).key);
    expect(replayed.body).toBe(original.body);
  });
});
