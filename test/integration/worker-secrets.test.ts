import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** A plain-string secret where a JSON object is expected: a common operator mistake. */
const PLAIN_SECRET = 'rc_live_tok_7f3a9c2e51d04b8a';
/** Node quotes the first 10 characters of an unparsable JSON input in its error: no fragment may leak. */
const FRAGMENT = PLAIN_SECRET.slice(0, 8);

let world: WorkerWorld;
let secretsManager: Server;
const requests: string[] = [];

beforeAll(async () => {
  world = await createWorkerWorld();
  // A Secrets Manager stand-in on loopback: GetSecretValue answers the plain string.
  secretsManager = createServer((req, res) => {
    requests.push(String(req.headers['x-amz-target']));
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:order-webhooks',
          Name: 'order-webhooks',
          VersionId: 'v1',
          SecretString: PLAIN_SECRET,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
  const { port } = secretsManager.address() as AddressInfo;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  await new Promise((resolve) => secretsManager.close(resolve));
  await world.close();
});

describe('secrets', () => {
  it('never logs or dead-letters the credentials secret when it cannot be parsed, and keeps the record', async () => {
    const deps = world.deps({
      env: { SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:order-webhooks' },
    });
    const handler = makeHandler(deps);
    const webhook = sampleWebhook('recharge', '2021-11-created-regular', (p) => {
      p.order.id = 870_000_000 + Math.floor(Math.random() * 1_000_000);
    });
    const record = sqsRecord(webhook);
    const result = await handler(sqsEvent([record]), lambdaContext(3000));

    expect(requests).toContain('secretsmanager.GetSecretValue');
    // A bad secret is a configuration problem: SQS keeps the record until it is fixed.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    const logged = JSON.stringify(deps.log.lines);
    expect(logged).toContain('record handled');
    expect(logged).not.toContain(FRAGMENT);
    const dead = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(JSON.stringify(dead)).not.toContain(FRAGMENT);
  });
});
