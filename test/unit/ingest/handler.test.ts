import { defaultDeps, makeHandler } from '../../../functions/ingest/handler';
import { ConfigError } from '../../../shared/errors';
import { METRIC } from '../../../shared/metrics';
import { DEAD_LETTER_HEADROOM_BYTES, type QueuedWebhook } from '../../../shared/queue/message';
import { fakeDeps, proxyEvent, rechargeSignatureHeader, testSecrets } from '../../support/signing';

const SECRET = 'recharge-secret-new';
const NOW_MS = 1_750_000_000_000;
const NOW_S = NOW_MS / 1000;
const orderBody = JSON.stringify({ order: { id: 42, status: 'SUCCESS' } });

function signed(body: string | Buffer, extra: Record<string, string> = {}) {
  return { 'X-Recharge-Webhook-Signature': rechargeSignatureHeader(SECRET, NOW_S, body), ...extra };
}

function recharge(
  path: string,
  body: string | Buffer = orderBody,
  headers: Record<string, string> = signed(body),
) {
  return proxyEvent({ path, body, headers });
}

async function call(event: ReturnType<typeof proxyEvent>, deps = fakeDeps({ nowMs: NOW_MS })) {
  const response = await makeHandler(deps)(event);
  return { response, deps, payload: JSON.parse(response.body) as Record<string, unknown> };
}

describe('ingest handler: accepted requests', () => {
  it('queues a ReCharge order with the topic from the path and answers 200 with the delivery key', async () => {
    const { response, deps, payload } = await call(recharge('/webhooks/recharge/order/created'));
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(deps.queued).toHaveLength(1);
    const queued = deps.queued[0] as QueuedWebhook;
    expect(queued).toEqual({
      provider: 'recharge',
      topic: 'order/created',
      deliveryKey: expect.stringMatching(/^recharge:[0-9a-f]{64}$/),
      receivedAt: new Date(NOW_MS).toISOString(),
      verification: 'recharge-hmac-sha256-v1',
      body: orderBody,
    });
    expect(payload).toEqual({ status: 'queued', deliveryKey: queued.deliveryKey });
  });

  it('takes the topic from X-Recharge-Topic on the bare route, and accepts an agreeing pair', async () => {
    const bare = await call(
      recharge('/webhooks/recharge', orderBody, signed(orderBody, { 'X-Recharge-Topic': 'order/processed' })),
    );
    expect(bare.deps.queued[0]?.topic).toBe('order/processed');
    const both = await call(
      recharge(
        '/webhooks/recharge/order/updated',
        orderBody,
        signed(orderBody, { 'x-recharge-topic': 'order/updated' }),
      ),
    );
    expect(both.response.statusCode).toBe(200);
  });

  it('routes paths with a stage prefix and a trailing slash', async () => {
    const { response, deps } = await call(recharge('/prod/webhooks/recharge/order/created/'));
    expect(response.statusCode).toBe(200);
    expect(deps.queued[0]?.topic).toBe('order/created');
  });

  it('gives a redelivery of the same body the same delivery key', async () => {
    const first = await call(recharge('/webhooks/recharge/order/created'));
    const second = await call(recharge('/webhooks/recharge/order/created'));
    expect(second.payload.deliveryKey).toBe(first.payload.deliveryKey);
  });

  it('gives one signed body the same delivery key whatever topic header or route comes with it', async () => {
    // The topic rides outside the signature: a captured body re-sent under another topic is the same delivery.
    const keys = new Set<unknown>();
    for (const topic of ['order/created', 'order/processed', 'order/updated']) {
      const bare = await call(
        recharge('/webhooks/recharge', orderBody, signed(orderBody, { 'X-Recharge-Topic': topic })),
      );
      const routed = await call(recharge(`/webhooks/recharge/${topic}`));
      expect([bare.response.statusCode, routed.response.statusCode]).toEqual([200, 200]);
      keys.add(bare.payload.deliveryKey);
      keys.add(routed.payload.deliveryKey);
    }
    expect(keys.size).toBe(1);
  });

  it('acknowledges an authentic ReCharge topic it does not handle with 200 ignored, without queueing', async () => {
    const body = JSON.stringify({ subscription: { id: 1 } });
    const { response, deps, payload } = await call(recharge('/webhooks/recharge/subscription/created', body));
    expect(response.statusCode).toBe(200);
    expect(payload).toEqual({ status: 'ignored' });
    expect(deps.queued).toHaveLength(0);
  });

  it('acknowledges an unknown Wix event type with 200 ignored', async () => {
    const body = JSON.stringify({ type: 'SOMETHING_NEW', somethingNewEvent: {} });
    const { payload, deps } = await call(
      proxyEvent({ path: '/webhooks/wix-cashier-pay/wix-hook-token-new', body }),
    );
    expect(payload).toEqual({ status: 'ignored' });
    expect(deps.queued).toHaveLength(0);
  });
});

