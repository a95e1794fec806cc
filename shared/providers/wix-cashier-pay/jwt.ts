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
      reason: 'malformed jwt' | 'unsupported jwt algorithm' | 'bad jwt signature' | 'expired jwt';
    };

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
    keyCache.set(pem, key);
  }
  return key;
}

/**
 * Verifies an RS256 compact JWT: the header must say RS256 (no `none`, no HMAC confusion), the
 * signature must verify with `publicKey`, and `exp` (when present) must not have passed.
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
  if (payload.exp !== undefined) {
    if (typeof payload.exp !== 'number') return { ok: false, reason: 'malformed jwt' };
    if (nowMs / 1000 >= payload.exp) return { ok: false, reason: 'expired jwt' };
  }
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
