import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/** Three base64url parts: header.payload.signature. */
const JWT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when `text` (ignoring surrounding whitespace) has the shape of a compact JWT. */
export function looksLikeJwt(text: string): boolean {
  return JWT_PATTERN.test(text.trim());
}

export type JwtVerification =
  | { ok: true; payload: Record<string, unknown> }
  | {
      ok: false;
      reason:
        | 'malformed jwt'
        | 'unsupported jwt algorithm'
        | 'bad jwt signature'
        | 'expired jwt'
        | 'jwt without exp or iat'
        | 'jwt issued in the future';
    };

/** Smallest RSA modulus accepted for the Wix public key (NIST SP 800-131A: under 2048 bits is disallowed). */
export const MIN_RSA_KEY_BITS = 2048;

/**
 * How old a JWT without `exp` may be, by its `iat`: Wix retries a webhook for about 47 hours, so
 * 48 hours (ReCharge's own window) accepts every retry and bounds a captured token's replay.
 */
export const JWT_IAT_TOLERANCE_SECONDS = 172_800;
/** Clock skew allowed for an `iat` ahead of our clock. */
export const JWT_CLOCK_SKEW_SECONDS = 300;

function decodePart(part: string): unknown {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes a compact JWT's payload without verifying it; throws when it is not a JWT of a JSON object. */
export function decodeJwtPayload(token: string): Record<string, unknown> {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !looksLikeJwt(token)) throw new SyntaxError('not a compact jwt');
  const payload = decodePart(parts[1] as string);
  if (!isRecord(payload)) throw new SyntaxError('jwt payload is not an object');
  return payload;
}

const keyCache = new Map<string, KeyObject>();

/**
 * Parses a PEM public key once per distinct value (the secret may rotate). Environment variables
 * often carry PEM with literal `\n`; those are restored. Throws when the PEM is not an RSA key:
 * RS256 pins the key type as well (with an EC key, node's 'RSA-SHA256' verify checks an ECDSA
 * signature; with Ed25519 it throws).
 */
export function publicKeyFromPem(pem: string): KeyObject {
  let key = keyCache.get(pem);
  if (!key) {
    key = createPublicKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem);
    if (key.asymmetricKeyType !== 'rsa') throw new TypeError('the public key is not an RSA key');
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_KEY_BITS)
      throw new TypeError(`the RSA key has ${bits} bits, fewer than ${MIN_RSA_KEY_BITS}`);
    keyCache.set(pem, key);
  }
  return key;
}

/** Why a configured Wix public key is unusable (not PEM, not RSA, under 2048 bits), or undefined. */
export function wixPublicKeyProblem(pem: string): string | undefined {
  try {
    publicKeyFromPem(pem);
    return undefined;
  } catch (error) {
    return error instanceof TypeError && /RSA/.test(error.message) ? error.message : 'not a PEM public key';
  }
}

/**
 * Verifies an RS256 compact JWT: the header must say RS256 (no `none`, no HMAC confusion), the
 * signature must verify with `publicKey`, and the token must carry a lifetime: `exp` not passed,
 * or (without `exp`) an `iat` at most JWT_IAT_TOLERANCE_SECONDS old. A token with neither would
 * verify forever once captured.
 */
export function verifyRs256Jwt(token: string, publicKey: KeyObject, nowMs: number): JwtVerification {
  const trimmed = token.trim();
  if (!looksLikeJwt(trimmed)) return { ok: false, reason: 'malformed jwt' };
  const [headerPart, payloadPart, signaturePart] = trimmed.split('.') as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = decodePart(headerPart);
    payload = decodePart(payloadPart);
  } catch {
    return { ok: false, reason: 'malformed jwt' };
  }
  if (!isRecord(header) || !isRecord(payload)) return { ok: false, reason: 'malformed jwt' };
  if (header.alg !== 'RS256') return { ok: false, reason: 'unsupported jwt algorithm' };
  const signature = Buffer.from(signaturePart, 'base64url');
  const valid = verify('RSA-SHA256', Buffer.from(`${headerPart}.${payloadPart}`), publicKey, signature);
  if (!valid) return { ok: false, reason: 'bad jwt signature' };
  const nowSeconds = nowMs / 1000;
  for (const claim of [payload.exp, payload.iat])
    if (claim !== undefined && typeof claim !== 'number') return { ok: false, reason: 'malformed jwt' };
  const exp = payload.exp as number | undefined;
  const iat = payload.iat as number | undefined;
  if (exp === undefined && iat === undefined) return { ok: false, reason: 'jwt without exp or iat' };
  if (iat !== undefined && iat > nowSeconds + JWT_CLOCK_SKEW_SECONDS)
    return { ok: false, reason: 'jwt issued in the future' };
  if (exp !== undefined ? nowSeconds >= exp : nowSeconds - (iat as number) > JWT_IAT_TOLERANCE_SECONDS)
    return { ok: false, reason: 'expired jwt' };
  return { ok: true, payload };
}

/**
 * Signs `payload` as an RS256 compact JWT (for the CLI, the local mode and tests that need a
 * valid Wix-style body). `privateKey` is a PEM string or a KeyObject.
 */
export function signRs256Jwt(payload: Record<string, unknown>, privateKey: KeyObject | string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(payload)}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}