describe('ingest handler: rejected requests', () => {
  it('answers 400 for malformed JSON', async () => {
    const { response, payload } = await call(recharge('/webhooks/recharge/order/created', '{"order":'));
    expect(response.statusCode).toBe(400);
    expect(payload).toEqual({ error: 'malformed json' });
  });

  it('answers 400 with zod issue paths for a bad envelope', async () => {
    const body = JSON.stringify({ order: { status: 'SUCCESS' } });
    const { response, payload, deps } = await call(recharge('/webhooks/recharge/order/created', body));
    expect(response.statusCode).toBe(400);
    expect(payload.error).toBe('invalid envelope');
    expect(payload.issues).toEqual([expect.objectContaining({ path: 'order.id' })]);
    expect(deps.queued).toHaveLength(0);
  });

  it('answers 400 with a readable message per issue, saying what was expected', async () => {
    const body = JSON.stringify({ order: 'not an object' });
    const { response, payload } = await call(recharge('/webhooks/recharge/order/created', body));
    expect(response.statusCode).toBe(400);
    expect(payload.issues).toEqual([
      { path: 'order', message: 'Invalid input: expected object, received string' },
    ]);
  });

  it('answers 400 when the path topic and X-Recharge-Topic disagree, or no topic is given', async () => {
    const mismatch = await call(
      recharge(
        '/webhooks/recharge/order/created',
        orderBody,
        signed(orderBody, { 'X-Recharge-Topic': 'order/updated' }),
      ),
    );
    expect(mismatch.response.statusCode).toBe(400);
    expect(mismatch.payload.error).toMatch(/topic mismatch/);
    const missing = await call(recharge('/webhooks/recharge'));
    expect(missing.response.statusCode).toBe(400);
    expect(missing.payload).toEqual({ error: 'missing topic' });
  });

  it('answers 400 for a body that is not UTF-8, even when correctly signed', async () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const { response, payload } = await call(
      proxyEvent({ path: '/webhooks/recharge/order/created', body, base64: true, headers: signed(body) }),
    );
    expect(response.statusCode).toBe(400);
    expect(payload).toEqual({ error: 'body is not valid utf-8' });
  });

  it('answers 400 for characters SQS cannot carry (U+FFFF inside a JSON string)', async () => {
    const body = JSON.stringify({ order: { id: 1, note: '\uffff' } });
    const { response } = await call(recharge('/webhooks/recharge/order/created', body));
    expect(response.statusCode).toBe(400);
  });

  it.each<[string, Record<string, string>]>([
    ['missing signature header', {}],
    ['bad signature', { 'X-Recharge-Webhook-Signature': `t=${NOW_S},v1=${'a'.repeat(64)}` }],
    [
      'stale timestamp',
      { 'X-Recharge-Webhook-Signature': rechargeSignatureHeader(SECRET, NOW_S - 172_801, orderBody) },
    ],
    ['malformed signature header', { 'X-Recharge-Webhook-Signature': 'garbage' }],
  ])('answers 401 %s', async (reason, headers) => {
    const { response, payload, deps } = await call(
      recharge('/webhooks/recharge/order/created', orderBody, headers),
    );
    expect(response.statusCode).toBe(401);
    expect(payload).toEqual({ error: reason });
    expect(deps.queued).toHaveLength(0);
  });

  it('authenticates before parsing: a malformed body with a bad signature is 401, not 400', async () => {
    const { response } = await call(recharge('/webhooks/recharge/order/created', '{', {}));
    expect(response.statusCode).toBe(401);
  });

  it.each([
    '/webhooks/unknown',
    '/webhooks',
    '/',
    '/webhooks/sevi/extra',
    '/webhooks/wix-cashier-pay',
    '/webhooks/recharge/order',
    '/webhooks/recharge/%E0%A4%A',
  ])('answers 404 for %s', async (path) => {
    const { response, payload } = await call(proxyEvent({ path, body: '{}' }));
    expect(response.statusCode).toBe(404);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(payload).toEqual({ error: 'not found' });
  });

  it.each([
    ['/webhooks/sevi', 'a null header value', { headers: { Authorization: null }, multiValueHeaders: null }],
    [
      '/webhooks/sevi',
      'a null multi-value entry',
      { headers: null, multiValueHeaders: { Authorization: null } },
    ],
    [
      '/webhooks/recharge/order/created',
      'a non-string header value',
      { headers: { 'X-Recharge-Webhook-Signature': 5 }, multiValueHeaders: null },
    ],
  ])('%s: answers 401, without throwing, for an event with %s', async (path, _name, shape) => {
    const event = { ...proxyEvent({ path, body: '{"order":{"id":"1"}}' }), ...shape };
    const { response, deps } = await call(event as unknown as ReturnType<typeof proxyEvent>);
    expect(response.statusCode).toBe(401);
    expect(deps.queued).toHaveLength(0);
  });

  it('answers 401, without throwing, for an event whose body is not a string', async () => {
    const event = {
      ...proxyEvent({ path: '/webhooks/sevi', headers: { Authorization: 'Bearer x' } }),
      body: 5,
    };
    const { response, deps } = await call(event as unknown as ReturnType<typeof proxyEvent>);
    expect(response.statusCode).toBe(401);
    expect(deps.queued).toHaveLength(0);
  });

  it('answers 405 with an Allow header for a wrong method on a known route', async () => {
    const { response } = await call(proxyEvent({ path: '/webhooks/sevi', method: 'GET' }));
    expect(response.statusCode).toBe(405);
    expect(response.headers).toMatchObject({ allow: 'POST', 'content-type': 'application/json' });
  });

  it('answers 413 for a body over the limit, before checking its signature', async () => {
    const deps = fakeDeps({ nowMs: NOW_MS, maxMessageBytes: 2048 });
    const body = JSON.stringify({ order: { id: 1, pad: 'x'.repeat(3000) } });
    const { response } = await call(recharge('/webhooks/recharge/order/created', body, {}), deps);
    expect(response.statusCode).toBe(413);
  });

  it('answers 413 on a declared Content-Length over the limit', async () => {
    const deps = fakeDeps({ nowMs: NOW_MS, maxMessageBytes: 2048 });
    const { response } = await call(
      recharge(
        '/webhooks/recharge/order/created',
        orderBody,
        signed(orderBody, { 'Content-Length': '999999' }),
      ),
      deps,
    );
    expect(response.statusCode).toBe(413);
  });

  it('answers 413 when body plus message attributes exceed the limit', async () => {
    const max = 2048;
    const deps = fakeDeps({ nowMs: NOW_MS, maxMessageBytes: max });
    const prefix = '{"order":{"id":1,"pad":"';
    const body = `${prefix}${'x'.repeat(max - prefix.length - 4)}"}}`;
    expect(Buffer.byteLength(body)).toBe(max - 1);
    const { response } = await call(recharge('/webhooks/recharge/order/created', body), deps);
    expect(response.statusCode).toBe(413);
    expect(deps.queued).toHaveLength(0);
  });
});

