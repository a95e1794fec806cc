import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeHandler } from '../../../functions/ingest/handler';
import { type ProxyEventLike, toIngestRequest } from '../../../shared/ingest/api-gateway';
import type { QueuedWebhook } from '../../../shared/queue/message';
import { fakeDeps, proxyEvent, rechargeSignatureHeader } from '../../support/signing';

/*
 * The stack's default API is an HTTP API (payload format 2.0); apiType rest sends payload 1.0. The
 * ingest must take both: same verification, same queued webhook, same answers.
 */

const SECRET = 'recharge-secret-new';
const NOW_MS = 1_750_000_000_000;
const NOW_S = NOW_MS / 1000;
const orderBody = JSON.stringify({ order: { id: 42, status: 'SUCCESS' } });

/** An HTTP API payload 2.0 event as API Gateway builds it: header names lower-cased, rawPath, routeKey. */
function httpApiEvent(options: {
  rawPath: string;
  routeKey?: string;
  pathParameters?: Record<string, string>;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const body =
    options.body === undefined
      ? undefined
      : options.base64
        ? Buffer.from(options.body).toString('base64')
        : Buffer.from(options.body).toString('utf8');
  return {
    version: '2.0',
    routeKey: options.routeKey ?? `${method} ${options.rawPath}`,
    rawPath: options.rawPath,
    rawQueryString: '',
    headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method,
        path: options.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'ReCharge',
      },
      requestId: 'Kx1mRgWNoAMEV9w=',
      routeKey: options.routeKey ?? `${method} ${options.rawPath}`,
      stage: '$default',
      time: '06/Dec/2026:20:00:00 +0000',
      timeEpoch: NOW_MS,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: options.base64 ?? false,
  };
}

async function call(event: ProxyEventLike) {
  const deps = fakeDeps({ nowMs: NOW_MS });
  const response = await makeHandler(deps)(event);
  return { response, deps, payload: JSON.parse(response.body) as Record<string, unknown> };
}

const signature = (body: string | Buffer) => ({
  'X-Recharge-Webhook-Signature': rechargeSignatureHeader(SECRET, NOW_S, body),
});

describe('ingest adapter: HTTP API (payload 2.0) and REST (payload 1.0) events', () => {
  it('queues the same webhook, with the same delivery key, from either format', async () => {
    const path = '/webhooks/recharge/order/created';
    const rest = await call(proxyEvent({ path, body: orderBody, headers: signature(orderBody) }));
    const http = await call(
      httpApiEvent({
        rawPath: path,
        routeKey: 'POST /webhooks/recharge/{resource}/{event}',
        pathParameters: { resource: 'order', event: 'created' },
        body: orderBody,
        headers: signature(orderBody),
      }),
    );
    expect(http.response.statusCode).toBe(200);
    expect(http.deps.queued).toHaveLength(1);
    // The REST fixture carries no request id; the HTTP API's is kept with the webhook.
    expect(http.deps.queued[0] as QueuedWebhook).toEqual({
      ...rest.deps.queued[0],
      requestId: 'Kx1mRgWNoAMEV9w=',
    });
    expect(http.payload).toEqual(rest.payload);
  });

  it('decodes a base64 body (API Gateway encodes non-text content types) and verifies the exact bytes', async () => {
    const body = Buffer.from(orderBody);
    const { response, deps } = await call(
      httpApiEvent({
        rawPath: '/webhooks/recharge/order/created',
        body,
        base64: true,
        headers: { ...signature(body), 'content-type': 'application/octet-stream' },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(deps.queued[0]?.body).toBe(orderBody);
  });

  it('finds headers whatever their case, as API Gateway passes them lower-cased and a hand-built event may not', async () => {
    const event = httpApiEvent({ rawPath: '/webhooks/recharge', body: orderBody });
    event.headers = { ...signature(orderBody), 'X-Recharge-Topic': 'order/processed' };
    const { response, deps } = await call(event);
    expect(response.statusCode).toBe(200);
    expect(deps.queued[0]?.topic).toBe('order/processed');
  });

  it('routes the Wix token route from rawPath, decoding the token as the path parameter would be', async () => {
    const request = toIngestRequest(
      httpApiEvent({
        rawPath: '/webhooks/wix-cashier-pay/a%2Fb',
        routeKey: 'POST /webhooks/wix-cashier-pay/{token}',
        pathParameters: { token: 'a/b' },
        body: '{}',
      }),
    );
    expect(request).toMatchObject({ method: 'POST', path: '/webhooks/wix-cashier-pay/a%2Fb' });
    const { response, deps } = await call(
      httpApiEvent({ rawPath: '/webhooks/wix-cashier-pay/not-a-token', body: '{}' }),
    );
    expect(response.statusCode).toBe(401);
    expect(deps.queued).toHaveLength(0);
  });

  it('keeps the request id and takes the method from requestContext.http (405 for GET on a route)', async () => {
    expect(toIngestRequest(httpApiEvent({ rawPath: '/webhooks/sevi', body: '{}' })).requestId).toBe(
      'Kx1mRgWNoAMEV9w=',
    );
    const { response } = await call(httpApiEvent({ rawPath: '/webhooks/sevi', method: 'GET' }));
    expect(response.statusCode).toBe(405);
  });

  it('passes a repeated header as API Gateway joined it (comma-separated), which no signature matches', async () => {
    const joined = `${signature(orderBody)['X-Recharge-Webhook-Signature']},t=1,v1=${'a'.repeat(64)}`;
    const event = httpApiEvent({ rawPath: '/webhooks/recharge/order/created', body: orderBody });
    event.headers = { 'x-recharge-webhook-signature': joined };
    expect(toIngestRequest(event).headers['x-recharge-webhook-signature']).toBe(joined);
  });

  it.each([
    ['no body', {}],
    ['a body that is not a string', { body: 5 }],
    ['no headers', { headers: undefined }],
    ['no requestContext', { requestContext: undefined }],
  ])('answers 401 (no credentials), without throwing, for an event with %s', async (_name, shape) => {
    const event = { ...httpApiEvent({ rawPath: '/webhooks/sevi' }), ...shape } as unknown as ProxyEventLike;
    const { response, deps } = await call(event);
    expect(response.statusCode).toBe(401);
    expect(deps.queued).toHaveLength(0);
  });

  it('answers 404 for a path that is no webhook route', async () => {
    const { response } = await call(httpApiEvent({ rawPath: '/webhooks/shopify', body: '{}' }));
    expect(response.statusCode).toBe(404);
  });
});
