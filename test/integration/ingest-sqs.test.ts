import { createServer, type Server, type Socket } from 'node:net';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { makeHandler } from '../../functions/ingest/handler';
import { getFreePort } from '../../scripts/local/emulators';
import { parseSecrets } from '../../shared/config';
import { ATTR } from '../../shared/queue/message';
import { makeSqsClient, makeSqsSender } from '../../shared/queue/sqs-sender';
import { createTestQueues, testSqsClient } from '../support/aws';
import { handMadeJwt, proxyEvent, rechargeSignatureHeader, recordingLog, rsaPair } from '../support/signing';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const secrets = parseSecrets({
  RECHARGE_WEBHOOK_SECRETS: 'integration-secret',
  WIX_CASHIER_PAY_TOKENS: 'integration-token',
});

function handlerFor(endpoint: string, queueUrl: string, timeoutMs: number) {
  const client = makeSqsClient({ region: 'us-east-1', endpoint, timeoutMs, credentials });
  const sender = makeSqsSender(client, queueUrl, timeoutMs);
  const log = recordingLog();
  const handler = makeHandler({
    settings: {
      maxMessageBytes: 1_048_576,
      rechargeTimestampToleranceSeconds: 172_800,
      queueSendTimeoutMs: timeoutMs,
      secretsTimeoutMs: 1000,
    },
    getSecrets: async () => secrets,
    sendToQueue: (webhook, signal) => sender.send(webhook, signal),
    log,
  });
  return { handler, log, client };
}

describe('ingest through the SQS emulator', () => {
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    sqs = testSqsClient();
    ({ queueUrl } = await createTestQueues(sqs));
  });

  it('queues a signed ReCharge webhook whose body comes back byte-identical with its attributes', async () => {
    const endpoint = process.env.TEST_SQS_ENDPOINT as string;
    const { handler } = handlerFor(endpoint, queueUrl, 5000);
    // Unusual but valid bytes: non-ASCII, escaped unicode, insignificant whitespace. (No characters
    // outside the BMP: fauxqs 1.9.2 refuses surrogate pairs, which real SQS accepts.)
    const body = '{ "order" : {"id":991,"note":"Kovač ☕ \\u00e9 ü",\n"status":"SUCCESS"}\t}';
    const t = Math.floor(Date.now() / 1000);
    const response = await handler(
      proxyEvent({
        path: '/prod/webhooks/recharge/order/created',
        body,
        base64: true,
        headers: { 'X-Recharge-Webhook-Signature': rechargeSignatureHeader('integration-secret', t, body) },
      }),
    );
    expect(response.statusCode).toBe(200);
    const { deliveryKey } = JSON.parse(response.body) as { deliveryKey: string };

    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 2 }),
    );
    const message = received.Messages?.[0];
    expect(Buffer.from(message?.Body ?? '', 'utf8').equals(Buffer.from(body, 'utf8'))).toBe(true);
    const attr = (name: string) => message?.MessageAttributes?.[name]?.StringValue;
    expect(attr(ATTR.provider)).toBe('recharge');
    expect(attr(ATTR.topic)).toBe('order/created');
    expect(attr(ATTR.deliveryKey)).toBe(deliveryKey);
    expect(attr(ATTR.verification)).toBe('recharge-hmac-sha256-v1');
    expect(Number.isNaN(Date.parse(attr(ATTR.receivedAt) ?? ''))).toBe(false);
  });

  it('queues a Wix JWT body as the JWT text itself', async () => {
    const endpoint = process.env.TEST_SQS_ENDPOINT as string;
    const keys = rsaPair();
    const { handler } = handlerFor(endpoint, queueUrl, 5000);
    const now = Math.floor(Date.now() / 1000);
    const jwt = handMadeJwt(
      {
        data: JSON.stringify({ type: 'ORDER_EXPIRED', expiredOrderEvent: { orderId: 'o-9' } }),
        iat: now,
        exp: now + 60,
      },
      keys.privateKey,
    );
    const response = await handler(
      proxyEvent({ path: '/webhooks/wix-cashier-pay/integration-token', body: jwt }),
    );
    expect(response.statusCode).toBe(200);
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 2 }),
    );
    expect(received.Messages?.[0]?.Body).toBe(jwt);
    expect(received.Messages?.[0]?.MessageAttributes?.[ATTR.topic]?.StringValue).toBe('ORDER_EXPIRED');
  });
});

describe('ingest when SQS is unreachable', () => {
  const body = '{"order":{"id":1}}';
  const signed = () =>
    proxyEvent({
      path: '/webhooks/recharge/order/created',
      body,
      headers: {
        'X-Recharge-Webhook-Signature': rechargeSignatureHeader(
          'integration-secret',
          Math.floor(Date.now() / 1000),
          body,
        ),
      },
    });

  it('answers 503 when the queue endpoint refuses connections', async () => {
    const port = await getFreePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const { handler, log } = handlerFor(endpoint, `${endpoint}/000000000000/closed`, 300);
    const response = await handler(signed());
    expect(response.statusCode).toBe(503);
    expect(log.lines.map((l) => l.level)).toEqual(['error']);
  });

  describe('with an endpoint that accepts connections and never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    let endpoint: string;

    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    // The SDK's defaults would wait forever here; the configured budget turns the hang into a 503.
    it('answers 503 through the send budget instead of hanging', async () => {
      const { handler } = handlerFor(endpoint, `${endpoint}/000000000000/hung`, 300);
      const response = await handler(signed());
      expect(response.statusCode).toBe(503);
    }, 10_000);
  });
});
