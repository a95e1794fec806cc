import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseSecrets, parseWorkerEnv } from '../../shared/config';
import { ConfigError, PermanentError } from '../../shared/errors';
import { HttpOrderSystem } from '../../shared/order-system/http';
import { signOrderSystemRequest, verifyOrderSystemRequest } from '../../shared/order-system/signing';
import type { CreateOrderInput } from '../../shared/order-system/types';
import { type FakeOrderSystem, startFakeOrderSystem } from '../support/fake-order-system';
import { TEST_SECRETS } from '../support/signing';

const SECRET = 'order-system-signing-secret-0123456789';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A plain HTTP server on loopback that records requests and answers with `answer`. */
async function recordingServer(
  answer: (
    req: IncomingMessage,
    body: string,
  ) => { status: number; headers?: Record<string, string>; body?: string },
): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const out = answer(req, body);
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body ?? '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

function createInput(orderId: string): CreateOrderInput {
  return {
    ref: { provider: 'recharge', orderId },
    idempotencyKey: `recharge:${orderId}:create`,
    version: 1,
    status: 'paid',
    order: { source: { provider: 'recharge', orderId } },
  } as unknown as CreateOrderInput;
}

let orderSystem: FakeOrderSystem;
beforeAll(async () => {
  orderSystem = await startFakeOrderSystem(SECRET);
});
afterAll(() => orderSystem.close());

describe('order-system push: redirects', () => {
  it.each([301, 302, 307, 308])(
    'never follows a %i: a permanent failure naming it, nothing sent to the target',
    async (status) => {
      const elsewhere = await recordingServer(() => ({ status: 201, body: '{"id":"evil-1","number":"1"}' }));
      const redirecting = await recordingServer(() => ({
        status,
        headers: { location: `${elsewhere.url}/steal` },
      }));
      try {
        const system = new HttpOrderSystem({
          url: `${redirecting.url}/orders`,
          timeoutMs: 5000,
          secret: async () => SECRET,
        });
        const created = system.createOrder(createInput('redirect-1'));
        await expect(created).rejects.toBeInstanceOf(PermanentError);
        await expect(created).rejects.toThrow(new RegExp(`${status} redirect`));
        expect(redirecting.seen).toHaveLength(1);
        expect(elsewhere.seen).toHaveLength(0);
      } finally {
        await Promise.all([closeServer(elsewhere.server), closeServer(redirecting.server)]);
      }
    },
  );
});

describe('order-system push: transport and secret', () => {
  const workerEnv = (extra: Record<string, string>) => ({
    QUEUE_URL: 'q',
    DLQ_URL: 'd',
    IDEMPOTENCY_TABLE: 'i',
    ORDERS_TABLE: 'o',
    ...extra,
  });

  it('refuses http:// to any host but loopback, for the order system and the ReCharge API', () => {
    expect(
      () =>
        new HttpOrderSystem({
          url: 'http://orders.example.com/api',
          timeoutMs: 1000,
          secret: async () => SECRET,
        }),
    ).toThrow(ConfigError);
    expect(() =>
      parseWorkerEnv(workerEnv({ ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: 'http://orders.example.com/api' })),
    ).toThrow(/ORDER_SYSTEM_URL: must be an https:\/\/ URL/);
    expect(() => parseWorkerEnv(workerEnv({ RECHARGE_API_URL: 'http://api.rechargeapps.com' }))).toThrow(
      /RECHARGE_API_URL: must be an https:\/\/ URL/,
    );
    for (const url of [
      'https://orders.example.com/api',
      'http://127.0.0.1:9/orders',
      'http://localhost:9/orders',
      'http://[::1]:9/orders',
    ])
      expect(
        parseWorkerEnv(workerEnv({ ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: url, RECHARGE_API_URL: url }))
          .ORDER_SYSTEM_URL,
      ).toBe(url);
  });

  it('refuses an ORDER_SYSTEM_SECRET under 32 characters, naming it and never its value', () => {
    const short = 'short-order-system-secret-31chr';
    expect(short).toHaveLength(31);
    const parse = () => parseSecrets({ ...TEST_SECRETS, ORDER_SYSTEM_SECRET: short });
    expect(parse).toThrow(/ORDER_SYSTEM_SECRET \(shorter than 32 characters\)/);
    expect(parse).not.toThrow(new RegExp(short));
    expect(
      parseSecrets({ ...TEST_SECRETS, ORDER_SYSTEM_SECRET: `${short}x` }).ORDER_SYSTEM_SECRET,
    ).toHaveLength(32);
  });
});

