import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { runDlq } from '../../scripts/cli/dlq';
import { runReplay } from '../../scripts/cli/replay';
import { resolveTarget } from '../../scripts/cli/target';
import { makeS3Archive } from '../../shared/archive/s3-archive';
import { STACK_NAME } from '../../shared/resources';
import { createTestBucket, createTestQueues, testS3Client, testSqsClient } from '../support/aws';
import { sampleWebhook } from '../support/fake-worker';
import { createMotoStack, MOTO_ACCOUNT, type Moto, startMoto } from '../support/moto';

jest.setTimeout(60_000);

/** The CLI acts on AWS only when told to, names the account and region, and asks before it changes anything. */
const VARS = [
  'AWS_REGION',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_CLOUDFORMATION',
  'AWS_ENDPOINT_URL_STS',
  'QUEUE_URL',
  'DLQ_URL',
  'ORDERS_TABLE',
  'ARCHIVE_BUCKET',
  'ORDER_WEBHOOKS_TARGET',
  'LOCAL_DATA_DIR',
] as const;

const saved: Partial<Record<(typeof VARS)[number], string>> = {};
let dir: string;
let moto: Moto;
const noLocalMode = () => ({ 'state-file': path.join(dir, 'endpoints.json') });

beforeAll(async () => {
  for (const name of VARS) saved[name] = process.env[name];
  dir = mkdtempSync(path.join(tmpdir(), 'cli-guard-'));
  moto = await startMoto();
  await createMotoStack(moto, 'eu-west-3', STACK_NAME, {
    QueueUrl: 'https://sqs.eu-west-3.amazonaws.com/123456789012/q',
    DeadLetterQueueUrl: 'https://sqs.eu-west-3.amazonaws.com/123456789012/dlq',
    OrdersTableName: 'orders',
  });
});
afterAll(async () => {
  for (const name of VARS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  rmSync(dir, { recursive: true, force: true });
  await moto.stop();
});
beforeEach(() => {
  for (const name of VARS) delete process.env[name];
  process.env.AWS_REGION = 'us-east-1';
  // STS (the account printed first) and CloudFormation (the stack's outputs) are moto's.
  Object.assign(process.env, moto.env);
});

describe('the CLI chooses AWS only when told', () => {
  it('does not act on AWS because QUEUE_URL, DLQ_URL, ORDERS_TABLE and ARCHIVE_BUCKET are set', async () => {
    process.env.QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';
    process.env.DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
    process.env.ORDERS_TABLE = 'orders';
    process.env.ARCHIVE_BUCKET = 'archive';

    await expect(resolveTarget(noLocalMode(), { announce: () => {} })).rejects.toThrow(
      /no running local mode .*QUEUE_URL, DLQ_URL, ORDERS_TABLE, ARCHIVE_BUCKET are set, but only --aws acts on AWS/,
    );
  });

  it('prints the account and region of every AWS run, from the stack or from the variables', async () => {
    const lines: string[] = [];
    const fromStack = await resolveTarget(
      { aws: true, region: 'eu-west-3' },
      { announce: (l) => lines.push(l) },
    );
    expect(fromStack).toMatchObject({ kind: 'aws', account: MOTO_ACCOUNT, region: 'eu-west-3' });

    process.env.QUEUE_URL = 'https://sqs.ap-southeast-2.amazonaws.com/210987654321/q';
    process.env.DLQ_URL = 'https://sqs.ap-southeast-2.amazonaws.com/210987654321/dlq';
    process.env.ORDERS_TABLE = 'orders';
    process.env.ORDER_WEBHOOKS_TARGET = 'aws';
    await resolveTarget(noLocalMode(), { announce: (l) => lines.push(l) });

    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^aws: account ${MOTO_ACCOUNT} .*region eu-west-3$`)),
      expect.stringMatching(new RegExp(`^aws: stack ${STACK_NAME} in eu-west-3`)),
      expect.stringMatching(new RegExp(`^aws: account ${MOTO_ACCOUNT} .*region ap-southeast-2$`)),
      expect.stringMatching(/^aws: /),
    ]);
  });
});

describe('redrive and replay against AWS ask first', () => {
  async function awsQueues() {
    const sqs = testSqsClient();
    const queues = await createTestQueues(sqs);
    process.env.AWS_ENDPOINT_URL_SQS = process.env.TEST_SQS_ENDPOINT;
    process.env.QUEUE_URL = queues.queueUrl;
    process.env.DLQ_URL = queues.dlqUrl;
    process.env.ORDERS_TABLE = 'orders';
    return { sqs, queues };
  }

  it('refuses a redrive without --yes when there is no terminal to ask, and moves nothing', async () => {
    const { sqs, queues } = await awsQueues();
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: '{"a":1}' }));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(runDlq(['redrive', '--aws', '--one-by-one'])).rejects.toThrow(
        /redrive every message from the dead-letter queue in AWS \(account \S+, region us-east-1\) needs confirmation .*pass --yes/,
      );
      const main = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, WaitTimeSeconds: 1 }),
      );
      expect(main.Messages ?? []).toHaveLength(0);

      // --yes goes past the question (whether the emulator then serves the CLI's own client is another matter).
      const withYes = await runDlq(['redrive', '--aws', '--one-by-one', '--yes']).catch((e: Error) => e);
      expect(String(withYes)).not.toMatch(/confirmation/);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });

  it('refuses a replay without --yes when there is no terminal to ask, and sends nothing', async () => {
    const { sqs, queues } = await awsQueues();
    const s3 = testS3Client();
    const { bucket, env } = await createTestBucket(s3);
    process.env.ARCHIVE_BUCKET = bucket;
    process.env.AWS_ENDPOINT_URL_S3 = env.S3_ENDPOINT;
    const archive = makeS3Archive({
      bucket,
      region: 'us-east-1',
      endpoint: env.S3_ENDPOINT,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await archive.putBatch([{ ...sampleWebhook('sevi', 'paid'), receivedAt: '2026-11-06T10:00:00.000Z' }]);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const args = [
      '--provider',
      'sevi',
      '--from',
      '2026-11-06T00:00:00Z',
      '--to',
      '2026-11-07T00:00:00Z',
      '--aws',
    ];
    try {
      await expect(runReplay(args)).rejects.toThrow(/replay 1 webhook\(s\) in AWS .*pass --yes/);
      const none = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, WaitTimeSeconds: 1 }),
      );
      expect(none.Messages ?? []).toHaveLength(0);

      const withYes = await runReplay([...args, '--yes']).catch((e: Error) => e);
      expect(String(withYes)).not.toMatch(/confirmation/);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });
});
