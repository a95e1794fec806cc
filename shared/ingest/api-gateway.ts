import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { IngestRequest, IngestResponse } from './ingest-webhook';

/** The parts of a REST API proxy event the ingest reads (the local mode builds these too). */
export type ProxyEventLike = Pick<APIGatewayProxyEvent, 'httpMethod' | 'path' | 'body' | 'isBase64Encoded'> &
  Partial<Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders' | 'requestContext'>>;

/**
 * Normalises a proxy event: header names lower-cased (first value wins, from `headers`, then
 * `multiValueHeaders`), body bytes exactly as sent (base64-decoded when API Gateway encoded them).
 */
export function toIngestRequest(event: ProxyEventLike): IngestRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const key = name.toLowerCase();
    if (typeof value === 'string' && headers[key] === undefined) headers[key] = value;
  }
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    const key = name.toLowerCase();
    const first = Array.isArray(values) ? values[0] : undefined;
    if (typeof first === 'string' && headers[key] === undefined) headers[key] = first;
  }
  // Only strings count: a hand-built or test-invoke event may carry null or other JSON types, and
  // the ingest must answer (401/400) rather than throw.
  const raw = typeof event.body === 'string' ? event.body : '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const path = [event.path, event.requestContext?.path].find((p) => typeof p === 'string' && p !== '') ?? '/';
  const method = typeof event.httpMethod === 'string' ? event.httpMethod : 'GET';
  const requestId = event.requestContext?.requestId;
  return {
    method,
    path,
    headers,
    body,
    ...(typeof requestId === 'string' && requestId !== '' ? { requestId } : {}),
  };
}

/** The Lambda proxy result for an ingest response. */
export function toProxyResult(response: IngestResponse): APIGatewayProxyResult {
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
}
