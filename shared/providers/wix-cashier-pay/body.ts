import { decodeJwtPayload, looksLikeJwt } from './jwt';

/**
 * Returns the Wix Cashier Pay event carried by a raw webhook body, whether the body is the event
 * as JSON or a JWT whose payload is `{data, iat, exp}` with `data` the event as a JSON string.
 * Does not verify anything (the ingest did, before queueing). Throws SyntaxError when the body is
 * neither.
 */
export function decodeWixBody(raw: string): unknown {
  if (!looksLikeJwt(raw)) return JSON.parse(raw);
  const payload = decodeJwtPayload(raw);
  const data = payload.data;
  if (typeof data === 'string') return JSON.parse(data);
  if (typeof data === 'object' && data !== null) return data;
  throw new SyntaxError('jwt payload has no data');
}

/** Wraps an event the way Wix's JWT webhooks do: `{data: JSON string, iat, exp}`. */
export function wixJwtPayload(
  event: unknown,
  nowSeconds: number,
  ttlSeconds = 3600,
): Record<string, unknown> {
  return { data: JSON.stringify(event), iat: nowSeconds, exp: nowSeconds + ttlSeconds };
}
