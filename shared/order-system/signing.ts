import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Request signing for the HTTP order system, in the Standard Webhooks style: `webhook-id`,
 * `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>`. The signed content adds
 * the method and the path to Standard Webhooks' `id.timestamp.body`, so a captured create cannot be
 * replayed as a push to another order; fields are joined with "\n" (no path or id holds one).
 * The key is ORDER_SYSTEM_SECRET's UTF-8 bytes (not a `whsec_` base64 secret).
 */
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/** How far a receiver should let `webhook-timestamp` be from its clock (Standard Webhooks: 5 minutes). */
export const ORDER_SYSTEM_SIGNATURE_TOLERANCE_SECONDS = 300;

export interface SignedRequestParts {
  id: string;
  timestamp: number;
  method: string;
  /** The URL's path and query as sent (`/orders/ext-1`). */
  path: string;
  body: string;
}

/** The exact bytes signed: `id \n timestamp \n METHOD \n path \n body`. */
export function orderSystemSignedContent(parts: SignedRequestParts): string {
  return `${parts.id}\n${parts.timestamp}\n${parts.method.toUpperCase()}\n${parts.path}\n${parts.body}`;
}

/** `v1,<base64 HMAC-SHA256(secret, signed content)>`. */
export function orderSystemSignature(secret: string, parts: SignedRequestParts): string {
  return `v1,${createHmac('sha256', secret).update(orderSystemSignedContent(parts)).digest('base64')}`;
}

/**
 * The three signing headers for one request. A fresh `webhook-id` per attempt: a receiver that
 * remembers ids inside the tolerance refuses a replay without refusing our retry after a lost
 * answer (the retry repeats the Idempotency-Key, which is what makes it safe).
 */
export function signOrderSystemRequest(
  secret: string,
  request: Omit<SignedRequestParts, 'id' | 'timestamp'>,
  nowMs = Date.now(),
): Record<string, string> {
  const parts = { ...request, id: `msg_${randomUUID()}`, timestamp: Math.floor(nowMs / 1000) };
  return {
    [WEBHOOK_ID_HEADER]: parts.id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(parts.timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: orderSystemSignature(secret, parts),
  };
}

export type OrderSystemVerification =
  | { ok: true; id: string }
  | { ok: false; reason: 'missing signature headers' | 'stale timestamp' | 'bad signature' };

/**
 * What a receiver checks (the reference for docs/design.md's contract and the test order system):
 * the three headers are present, the timestamp is within the tolerance of the receiver's clock, and
 * one of the space-separated `v1,` signatures equals the expected one, compared in constant time.
 * The receiver should also refuse a `webhook-id` it has already seen within the tolerance.
 */
export function verifyOrderSystemRequest(
  secret: string,
  request: {
    method: string;
    path: string;
    body: string;
    headers: Record<string, string | string[] | undefined>;
  },
  nowMs = Date.now(),
  toleranceSeconds = ORDER_SYSTEM_SIGNATURE_TOLERANCE_SECONDS,
): OrderSystemVerification {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header(WEBHOOK_ID_HEADER);
  const timestamp = header(WEBHOOK_TIMESTAMP_HEADER);
  const signatures = header(WEBHOOK_SIGNATURE_HEADER);
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp))
    return { ok: false, reason: 'missing signature headers' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds)
    return { ok: false, reason: 'stale timestamp' };
  const expected = Buffer.from(
    orderSystemSignature(secret, {
      id,
      timestamp: Number(timestamp),
      method: request.method,
      path: request.path,
      body: request.body,
    }),
  );
  let match = false;
  for (const given of signatures.split(' ')) {
    const candidate = Buffer.from(given);
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) match = true;
  }
  return match ? { ok: true, id } : { ok: false, reason: 'bad signature' };
}
