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
        | 'invalid public key';
    };

export interface VerifyWixOptions {
  /** Accepted hook-URL tokens (several during a rotation). Must not be empty. */
  tokens: readonly string[];
  /** PEM public key; when set, JWT bodies must verify against it. */
  publicKeyPem?: string | undefined;
  nowMs: number;
}

/**
 * The hook URL's token is the baseline check (constant-time, any of several tokens). When the body
 * is a JWT and a public key is configured, the JWT must also verify (RS256, not expired).
 */
export function verifyWixRequest(
  pathToken: string,
  body: string,
  options: VerifyWixOptions,
): WixVerification {
  if (!matchesAny(pathToken, options.tokens)) return { ok: false, reason: 'bad token' };
  if (!options.publicKeyPem || !looksLikeJwt(body)) return { ok: true, verification: 'wix-path-token' };
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
