import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeHandler } from '../../functions/worker/handler';
import {
  createWorkerWorld,
  drainQueue,
  lambdaContext,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';
import { readCallRecords } from '../support/iam-contract';
import { type MotoSecrets, startMotoSecrets } from '../support/moto';

/** A plain-string secret where a JSON object is expected: a common operator mistake. */
const PLAIN_SECRET = 'rc_live_tok_7f3a9c2e51d04b8a';
/** Node quotes the first 10 characters of an unparsable JSON input in its error: no fragment may leak. */
const FRAGMENT = PLAIN_SECRET.slice(0, 8);

let world: WorkerWorld;
let secretsManager: MotoSecrets;
let secretArn: string;
let recordDir: string;

jest.setTimeout(60_000);

beforeAll(async () => {
  world = await createWorkerWorld();
  secretsManager = await startMotoSecrets();
  secretArn = await secretsManager.put('order-webhooks-plain', PLAIN_SECRET);
  recordDir = mkdtempSync(path.join(tmpdir(), 'worker-secrets-'));
});
afterAll(async () => {
  await secretsManager?.close();
  await world?.close();
  rmSync(recordDir, { recursive: true, force: true });
});

describe('secrets', () => {
  it('never logs or dead-letters the credentials secret when it cannot be parsed, and keeps the record', async () => {
    const deps = world.deps({
      env: { SECRET_ARN: secretArn, AWS_CALL_RECORD_FILE: path.join(recordDir, 'calls.jsonl') },
    });
    const handler = makeHandler(deps);
    const webhook = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
      p.order.id = 870_000_000 + Math.floor(Math.random() * 1_000_000);
    });
    const record = sqsRecord(webhook);
    // Room for a slow emulator: AWS calls are cut off when the invocation's time runs out.
    const result = await handler(sqsEvent([record]), lambdaContext(20_000));

    // The secret was read (from moto), so what follows is the worker's answer to its content.
    expect(readCallRecords(path.join(recordDir, 'calls.jsonl')).map((r) => r.action)).toContain(
      'secretsmanager:GetSecretValue',
    );
    // A bad secret is a configuration problem: SQS keeps the record until it is fixed.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    const logged = JSON.stringify(deps.log.lines);
    expect(logged).toContain('record handled');
    expect(logged).not.toContain(FRAGMENT);
    const dead = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(JSON.stringify(dead)).not.toContain(FRAGMENT);
  });
});
