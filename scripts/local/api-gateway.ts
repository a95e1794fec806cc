import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/** API Gateway REST's payload limit; larger requests never reach the function. */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** API Gateway REST's integration timeout. */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiGatewayOptions {
  port?: number;
  host?: string;
  stage?: string;
  /** Content types API Gateway is configured to pass base64 encoded (binaryMediaTypes). */
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
 * The routes of the stack's REST API (infra: POST /webhooks/recharge, /webhooks/recharge/{resource}/{event},
 * /webhooks/wix-cashier-pay/{token}, /webhooks/sevi). Anything else gets API Gateway's own answer for an unknown
 * route (403 "Missing Authentication Token"), without calling the function.
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
 * An HTTP server that behaves like the stack's API Gateway REST API in front of the ingest
 * function: each request becomes a proxy event, the function's result becomes the response
 * (status, headers, body, base64 decoded when flagged), with API Gateway's 10 MB limit (413) and
 * 29 s timeout (504).
 */
export async function startApiGateway(
  handler: ProxyHandler,
  options: ApiGatewayOptions = {},
): Promise<ApiGatewayServer> {
  const stage = options.stage ?? 'local';
  const binaryMediaTypes = options.binaryMediaTypes ?? ['application/octet-stream'];
  const maxPayload = options.maxPayloadBytes ?? API_GATEWAY_MAX_PAYLOAD_BYTES;
  const timeoutMs = options.timeoutMs ?? API_GATEWAY_TIMEOUT_MS;
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
      send(res, 403, JSON.stringify({ message: 'Missing Authentication Token' }), gatewayHeaders);
      return done(403);
    }
    const body = await readBody(req, maxPayload);
    if (body === 'too-large') {
      send(res, 413, JSON.stringify({ message: 'Request Too Long' }), {
        ...gatewayHeaders,
        connection: 'close',
      });
      req.destroy();
      return done(413);
    }
    const event = toProxyEvent(req, body, route, { stage, binaryMediaTypes, nowMs: started, requestId });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let result: APIGatewayProxyResult | 'timeout';
    try {
      result = await Promise.race([handler(event, makeContext(functionName, requestId, timeoutMs)), timeout]);
    } catch {
      // An unhandled function error: API Gateway answers 502 and shows nothing of the error.
      send(res, 502, JSON.stringify({ message: 'Internal server error' }), gatewayHeaders);
      return done(502);
    } finally {
      clearTimeout(timer);
    }
    if (result === 'timeout') {
      send(res, 504, JSON.stringify({ message: 'Endpoint request timed out' }), gatewayHeaders);
      return done(504);
    }
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
