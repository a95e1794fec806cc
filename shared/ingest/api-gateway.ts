import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import type { IngestRequest, IngestResponse } from './ingest-webhook';

/** The parts of a REST API (payload 1.0) proxy event the ingest reads. */
export type RestProxyEventLike = Pick<
  APIGatewayProxyEvent,
  'httpMethod' | 'path' | 'body' | 'isBase64Encoded'
> &
  Partial<Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders' | 'requestContext'>>;

/** The parts of an HTTP API (payload 2.0) event the ingest reads. */
export type HttpApiEventLike = Pick<APIGatewayProxyEventV2, 'version' | 'rawPath' | 'isBase64Encoded'> &
  Partial<Pick<APIGatewayProxyEventV2, 'body' | 'headers' | 'routeKey' | 'pathParameters'>> & {
    readonly requestContext?: {
      readonly http?: Partial<APIGatewayProxyEventV2['requestContext']['http']>;
      readonly requestId?: string;
    };
  };

/** Either API type's event: the stack's HTTP API (default) or its REST API; the local mode builds both. */
export type ProxyEventLike = RestProxyEventLike | HttpApiEventLike;

const isHttpApiEvent = (event: ProxyEventLike): event is HttpApiEventLike =>
  (event as { version?: unknown }).version === '2.0';

/**
 * Normalises an API Gateway event of either payload format: header names lower-cased (REST: first
 * value wins, from `headers`, then `multiValueHeaders`; HTTP API: as given, where API Gateway has
 * already joined a repeated header's values with commas), body bytes exactly as sent
 * (base64-decoded when API Gateway encoded them), and the path as requested. Route matching reads
 * the path, not `routeKey` or `pathParameters`, so both formats route through the same code.
 */
export function toIngestRequest(event: ProxyEventLike): IngestRequest {
  return isHttpApiEvent(event) ? fromHttpApi(event) : fromRest(event);
}

function lowerCased(target: Record<string, string>, source: Record<string, unknown> | null | undefined) {
  for (const [name, value] of Object.entries(source ?? {})) {
    const key = name.toLowerCase();
    if (typeof value === 'string' && target[key] === undefined) target[key] = value;
  }
}

/** Only strings count: a hand-built or test-invoke event may carry null or other JSON types. */
function bodyBytes(body: unknown, base64: unknown): Buffer {
  const raw = typeof body === 'string' ? body : '';
  return base64 === true ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
}

const withRequestId = (requestId: unknown) =>
  typeof requestId === 'string' && requestId !== '' ? { requestId } : {};

function fromRest(event: RestProxyEventLike): IngestRequest {
  const headers: Record<string, string> = {};
  lowerCased(headers, event.headers);
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    const key = name.toLowerCase();
    const first = Array.isArray(values) ? values[0] : undefined;
    if (typeof first === 'string' && headers[key] === undefined) headers[key] = first;
  }
  const path = [event.path, event.requestContext?.path].find((p) => typeof p === 'string' && p !== '') ?? '/';
  const method = typeof event.httpMethod === 'string' ? event.httpMethod : 'GET';
  return {
    method,
    path,
    headers,
    body: bodyBytes(event.body, event.isBase64Encoded),
    ...withRequestId(event.requestContext?.requestId),
  };
}

function fromHttpApi(event: HttpApiEventLike): IngestRequest {
  const headers: Record<string, string> = {};
  lowerCased(headers, event.headers);
  const http = event.requestContext?.http;
  // rawPath as requested (a custom domain's API mapping key is not in it); the `$default` stage adds no prefix.
  const path = [event.rawPath, http?.path].find((p) => typeof p === 'string' && p !== '') ?? '/';
  const routeMethod = typeof event.routeKey === 'string' ? event.routeKey.split(' ')[0] : undefined;
  const method = [http?.method, routeMethod].find((m) => typeof m === 'string' && m !== '') ?? 'GET';
  return {
    method,
    path,
    headers,
    body: bodyBytes(event.body, event.isBase64Encoded),
    ...withRequestId(event.requestContext?.requestId),
  };
}

/** The Lambda proxy result for an ingest response (the same shape answers both payload formats). */
export function toProxyResult(response: IngestResponse): APIGatewayProxyResult {
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
}
