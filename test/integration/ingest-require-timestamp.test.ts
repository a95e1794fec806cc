import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { defaultDeps, makeHandler } from '../../functions/ingest/handler';
import { createTestQueues, testSqsClient } from '../support/aws';
import { proxyEvent, rechargeLegacy, rechargeSignatureHeader } from '../support/signing';

const SECRET = 'integration-recharge-secret';
const body = '{"order":{"id":4242,"status":"SUCCESS"}}';

let sqs: SQSClient;
let queueUrl: string;
let handler: ReturnType<typeof makeHandler>;
let logged: string[];

beforeAll(async () => {
  sqs = testSqsClient();
  ({ queueUrl } = await createTestQueues(sqs));
  // The production wiring, configured from the environment as the stack does it.
  const deps = defaultDeps({
    AWS_REGION: 'us-east-1',
    QUEUE_URL: queueUrl,
    SQS_ENDPOINT: process.env.TEST_SQS_ENDPOINT,
    RECHARGE_WEBHOOK_SECRETS: SECRET,
    RECHARGE_REQUIRE_TIMESTAMP: 'true',
  });
  logged = [];
  const line = (message: string, extra?: Record<string, unknown>) => {
    logged.push(JSON.stringify({ message, ...extra }));
  };
  handler = makeHandler({
    ...deps,
    metrics: undefined,
    log: { debug: line, info: line, warn: line, error: line },
  });
});

describe('ingest with RECHARGE_REQUIRE_TIMESTAMP=true', () => {
  it('answers 401 to a legacy-only request, logs why, and queues nothing', async () => {
    const response = await handler(
      proxyEvent({
        path: '/webhooks/recharge/order/created',
        body,
        headers: { 'X-Recharge-Hmac-Sha256': rechargeLegacy(SECRET, body) },
      }),
    );
    expect(response.statusCode).toBe(401);
    expect(logged.some((l) => l.includes('"reason":"timestamped signature required"'))).toBe(true);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(received.Messages ?? []).toHaveLength(0);
  });

  it('queues the same delivery signed with the timestamped header', async () => {
    const t = Math.floor(Date.now() / 1000);
    const response = await handler(
      proxyEvent({
        path: '/webhooks/recharge/order/created',
        body,
        headers: { 'X-Recharge-Webhook-Signature': rechargeSignatureHeader(SECRET, t, body) },
      }),
    );
    expect(response.statusCode).toBe(200);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2 }));
    expect(received.Messages?.[0]?.Body).toBe(body);
  });
});
