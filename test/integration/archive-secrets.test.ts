import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { makeHandler } from '../../functions/ingest/handler';
import { buildWebhookRequest } from '../../scripts/cli/send';
import { FAKE_RECHARGE_TOKEN } from '../../scripts/local/fake-recharge';
import { samplePayload } from '../../scripts/samples/index';
import { makeS3Archive } from '../../shared/archive/s3-archive';
import { parseSecrets } from '../../shared/config';
import type { Provider } from '../../shared/queue/message';
import { makeSqsClient, makeSqsSender } from '../../shared/queue/sqs-sender';
import { processBatch } from '../../shared/worker/process-batch';
import { createTestBucket, testS3Client } from '../support/aws';
import {
  createWorkerWorld,
  type JsonObject,
  lambdaContext,
  receiveRecords,
  type WorkerWorld,
} from '../support/fake-worker';
import { proxyEvent, recordingLog } from '../support/signing';

/** Every credential this deployment is configured with (two webhook secrets/tokens per provider). */
const CONFIGURED = {
  RECHARGE_WEBHOOK_SECRETS: 'rc-secret-Zq81xw,rc-secret-old-Ty40',
  WIX_CASHIER_PAY_TOKENS: 'wix-token-Hh27pq,wix-token-old-Ab12',
  SEVI_WEBHOOK_TOKENS: 'sevi-token-Pp55mn,sevi-token-old-Cd34',
  ORDER_SYSTEM_SECRET: 'os-secret-Kk09rt-os-secret-Kk09rt',
  RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
};
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

function bodies(): { provider: Provider; body: string; topic?: string }[] {
  const recharge = samplePayload<JsonObject>('recharge', '2021-11-created-regular');
  recharge.order.id = 920_000_001;
  const large = samplePayload<JsonObject>('recharge', '2021-11-processed-regular');
  large.order.id = 920_000_002;
  large.order.padding = 'p'.repeat(1_200_000);
  const wix = samplePayload<JsonObject>('wix-cashier-pay', 'transaction-approved');
  const sevi = samplePayload<JsonObject>('sevi', 'paid');
  return [
    { provider: 'recharge', body: JSON.stringify(recharge), topic: 'order/created' },
    { provider: 'recharge', body: JSON.stringify(large), topic: 'order/processed' },
    { provider: 'wix-cashier-pay', body: JSON.stringify(wix) },
    { provider: 'sevi', body: JSON.stringify(sevi) },
  ];
}

async function allObjects(): Promise<{ key: string; text: string }[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return Promise.all(
    (listed.Contents ?? []).map(async ({ Key }) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: Key as string }));
      const metadata = Object.values(object.Metadata ?? {}).map(decodeURIComponent);
      const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      // Archive objects are gzip'd JSON Lines: searched decompressed, or the search would be vacuous.
      const body = (Key as string).endsWith('.gz')
        ? gunzipSync(bytes).toString('utf8')
        : bytes.toString('utf8');
      return { key: Key as string, text: [Key, ...metadata, body].join('\n') };
    }),
  );
}

describe('the archive never holds a secret', () => {
  it('finds no configured secret, token or signature in any archived object, key or metadata', async () => {
    const sender = makeSqsSender(
      makeSqsClient({ region: 'us-east-1', endpoint: s3Env.S3_ENDPOINT, timeoutMs: 5000, credentials }),
      world.queues.queueUrl,
      5000,
    );
    const ingest = makeHandler({
      settings: {
        maxMessageBytes: 1_048_576,
        rechargeTimestampToleranceSeconds: 172_800,
        queueSendTimeoutMs: 5000,
        secretsTimeoutMs: 1000,
      },
      getSecrets: async () => parseSecrets(CONFIGURED),
      sendToQueue: (webhook, signal) => sender.send(webhook, signal),
      claims: makeS3Archive({ bucket, region: 'us-east-1', endpoint: s3Env.S3_ENDPOINT, credentials }),
      log: recordingLog(),
    });
    const signatures: string[] = [];
    const deliveries = bodies();
    for (const d of deliveries) {
      const secret = CONFIGURED[
        d.provider === 'recharge'
          ? 'RECHARGE_WEBHOOK_SECRETS'
          : d.provider === 'sevi'
            ? 'SEVI_WEBHOOK_TOKENS'
            : 'WIX_CASHIER_PAY_TOKENS'
      ].split(',')[0] as string;
      const request = buildWebhookRequest(d.provider, d.body, { secret, topic: d.topic });
      for (const [name, value] of Object.entries(request.headers))
        if (/signature|hmac|authorization/i.test(name)) signatures.push(value);
      const response = await ingest(
        proxyEvent({ path: request.path, body: d.body, headers: request.headers }),
      );
      expect(response.statusCode).toBe(200);
    }
    const records = await receiveRecords(world.sqs, world.queues.queueUrl, deliveries.length);
    await processBatch(records, world.deps({ env: { ...s3Env, ...CONFIGURED } }), lambdaContext());

    const objects = await allObjects();

    // Not a vacuous search: every delivery was archived, the large one also as a claim.
    for (const provider of ['recharge', 'wix-cashier-pay', 'sevi'])
      expect(
        objects.some((o) => o.key.startsWith('raw/') && o.text.includes(`"provider":"${provider}"`)),
      ).toBe(true);
    expect(objects.some((o) => o.key.startsWith('claim/'))).toBe(true);
    expect(signatures.length).toBeGreaterThanOrEqual(3);
    const needles = [...Object.values(CONFIGURED).flatMap((v) => v.split(',')), ...signatures];
    const found = objects.flatMap((o) =>
      needles.filter((n) => o.text.includes(n)).map((n) => `${o.key}: ${n}`),
    );
    expect(found).toEqual([]);
  });
});
