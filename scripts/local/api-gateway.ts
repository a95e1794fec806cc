import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

/** API Gateway's payload limit (REST and HTTP APIs alike); larger requests never reach the function. */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** API Gateway REST's integration timeout (HTTP API: 30 s). */
export const API_GATEWAY_TIMEOUT_MS = 29_000;
export const HTTP_API_TIMEOUT_MS = 30_000;

/** The stack's API types (context apiType): the HTTP API is the default. */
export type ApiType = 'http' | 'rest';

export type ProxyHandler = (
  event: APIGatewayProxyEvent | APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResult | APIGatewayProxyStructuredResultV2 | string | undefined>;

/**
 * What API Gateway answers by itself, per API type: an unknown route, a body over the limit, a
 * function that threw, a function that took too long.
 */
export const GATEWAY_ANSWERS: Record<
  ApiType,
  Record<'noRoute' | 'tooLarge' | 'failed' | 'timeout', [number, string]>
> = {
  rest: {
    noRoute: [403, 'Missing Authentication Token'],
    tooLarge: [413, 'Request Too Long'],
    failed: [502, 'Internal server error'],
    timeout: [504, 'Endpoint request timed out'],
  },
  http: {
    noRoute: [404, 'Not Found'],
    tooLarge: [413, 'Request Entity Too Large'],
    failed: [500, 'Internal Server Error'],
    timeout: [503, 'Service Unavailable'],
  },
};

export interface ApiGatewayOptions {
  /** Which API the stand-in plays: the event shape it hands the function and its own answers. Default http. */
  apiType?: ApiType;
  port?: number;
  host?: string;
  stage?: string;
  /** REST: content types API Gateway is configured to pass base64 encoded (binaryMediaTypes). */
  binaryMediaTypes?: readonly string[];
  maxPayloadBytes?: number;
  timeoutMs?: number;
  functionName?: string;
  /** Called after each request (for console lines and tests). */
  onResponse?: (info: { method: string; path: string; statusCode: number; ms: number }) => void;
}

export interface ApiGatewayServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops accepting requests and waits for the ones in progress. */
  close(): Promise<void>;
}

interface Route {
  resource: string;
  pathParameters: Record<string, string> | null;
}

/**
 * The routes of the stack's API (infra/constructs/webhook-api.ts: POST /webhooks/recharge,
 * /webhooks/recharge/{resource}/{event}, /webhooks/wix-cashier-pay/{token}, /webhooks/sevi), the same for
 * both API types. Anything else gets API Gateway's own answer for an unknown route (HTTP API 404
 * "Not Found", REST 403 "Missing Authentication Token"), without calling the function.
 */
export function matchRoute(method: string, path: string): Route | undefined {
  if (method !== 'POST') return undefined;
  const segments = path.split('/').filter((s) => s !== '');
  if (segments[0] !== 'webhooks' || segments.length < 2) return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const provider = segments[1];
  const rest = segments.slice(2);
  if (provider === 'recharge') {
    if (rest.length === 0) return { resource: '/webhooks/recharge', pathParameters: null };
    if (rest.length === 2)
      return {
        resource: '/webhooks/recharge/{resource}/{event}',
        pathParameters: { resource: decode(rest[0] ?? ''), event: decode(rest[1] ?? '') },
      };
  }
  if (provider === 'wix-cashier-pay' && rest.length === 1)
    return {
      resource: '/webhooks/wix-cashier-pay/{token}',
      pathParameters: { token: decode(rest[0] ?? '') },
    };
  if (provider === 'sevi' && rest.length === 0) return { resource: '/webhooks/sevi', pathParameters: null };
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isValidUtf8(bytes: Buffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function headerMaps(raw: string[]): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  // API Gateway keeps the names as sent; `headers` holds the last value of a repeated header.
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    headers[name] = value;
    const list = multiValueHeaders[name] ?? [];
    list.push(value);
    multiValueHeaders[name] = list;
  }
  return { headers, multiValueHeaders };
}

function queryMaps(search: URLSearchParams): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of search) {
    single[key] = value;
    const list = multi[key] ?? [];
    list.push(value);
    multi[key] = list;
  }
  return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

/** Builds the REST API (v1) proxy event API Gateway would hand the function for this request. */
export function toProxyEvent(
  req: IncomingMessage,
  body: Buffer,
  route: Route,
  options: { stage: string; binaryMediaTypes: readonly string[]; nowMs: number; requestId: string },
): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const { headers, multiValueHeaders } = headerMaps(req.rawHeaders);
  const { single, multi } = queryMaps(url.searchParams);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const binary = body.length > 0 && (options.binaryMediaTypes.includes(contentType) || !isValidUtf8(body));
  const method = req.method ?? 'GET';
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return {
    resource: route.resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: single,
    multiValueQueryStringParameters: multi,
    pathParameters: route.pathParameters,
    stageVariables: null,
    body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'local',
      extendedRequestId: options.requestId,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${options.stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: options.requestId,
      requestTime: new Date(options.nowMs).toUTCString(),
      requestTimeEpoch: options.nowMs,
      resourceId: 'local',
      resourcePath: route.resource,
      stage: options.stage,
    },
  };
}

/** Content types an HTTP API passes as text; it base64-encodes every other body. */
const TEXT_TYPE =
  /^(text\/.*|application\/(json|xml|javascript|x-www-form-urlencoded)|application\/[^;]*\+(json|xml))$/;