describe('ingest handler: room for the dead-letter copy', () => {
  it('answers 413 when the message would leave no room for the dead-letter failure attributes', async () => {
    const max = 8192;
    const deps = fakeDeps({ nowMs: NOW_MS, maxMessageBytes: max });
    // Fits the limit with its attributes, but not with the dead-letter headroom on top.
    const body = JSON.stringify({ order: { id: 1, pad: 'x'.repeat(max - DEAD_LETTER_HEADROOM_BYTES) } });
    expect(Buffer.byteLength(body) + 400).toBeLessThan(max);
    const { response } = await call(recharge('/webhooks/recharge/order/created', body), deps);
    expect(response.statusCode).toBe(413);
    expect(deps.queued).toHaveLength(0);
  });
});

describe('ingest handler: unavailable dependencies', () => {
  it('answers 503 and logs an error when SendMessage fails', async () => {
    const deps = fakeDeps({
      nowMs: NOW_MS,
      send: async () => Promise.reject(new Error('connect ECONNREFUSED')),
    });
    const { response, payload } = await call(recharge('/webhooks/recharge/order/created'), deps);
    expect(response.statusCode).toBe(503);
    expect(payload).toEqual({ error: 'queue unavailable' });
    expect(deps.log.lines).toEqual([expect.objectContaining({ level: 'error' })]);
  });

  it('answers 503 within the send budget when SendMessage never settles, aborting it', async () => {
    let aborted = false;
    const deps = fakeDeps({
      nowMs: NOW_MS,
      queueSendTimeoutMs: 50,
      send: (_webhook, signal) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
    });
    const { response } = await call(recharge('/webhooks/recharge/order/created'), deps);
    expect(response.statusCode).toBe(503);
    expect(aborted).toBe(true);
  });

  it('answers 503 (never accepts unauthenticated) when a provider has no credentials configured', async () => {
    const deps = fakeDeps({ nowMs: NOW_MS, secrets: testSecrets({ RECHARGE_WEBHOOK_SECRETS: '' }) });
    const { response, payload } = await call(recharge('/webhooks/recharge/order/created'), deps);
    expect(response.statusCode).toBe(503);
    expect(payload).toEqual({ error: 'provider not configured' });
    expect(deps.queued).toHaveLength(0);
  });

  it('answers 503 when the credentials cannot be read', async () => {
    const deps = {
      ...fakeDeps({ nowMs: NOW_MS }),
      getSecrets: () => Promise.reject(new Error('AccessDenied')),
    };
    const { response } = await call(recharge('/webhooks/recharge/order/created'), deps);
    expect(response.statusCode).toBe(503);
  });
});

