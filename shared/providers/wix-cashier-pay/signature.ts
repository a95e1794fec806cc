import { matchesAny } from '../../ingest/crypto';
import type { VerificationScheme } from '../../queue/message';
import { looksLikeJwt, publicKeyFromPem, verifyRs256Jwt } from './jwt';

export type WixVerification =
  | { ok: true; verification: Extract<VerificationScheme, `wix-${string}`> }
  | {
      ok: false;
      reason:
        | 'bad token'
        | 'malformed jwt'
        | 'unsupported jwt algorithm'
        | 'bad jwt signature'
        | 'expired jwt'
        | 'jwt without exp or iat'
        | 'jwt issued in the future'
        | 'jwt required'
        | 'invalid public key';
    };

export interface VerifyWixOptions {
  /** Accepted hook-URL tokens (several during a rotation). Must not be empty. */
  tokens: readonly string[];
  /** PEM public key; when set, every body must be an RS256 JWT that verifies against it. */
  publicKeyPem?: string | undefined;
  nowMs: number;
}

/**
 * The hook URL's token is the baseline check (constant-time, any of several tokens). With a public
 * key configured, the body must also be a JWT that verifies (RS256, not expired): a plain JSON body
 * is refused, or anyone holding the hook-URL token could skip the key by not sending a JWT.
 */
export function verifyWixRequest(
  pathToken: string,
  body: string,
  options: VerifyWixOptions,
): WixVerification {
  if (!matchesAny(pathToken, options.tokens)) return { ok: false, reason: 'bad token' };
  if (!options.publicKeyPem) return { ok: true, verification: 'wix-path-token' };
  if (!looksLikeJwt(body)) return { ok: false, reason: 'jwt required' };
  let key: ReturnType<typeof publicKeyFromPem>;
  try {
    key = publicKeyFromPem(options.publicKeyPem);
  } catch {
    return { ok: false, reason: 'invalid public key' };
  }
  const jwt = verifyRs256Jwt(body, key, options.nowMs);
  return jwt.ok ? { ok: true, verification: 'wix-jwt-rs256' } : jwt;
}

/** The hook URL path to give Cashier Pay when creating an order (token URL-encoded). */
export function wixHookPath(token: string): string {
  return `/webhooks/wix-cashier-pay/${encodeURIComponent(token)}`;
}