/** Builds the HTTP API (payload format 2.0) event API Gateway would hand the function for this request. */
export function toHttpApiEvent(
  req: IncomingMessage,
  body: Buffer,
  route: Route,
  options: { nowMs: number; requestId: string },
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // Lower-cased names; a repeated header's values joined with commas; cookies on their own.
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    const value = req.rawHeaders[i + 1] as string;
    if (name === 'cookie') cookies.push(...value.split(/;\s*/).filter(Boolean));
    else headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams)
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const binary = body.length > 0 && (!TEXT_TYPE.test(contentType) || !isValidUtf8(body));
  const method = req.method ?? 'GET';
  const routeKey = `${method} ${route.resource}`;
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(route.pathParameters ? { pathParameters: route.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: options.requestId,
      routeKey,
      stage: '$default',
      time: new Date(options.nowMs).toUTCString(),
      timeEpoch: options.nowMs,
    },
    ...(body.length > 0 ? { body: binary ? body.toString('base64') : body.toString('utf8') } : {}),
    isBase64Encoded: binary,
  };
}

/**
 * The function's answer as a structured result. Payload 2.0 also takes anything else: a value
 * without `statusCode` becomes a 200 JSON body. REST needs the structure (else API Gateway 502).
 */
function asProxyResult(
  returned: Awaited<ReturnType<ProxyHandler>>,
  apiType: ApiType,
): (APIGatewayProxyResult & { multiValueHeaders?: Record<string, unknown[]> }) | undefined {
  if (typeof returned === 'object' && returned !== null && typeof returned.statusCode === 'number')
    return returned as APIGatewayProxyResult;
  if (apiType === 'rest') return undefined;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof returned === 'string' ? returned : JSON.stringify(returned ?? null),
  };
}

/** A Lambda context for one synchronous invocation with the given time budget. */
export function makeContext(functionName: string, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const fail = () => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

function send(
  res: ServerResponse,
  statusCode: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(statusCode, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * An HTTP server that behaves like the stack's API Gateway (HTTP API by default, or REST) in front of
 * the ingest function: each request becomes that API's event, the function's result becomes the
 * response (status, headers, body, base64 decoded when flagged), with API Gateway's 10 MB limit and
 * its timeout (HTTP API 30 s, 503; REST 29 s, 504).
 */
export async function startApiGateway(
  handler: ProxyHandler,
  options: ApiGatewayOptions = {},
): Promise<ApiGatewayServer> {
  const apiType = options.apiType ?? 'http';
  const answers = GATEWAY_ANSWERS[apiType];
  const stage = options.stage ?? 'local';
  const binaryMediaTypes = options.binaryMediaTypes ?? ['application/octet-stream'];
  const maxPayload = options.maxPayloadBytes ?? API_GATEWAY_MAX_PAYLOAD_BYTES;
  const timeoutMs = options.timeoutMs ?? (apiType === 'http' ? HTTP_API_TIMEOUT_MS : API_GATEWAY_TIMEOUT_MS);
  const gatewayAnswer = (
    res: ServerResponse,
    [status, message]: [number, string],
    headers: Record<string, string>,
  ) => {
    send(res, status, JSON.stringify({ message }), headers);
    return status;
  };
  const functionName = options.functionName ?? 'ingest';

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const requestId = randomUUID();
    const done = (statusCode: number) =>
      options.onResponse?.({ method, path, statusCode, ms: Date.now() - started });
    const gatewayHeaders = { 'x-amzn-requestid': requestId };

    const route = matchRoute(method, path);
    if (!route) {
      req.resume();
      return done(gatewayAnswer(res, answers.noRoute, gatewayHeaders));
    }
    const body = await readBody(req, maxPayload);
    if (body === 'too-large') {
      const status = gatewayAnswer(res, answers.tooLarge, { ...gatewayHeaders, connection: 'close' });
      req.destroy();
      return done(status);
    }
    const event =
      apiType === 'http'
        ? toHttpApiEvent(req, body, route, { nowMs: started, requestId })
        : toProxyEvent(req, body, route, { stage, binaryMediaTypes, nowMs: started, requestId });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let returned: Awaited<ReturnType<ProxyHandler>> | 'timeout';
    try {
      returned = await Promise.race([
        handler(event, makeContext(functionName, requestId, timeoutMs)),
        timeout,
      ]);
    } catch {
      // An unhandled function error: API Gateway answers (REST 502, HTTP API 500) and shows nothing of it.
      return done(gatewayAnswer(res, answers.failed, gatewayHeaders));
    } finally {
      clearTimeout(timer);
    }
    if (returned === 'timeout') return done(gatewayAnswer(res, answers.timeout, gatewayHeaders));
    const result = asProxyResult(returned, apiType);
    if (!result) return done(gatewayAnswer(res, answers.failed, gatewayHeaders));
    const headers: Record<string, string | string[]> = { ...gatewayHeaders };
    for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
      headers[name] = values.map(String);
    const payload = result.body
      ? result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : Buffer.from(result.body, 'utf8')
      : Buffer.alloc(0);
    if (!res.headersSent) {
      res.writeHead(result.statusCode, headers);
      res.end(payload);
    }
    done(result.statusCode);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch(() => send(res, 500, JSON.stringify({ message: 'Internal server error' })));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