describe('ingest handler: logs, metrics, wiring', () => {
  it('logs one line per request with provider, topic, outcome, key and latency, never the body or a secret', async () => {
    const body = JSON.stringify({ order: { id: 7, email: 'private@example.com' } });
    const { deps, payload } = await call(recharge('/webhooks/recharge/order/created', body));
    expect(deps.log.lines).toHaveLength(1);
    const line = deps.log.lines[0];
    // What finds the delivery and how it ended, nothing more (CloudWatch bills every byte).
    expect(line).toEqual({
      level: 'info',
      message: 'webhook',
      extra: {
        provider: 'recharge',
        verification: expect.any(String),
        topic: 'order/created',
        deliveryKey: payload.deliveryKey,
        outcome: 'queued',
        latencyMs: expect.any(Number),
      },
    });
    const text = JSON.stringify(line);
    expect(text).not.toContain('private@example.com');
    expect(text).not.toContain(SECRET);
  });

  it('logs a refusal with its status, reason, size and the request id that joins the access log', async () => {
    const event = proxyEvent({
      path: '/webhooks/recharge/order/created',
      body: '{"order":{"id":7}}',
      headers: { 'X-Recharge-Webhook-Signature': 'forged' },
    });
    event.requestContext = { ...event.requestContext, requestId: 'req-refused-1' };

    const { deps } = await call(event);

    expect(deps.log.lines).toEqual([
      {
        level: 'info',
        message: 'webhook',
        extra: expect.objectContaining({
          provider: 'recharge',
          outcome: 'rejected',
          statusCode: 401,
          reason: expect.any(String),
          method: 'POST',
          bytes: 18,
          requestId: 'req-refused-1',
        }),
      },
    ]);
    expect(JSON.stringify(deps.log.lines)).not.toContain('forged');
  });

  it('does not log the Wix path token', async () => {
    const { deps } = await call(
      proxyEvent({ path: '/webhooks/wix-cashier-pay/wix-hook-token-new', body: '{}' }),
    );
    expect(JSON.stringify(deps.log.lines)).not.toContain('wix-hook-token-new');
  });

  it('counts received plus the outcome and flushes once per request', async () => {
    const counted: string[] = [];
    let flushes = 0;
    const deps = {
      ...fakeDeps({ nowMs: NOW_MS }),
      metrics: { count: (name: string) => counted.push(name), flush: () => flushes++ },
    };
    await makeHandler(deps)(recharge('/webhooks/recharge/order/created'));
    await makeHandler(deps)(proxyEvent({ path: '/nope', body: '' }));
    expect(counted).toEqual([METRIC.received, METRIC.queued, METRIC.received, METRIC.rejected]);
    expect(flushes).toBe(2);
  });

  it('builds dependencies from a factory once, on the first request', async () => {
    let builds = 0;
    const handler = makeHandler(() => {
      builds++;
      return fakeDeps({ nowMs: NOW_MS });
    });
    expect(builds).toBe(0);
    await handler(recharge('/webhooks/recharge/order/created'));
    await handler(recharge('/webhooks/recharge/order/created'));
    expect(builds).toBe(1);
  });

  it('fails at start with a ConfigError naming a missing or malformed variable', () => {
    expect(() => defaultDeps({})).toThrow(ConfigError);
    expect(() => defaultDeps({})).toThrow(/QUEUE_URL/);
    expect(() => defaultDeps({ QUEUE_URL: 'http://q', MAX_MESSAGE_BYTES: 'lots' })).toThrow(
      /MAX_MESSAGE_BYTES/,
    );
  });
});
