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
    if (value !== undefined && headers[key] === undefined) headers[key] = value;
  }
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    const key = name.toLowerCase();
    const first = values?.[0];
    if (first !== undefined && headers[key] === undefined) headers[key] = first;
  }
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const path = event.path || event.requestContext?.path || '/';
  return { method: event.httpMethod ?? 'GET', path, headers, body };
}

/** The Lambda proxy result for an ingest response. */
export function toProxyResult(response: IngestResponse): APIGatewayProxyResult {
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
}
