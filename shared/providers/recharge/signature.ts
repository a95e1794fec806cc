import { createHmac } from 'node:crypto';
import { matchesAny, sha256Hex } from '../../ingest/crypto';
import type { Headers } from '../../ingest/provider';
import type { VerificationScheme } from '../../queue/message';

/** Current, timestamp-bound scheme: `t=<unix seconds>,v1=<hex hmac-sha256 of "t." + body>`. */
export const RECHARGE_SIGNATURE_HEADER = 'x-recharge-webhook-signature';
/** Legacy scheme: hex SHA-256 (not an HMAC) of client secret followed by the body. */
export const RECHARGE_LEGACY_HEADER = 'x-recharge-hmac-sha256';

export type RechargeVerification =
  | { ok: true; verification: Extract<VerificationScheme, `recharge-${string}`> }
  | {
      ok: false;
      reason:
        | 'missing signature header'
        | 'malformed signature header'
        | 'bad signature'
        | 'stale timestamp'
        | 'timestamped signature required';
    };

export interface VerifyRechargeOptions {
  /** Accepted client secrets (several during a rotation). Must not be empty. */
  secrets: readonly string[];
  nowMs: number;
  toleranceSeconds: number;
  /**
   * Refuse requests signed only with the legacy header: it has no timestamp, so a captured request
   * stripped of its timestamped header would verify forever (replay).
   */
  requireTimestamp?: boolean;
}

function parseSignatureHeader(value: string): { t: string; v1: string[] } | undefined {
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === 't') t = val;
    else if (key === 'v1') v1.push(val.toLowerCase());
  }
  if (t === undefined || !/^\d{1,12}$/.test(t) || v1.length === 0) return undefined;
  return { t, v1 };
}

/** The timestamp scheme's `v1`: lowercase hex HMAC-SHA256 (client secret) of `<t>.` + raw body. */
function rechargeV1(secret: string, t: string | number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/**
 * Verifies a ReCharge webhook over its raw body bytes. When `X-Recharge-Webhook-Signature` is
 * present it alone decides (a failing new-style header never falls back to the legacy one);
 * otherwise `X-Recharge-Hmac-Sha256` is checked. Signature first, then the timestamp window, so
 * only an authentic sender learns that its timestamp is stale. Comparisons are constant-time.
 */
export function verifyRechargeSignature(
  headers: Headers,
  body: Buffer,
  options: VerifyRechargeOptions,
): RechargeVerification {
  const current = headers[RECHARGE_SIGNATURE_HEADER];
  if (current !== undefined) {
    const parsed = parseSignatureHeader(current);
    if (!parsed) return { ok: false, reason: 'malformed signature header' };
    const expected = options.secrets.map((secret) => rechargeV1(secret, parsed.t, body));
    const valid = parsed.v1.some((candidate) => matchesAny(candidate, expected));
    if (!valid) return { ok: false, reason: 'bad signature' };
    const ageSeconds = Math.abs(options.nowMs / 1000 - Number(parsed.t));
    if (ageSeconds > options.toleranceSeconds) return { ok: false, reason: 'stale timestamp' };
    return { ok: true, verification: 'recharge-hmac-sha256-v1' };
  }
  const legacy = headers[RECHARGE_LEGACY_HEADER];
  if (legacy === undefined) return { ok: false, reason: 'missing signature header' };
  const expected = options.secrets.map((secret) => sha256Hex(secret, body));
  if (!matchesAny(legacy.trim().toLowerCase(), expected)) return { ok: false, reason: 'bad signature' };
  // After the signature, like the stale check: only an authentic sender learns why it was refused.
  if (options.requireTimestamp) return { ok: false, reason: 'timestamped signature required' };
  return { ok: true, verification: 'recharge-legacy-sha256' };
}

export interface SignRechargeOptions {
  scheme: 'timestamp' | 'legacy';
  /** Unix seconds for the timestamp scheme; defaults to now. */
  timestamp?: number;
}

/**
 * Produces the headers ReCharge would send for `body` (used by the CLI, the local mode and tests
 * that need a valid request; the signature tests compute their vectors independently).
 */
export function signRechargeBody(
  body: string | Buffer,
  secret: string,
  options: SignRechargeOptions = { scheme: 'timestamp' },
): Record<string, string> {
  if (options.scheme === 'legacy') return { 'X-Recharge-Hmac-Sha256': sha256Hex(secret, body) };
  const t = options.timestamp ?? Math.floor(Date.now() / 1000);
  return { 'X-Recharge-Webhook-Signature': `t=${t},v1=${rechargeV1(secret, t, body)}` };
}
