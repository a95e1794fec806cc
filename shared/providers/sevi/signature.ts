import { matchesAny } from '../../ingest/crypto';
import type { Headers } from '../../ingest/provider';

export type SeviVerification =
  | { ok: true; verification: 'sevi-token' }
  | { ok: false; reason: 'missing authorization header' | 'bad token' };

/**
 * Sevi puts the static token the merchant chose into `Authorization`, with or without a `Bearer `
 * prefix. Compared in constant time against every accepted token (rotation).
 */
export function verifySeviToken(headers: Headers, tokens: readonly string[]): SeviVerification {
  const header = headers.authorization;
  if (header === undefined || header.trim() === '')
    return { ok: false, reason: 'missing authorization header' };
  const trimmed = header.trim();
  const token = /^bearer\s+/i.test(trimmed) ? trimmed.replace(/^bearer\s+/i, '') : trimmed;
  return matchesAny(token, tokens)
    ? { ok: true, verification: 'sevi-token' }
    : { ok: false, reason: 'bad token' };
}

/** Headers Sevi would send with `token` (CLI, local mode, tests). */
export function seviAuthHeaders(token: string, options: { bearer?: boolean } = {}): Record<string, string> {
  return { Authorization: options.bearer ? `Bearer ${token}` : token };
}
