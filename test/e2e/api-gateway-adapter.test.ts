import { request } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { type ApiGatewayServer, startApiGateway } from '../../scripts/local/api-gateway';

/** With apiType rest, the local API Gateway must hand the ingest exactly the event shape API Gateway REST would. */
describe('local API Gateway adapter: REST API (payload 1.0)', () => {
  let server: ApiGatewayServer;
  const events: APIGatewayProxyEvent[] = [];
  let reply: APIGatewayProxyResult = { statusCode: 200, body: '{"ok":true}' };

  beforeAll(async () => {
    server = await startApiGateway(
      async (event) => {
        events.push(event as APIGatewayProxyEvent);
        return reply;
      },
      { apiType: 'rest', maxPayloadBytes: 64 * 1024 },
    );
  });
  afterAll(() => server.close());
  beforeEach(() => {
    events.length = 0;
    reply = { statusCode: 200, body: '{"ok":true}' };
  });

  it('passes a UTF-8 body as text with headers, multi-value headers, route and request context', async () => {
    // node:http, because fetch folds a repeated header into one line.
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${server.url}/webhooks/recharge/order/created?x=1&x=2`, {
        method: 'POST',
        headers: {
          'X-Recharge-Topic': 'order/created',
          'X-Multi': ['a', 'b'],
          'content-type': 'application/json',
        },
      });
      req.on('response', (r) => {
        let text = '';
        r.on('data', (c) => {
          text += c;
        });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end('{"order":{"id":1,"name":"café"}}');
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"ok":true}');
    const event = events[0] as APIGatewayProxyEvent;
    expect(event.httpMethod).toBe('POST');
    expect(event.path).toBe('/webhooks/recharge/order/created');
    expect(event.resource).toBe('/webhooks/recharge/{resource}/{event}');
    expect(event.pathParameters).toEqual({ resource: 'order', event: 'created' });
    expect(event.body).toBe('{"order":{"id":1,"name":"café"}}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers['X-Recharge-Topic']).toBe('order/created');
    expect(event.multiValueHeaders['X-Multi']).toEqual(['a', 'b']);
    expect(event.queryStringParameters).toEqual({ x: '2' });
    expect(event.multiValueQueryStringParameters).toEqual({ x: ['1', '2'] });
    expect(event.requestContext.identity.sourceIp).toBe('127.0.0.1');
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof event.requestContext.requestTimeEpoch).toBe('number');
    expect(event.requestContext.stage).toBe('local');
  });

  it('base64-encodes a body that is not valid UTF-8 and flags it, like API Gateway', async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    await fetch(`${server.url}/webhooks/sevi`, { method: 'POST', body: bytes });
    const event = events[0] as APIGatewayProxyEvent;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
    expect(event.resource).toBe('/webhooks/sevi');
  });

  it('maps the Wix token route and decodes the path parameter', async () => {
    await fetch(`${server.url}/webhooks/wix-cashier-pay/a%2Fb`, { method: 'POST', body: '{}' });
    expect(events[0]?.pathParameters).toEqual({ token: 'a/b' });
    expect(events[0]?.resource).toBe('/webhooks/wix-cashier-pay/{token}');
  });

  it('answers 403 Missing Authentication Token for a route the API does not have, without calling the function', async () => {
    const res = await fetch(`${server.url}/webhooks/unknown`, { method: 'POST', body: '{}' });
    const get = await fetch(`${server.url}/webhooks/sevi`);
    expect(res.status).toBe(403);
    expect(get.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
    expect(events).toHaveLength(0);
  });

  it('answers 413 for a payload over the limit without calling the function', async () => {
    const res = await fetch(`${server.url}/webhooks/sevi`, {
      method: 'POST',
      body: 'x'.repeat(64 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(events).toHaveLength(0);
  });

  it('returns the function status, headers and body exactly, decoding a base64 result', async () => {
    reply = {
      statusCode: 401,
      headers: { 'content-type': 'application/json', 'x-one': '1' },
      multiValueHeaders: { 'set-thing': ['a', 'b'] },
      body: Buffer.from('{"error":"bad signature"}').toString('base64'),
      isBase64Encoded: true,
    };
    const res = await fetch(`${server.url}/webhooks/sevi`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-one')).toBe('1');
    expect(res.headers.get('set-thing')).toBe('a, b');
    expect(await res.text()).toBe('{"error":"bad signature"}');
  });

  it('answers 502 without details when the function throws', async () => {
    const failing = await startApiGateway(
      async () => {
        throw new Error('secret detail');
      },
      { apiType: 'rest' },
    );
    try {
      const res = await fetch(`${failing.url}/webhooks/sevi`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(502);
      expect(await res.text()).not.toContain('secret detail');
    } finally {
      await failing.close();
    }
  });
});

/** By default (the stack's default API type) the stand-in plays the HTTP API: payload 2.0 and its own answers. */
describe('local API Gateway adapter: HTTP API (payload 2.0, the default)', () => {
  let server: ApiGatewayServer;
  const events: APIGatewayProxyEventV2[] = [];
  let reply: APIGatewayProxyResult = { statusCode: 200, body: '{"ok":true}' };
  beforeAll(async () => {
    server = await startApiGateway(
      async (event) => {
        events.push(event as APIGatewayProxyEventV2);
        return reply;
      },
      { maxPayloadBytes: 64 * 1024 },
    );
  });
  afterAll(() => server.close());
  beforeEach(() => {
    events.length = 0;
    reply = { statusCode: 200, body: '{"ok":true}' };
  });

  it("passes the function's own 503 through unchanged, so the provider retries", async () => {
    reply = {
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '5' },
      body: '{"error":"queue unavailable"}',
    };
    const res = await fetch(`${server.url}/webhooks/sevi`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({ error: 'queue unavailable' });
  });

  it('passes lower-cased headers (a repeated one comma-joined), rawPath, routeKey and path parameters', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/webhooks/recharge/order/created?x=1&x=2`, {
        method: 'POST',
        headers: {
          'X-Recharge-Topic': 'order/created',
          'X-Multi': ['a', 'b'],
          'content-type': 'application/json',
        },
      });
      req.on('response', (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end('{"order":{"id":1,"name":"café"}}');
    });
    expect(res).toBe(200);
    const event = events[0] as APIGatewayProxyEventV2;
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /webhooks/recharge/{resource}/{event}');
    expect(event.rawPath).toBe('/webhooks/recharge/order/created');
    expect(event.rawQueryString).toBe('x=1&x=2');
    expect(event.queryStringParameters).toEqual({ x: '1,2' });
    expect(event.pathParameters).toEqual({ resource: 'order', event: 'created' });
    expect(event.headers['x-recharge-topic']).toBe('order/created');
    expect(event.headers['X-Recharge-Topic']).toBeUndefined();
    expect(event.headers['x-multi']).toBe('a,b');
    expect(event.body).toBe('{"order":{"id":1,"name":"café"}}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      http: { method: 'POST', path: '/webhooks/recharge/order/created', sourceIp: '127.0.0.1' },
      stage: '$default',
      routeKey: 'POST /webhooks/recharge/{resource}/{event}',
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('base64-encodes a body of a non-text content type, or one that is not UTF-8', async () => {
    await fetch(`${server.url}/webhooks/sevi`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/octet-stream' },
    });
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    await fetch(`${server.url}/webhooks/sevi`, {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/json' },
    });
    expect(events.map((e) => e.isBase64Encoded)).toEqual([true, true]);
    expect(Buffer.from(events[0]?.body ?? '', 'base64').toString()).toBe('{"a":1}');
    expect(Buffer.from(events[1]?.body ?? '', 'base64')).toEqual(bytes);
  });

  it('answers 404 Not Found for a route the API does not have, without calling the function', async () => {
    const res = await fetch(`${server.url}/webhooks/unknown`, { method: 'POST', body: '{}' });
    const get = await fetch(`${server.url}/webhooks/sevi`);
    expect([res.status, get.status]).toEqual([404, 404]);
    expect(await res.json()).toEqual({ message: 'Not Found' });
    expect(events).toHaveLength(0);
  });

  it('answers 413 for a payload over the limit without calling the function', async () => {
    const res = await fetch(`${server.url}/webhooks/sevi`, {
      method: 'POST',
      body: 'x'.repeat(64 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(events).toHaveLength(0);
  });

  it('answers 500 without details when the function throws, 503 when it outlasts the timeout', async () => {
    const failing = await startApiGateway(async () => {
      throw new Error('secret detail');
    });
    const hanging = await startApiGateway(() => new Promise(() => {}), { timeoutMs: 200 });
    try {
      const res = await fetch(`${failing.url}/webhooks/sevi`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('secret detail');
      const slow = await fetch(`${hanging.url}/webhooks/sevi`, { method: 'POST', body: '{}' });
      expect(slow.status).toBe(503);
      expect(await slow.json()).toEqual({ message: 'Service Unavailable' });
    } finally {
      await failing.close();
      await hanging.close();
    }
  });
});