describe('order-system push: signature over id, timestamp, method, path and body', () => {
  const system = () =>
    new HttpOrderSystem({ url: orderSystem.url, timeoutMs: 5000, secret: async () => SECRET });

  /** Re-sends a recorded request byte for byte (a network neighbour with a capture). */
  async function resend(
    recorded: FakeOrderSystem['requests'][number],
    change: { method?: string; path?: string } = {},
  ) {
    const headers: Record<string, string> = {};
    for (const name of [
      'content-type',
      'idempotency-key',
      'x-order-webhooks-version',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ])
      headers[name] = String(recorded.headers[name]);
    const url = new URL(orderSystem.url);
    const res = await fetch(`${url.origin}${change.path ?? recorded.path}`, {
      method: change.method ?? recorded.method,
      headers,
      body: recorded.raw,
    });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  }

  it('signs each request in the Standard Webhooks style and the test order system verifies it', async () => {
    orderSystem.requests.length = 0;
    const ids = await system().createOrder(createInput('signed-1'));
    expect(ids.id).toMatch(/^ext-/);
    const post = orderSystem.requests[0];
    expect(post?.status).toBe(201);
    expect(post?.headers['webhook-id']).toMatch(/^msg_[0-9a-f-]{36}$/);
    expect(post?.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(post?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(post?.headers['x-order-webhooks-signature']).toBeUndefined();
  });

  it('refuses a captured request replayed as is, as another method, or to another path', async () => {
    orderSystem.requests.length = 0;
    await system().createOrder(createInput('signed-2'));
    const captured = orderSystem.requests[0] as FakeOrderSystem['requests'][number];
    expect(captured.status).toBe(201);
    expect(await resend(captured)).toEqual({ status: 401, body: { error: 'replayed webhook-id' } });
    expect(await resend(captured, { method: 'PATCH', path: '/orders/ext-1' })).toEqual({
      status: 401,
      body: { error: 'bad signature' },
    });
    expect(await resend(captured, { path: '/orders?x=1' })).toEqual({
      status: 401,
      body: { error: 'bad signature' },
    });
  });

  it('refuses a signature whose timestamp is outside the 5-minute tolerance', () => {
    const request = { method: 'POST', path: '/orders', body: '{"a":1}' };
    const headers = signOrderSystemRequest(SECRET, request, Date.now() - 301_000);
    expect(verifyOrderSystemRequest(SECRET, { ...request, headers })).toEqual({
      ok: false,
      reason: 'stale timestamp',
    });
    expect(
      verifyOrderSystemRequest(`${SECRET}x`, {
        ...request,
        headers: signOrderSystemRequest(SECRET, request),
      }),
    ).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it("docs/design.md's example receiver verifies a real request and refuses its replay", async () => {
    const design = readFileSync(join(__dirname, '../../docs/design.md'), 'utf8');
    const code = /<!-- example-receiver -->\s*```js\n([\s\S]*?)```/.exec(design)?.[1];
    expect(code).toBeDefined();
    const verify = new Function('require', `${code}\nreturn verifyOrderWebhooksRequest;`)(require) as (
      secret: string,
      method: string,
      path: string,
      headers: IncomingMessage['headers'],
      rawBody: string,
    ) => string | undefined;
    const receiver = await recordingServer((req, body) => {
      const problem = verify(SECRET, req.method ?? '', req.url ?? '', req.headers, body);
      return problem
        ? { status: 401, body: JSON.stringify({ error: problem }) }
        : { status: 201, body: '{"id":"ext-doc","number":"7"}' };
    });
    try {
      const docSystem = new HttpOrderSystem({
        url: `${receiver.url}/orders`,
        timeoutMs: 5000,
        secret: async () => SECRET,
      });
      await expect(docSystem.createOrder(createInput('doc-1'))).resolves.toMatchObject({
        id: 'ext-doc',
        number: '7',
      });
      const first = receiver.seen[0] as Seen;
      const again = await fetch(`${receiver.url}${first.url}`, {
        method: first.method,
        headers: Object.fromEntries(
          ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(first.headers[h])]),
        ),
        body: first.body,
      });
      expect(again.status).toBe(401);
      expect(await again.json()).toEqual({ error: 'replayed webhook-id' });
      const wrongKey = new HttpOrderSystem({
        url: `${receiver.url}/orders`,
        timeoutMs: 5000,
        secret: async () => `${SECRET}-other`,
      });
      await expect(wrongKey.createOrder(createInput('doc-2'))).rejects.toThrow(/401/);
    } finally {
      await closeServer(receiver.server);
    }
  });
});
