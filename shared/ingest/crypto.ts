import { createHash, timingSafeEqual } from 'node:crypto';

/** Lowercase hex SHA-256 of the concatenated parts. */
export function sha256Hex(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/**
 * Constant-time equality of two strings of any length: both sides are hashed first, so neither
 * the content nor the length of the expected value leaks through timing.
 */
export function safeEqual(actual: string, expected: string): boolean {
  const a = createHash('sha256').update(actual).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** True when `actual` equals one of `candidates`; every candidate is compared (no early exit). */
export function matchesAny(actual: string, candidates: readonly string[]): boolean {
  let found = false;
  for (const candidate of candidates) if (safeEqual(actual, candidate)) found = true;
  return found;
}

/** `<provider>:<hex sha-256>` over a JSON array of the identifying fields. */
export function fieldsDeliveryKey(provider: string, fields: readonly unknown[]): string {
  return `${provider}:${sha256Hex(JSON.stringify(fields))}`;
}
