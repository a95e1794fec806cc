import { generateKeyPairSync, sign } from 'node:crypto';
import { makeHandler } from '../../../functions/ingest/handler';
import { parseSecrets } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';
import { decodeWixBody } from '../../../shared/providers/wix-cashier-pay/body';
import {
  publicKeyFromPem,
  signRs256Jwt,
  verifyRs256Jwt,
} from '../../../shared/providers/wix-cashier-pay/jwt';
import { fakeDeps, handMadeJwt, proxyEvent, rsaPair, TEST_SECRETS, testSecrets } from '../../support/signing';

const NOW_MS = 1_750_000_000_000;
const NOW_S = NOW_MS / 1000;
const event = {
  type: 'TRANSACTION',
  transactionEvent: { transactionId: 'tx-1', orderId: 'ord-1', transactionStatus: 'APPROVED' },
};
const json = JSON.stringify(event);
const wixPayload = (overrides: Record<string, unknown> = {}) => ({
  data: json,
  iat: NOW_S - 10,
  exp: NOW_S + 3600,
  ...overrides,
});

const wix = rsaPair();
const other = rsaPair();

async function post(token: string, body: string, secrets = testSecrets()) {
  const deps = fakeDeps({ nowMs: NOW_MS, secrets });
  const response = await makeHandler(deps)(proxyEvent({ path: `/webhooks/wix-cashier-pay/${token}`, body }));
  return { response, deps, payload: JSON.parse(response.body) as Record<string, unknown> };
}

describe('Wix Cashier Pay path token', () => {
  it('accepts the current token and the previous one during a rotation', async () => {
    for (const token of ['wix-hook-token-new', 'wix-hook-token-old']) {
      const { response, deps } = await post(token, json);
      expect(response.statusCode).toBe(200);
      expect(deps.queued[0]?.verification).toBe('wix-path-token');
    }
  });

  it('rejects a wrong token with 401 and does not echo it or the real ones', async () => {
    const { response, deps, payload } = await post('guessed-token', json);
    expect(response.statusCode).toBe(401);
    expect(payload).toEqual({ error: 'bad token' });
    expect(response.body).not.toContain('wix-token');
    expect(response.body).not.toContain('guessed-token');
    expect(deps.queued).toHaveLength(0);
  });

  it('rejects a prefix of a real token', async () => {
    expect((await post('wix-token-ne', json)).response.statusCode).toBe(401);
  });

  it('decodes URL-encoded tokens before comparing', async () => {
    const secrets = testSecrets({ WIX_CASHIER_PAY_TOKENS: 'a/b+c-wix-url-token' });
    expect((await post(encodeURIComponent('a/b+c-wix-url-token'), json, secrets)).response.statusCode).toBe(
      200,
    );
  });
});

describe('Wix Cashier Pay JWT bodies', () => {
  const withKey = (pem = wix.publicKeyPem) => testSecrets({ WIX_CASHIER_PAY_PUBLIC_KEY: pem });

  it('accepts a JWT signed with the configured key and queues it as sent', async () => {
    const jwt = handMadeJwt(wixPayload(), wix.privateKey);
    const { response, deps } = await post('wix-hook-token-new', jwt, withKey());
    expect(response.statusCode).toBe(200);
    expect(deps.queued[0]).toMatchObject({ verification: 'wix-jwt-rs256', topic: 'TRANSACTION', body: jwt });
  });

  it('accepts a PEM whose newlines arrive escaped as \\n (environment variables)', async () => {
    const jwt = handMadeJwt(wixPayload(), wix.privateKey);
    const escaped = wix.publicKeyPem.replace(/\n/g, '\\n');
    expect((await post('wix-hook-token-new', jwt, withKey(escaped))).response.statusCode).toBe(200);
  });

  it('rejects a JWT signed with another key', async () => {
    const jwt = handMadeJwt(wixPayload(), other.privateKey);
    const { response, payload, deps } = await post('wix-hook-token-new', jwt, withKey());
    expect(response.statusCode).toBe(401);
    expect(payload).toEqual({ error: 'bad jwt signature' });
    expect(deps.queued).toHaveLength(0);
  });

  it('rejects a tampered payload', async () => {
    const [h, , s] = handMadeJwt(wixPayload(), wix.privateKey).split('.');
    const forged = Buffer.from(JSON.stringify(wixPayload({ data: '{"type":"ORDER_EXPIRED"}' }))).toString(
      'base64url',
    );
    expect((await post('wix-hook-token-new', `${h}.${forged}.${s}`, withKey())).payload).toEqual({
      error: 'bad jwt signature',
    });
  });

  it('rejects an expired JWT', async () => {
    const jwt = handMadeJwt(wixPayload({ exp: NOW_S - 1 }), wix.privateKey);
    expect((await post('wix-hook-token-new', jwt, withKey())).payload).toEqual({ error: 'expired jwt' });
  });

  it('rejects alg none and HS256 even when the token is right', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64(wixPayload())}.`;
    expect((await post('wix-hook-token-new', none, withKey())).response.statusCode).toBe(401);
    const hs = handMadeJwt(wixPayload(), wix.privateKey, { alg: 'HS256' });
    expect((await post('wix-hook-token-new', hs, withKey())).payload).toEqual({
      error: 'unsupported jwt algorithm',
    });
  });

  it('still requires the path token for a valid JWT', async () => {
    const jwt = handMadeJwt(wixPayload(), wix.privateKey);
    expect((await post('wrong', jwt, withKey())).response.statusCode).toBe(401);
  });

  // A key that slipped past the start-up check (a secret rotated to a bad value) still fails closed.
  const unchecked = (pem: string) => ({ ...testSecrets(), WIX_CASHIER_PAY_PUBLIC_KEY: pem });

  it('answers 503 (not 200) when the configured public key is not a key', async () => {
    const jwt = handMadeJwt(wixPayload(), wix.privateKey);
    const { response } = await post('wix-hook-token-new', jwt, unchecked('not a pem'));
    expect(response.statusCode).toBe(503);
  });

  it.each([
    ['an EC P-256 key', 'ec', { namedCurve: 'P-256' }],
    ['an Ed25519 key', 'ed25519', {}],
  ] as const)(
    'answers 503 (not 200, no throw) when the configured key is %s, not RSA',
    async (_n, type, opts) => {
      // RS256 pins the key type too: with an EC key, node's 'RSA-SHA256' verify would check an ECDSA
      // signature under a header that claims RS256; with Ed25519 it throws.
      const pair = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const input = [{ alg: 'RS256', typ: 'JWT' }, wixPayload()]
        .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
        .join('.');
      const signature =
        type === 'ec' ? sign('sha256', Buffer.from(input), pair.privateKey) : Buffer.alloc(64);
      const { response, deps } = await post(
        'wix-hook-token-new',
        `${input}.${signature.toString('base64url')}`,
        unchecked(pem),
      );
      expect(response.statusCode).toBe(503);
      expect(deps.queued).toHaveLength(0);
    },
  );

  it('refuses a plain JSON body with 401 and a logged reason when a public key is configured', async () => {
    // The hook-URL token alone must not be enough once a key is set: a token holder would post JSON.
    const { response, payload, deps } = await post('wix-hook-token-new', json, withKey());
    expect(response.statusCode).toBe(401);
    expect(payload).toEqual({ error: 'jwt required' });
    expect(deps.queued).toHaveLength(0);
    expect(deps.log.lines).toContainEqual(
      expect.objectContaining({
        message: 'webhook',
        extra: expect.objectContaining({ statusCode: 401, reason: 'jwt required' }),
      }),
    );
  });

  it('refuses a JWT that carries neither exp nor iat (it would verify forever)', async () => {
    const jwt = handMadeJwt({ data: json }, wix.privateKey);
    const { response, payload } = await post('wix-hook-token-new', jwt, withKey());
    expect(response.statusCode).toBe(401);
    expect(payload).toEqual({ error: 'jwt without exp or iat' });
  });

  it('accepts a JWT without exp whose iat is within 48 hours, and refuses an older or future one', async () => {
    const fresh = handMadeJwt({ data: json, iat: NOW_S - 47 * 3600 }, wix.privateKey);
    expect((await post('wix-hook-token-new', fresh, withKey())).response.statusCode).toBe(200);
    const old = handMadeJwt({ data: json, iat: NOW_S - 49 * 3600 }, wix.privateKey);
    expect((await post('wix-hook-token-new', old, withKey())).payload).toEqual({ error: 'expired jwt' });
    const ahead = handMadeJwt({ data: json, iat: NOW_S + 3600 }, wix.privateKey);
    expect((await post('wix-hook-token-new', ahead, withKey())).payload).toEqual({
      error: 'jwt issued in the future',
    });
  });

  it('refuses at start an RSA key under 2048 bits, and keys that are not RSA, naming the key only', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    for (const pem of [weak, ec, 'not a pem']) {
      const parse = () => parseSecrets({ ...TEST_SECRETS, WIX_CASHIER_PAY_PUBLIC_KEY: pem });
      expect(parse).toThrow(ConfigError);
      expect(parse).toThrow(/WIX_CASHIER_PAY_PUBLIC_KEY/);
      expect(() => parse()).not.toThrow(/BEGIN PUBLIC KEY|MII|MFk/);
    }
    expect(() => parseSecrets({ ...TEST_SECRETS, WIX_CASHIER_PAY_PUBLIC_KEY: weak })).toThrow(/1024 bits/);
    expect(() => publicKeyFromPem(weak)).toThrow(/fewer than 2048/);
    expect(parseSecrets({ ...TEST_SECRETS, WIX_CASHIER_PAY_PUBLIC_KEY: wix.publicKeyPem })).toBeDefined();
  });

  it('decodes JSON and JWT bodies to the same event for the worker', () => {
    expect(decodeWixBody(json)).toEqual(event);
    expect(decodeWixBody(handMadeJwt(wixPayload(), wix.privateKey))).toEqual(event);
  });

  it('signRs256Jwt produces a token the first-principles verifier accepts', () => {
    const jwt = signRs256Jwt(wixPayload(), wix.privateKey);
    expect(verifyRs256Jwt(jwt, publicKeyFromPem(wix.publicKeyPem), NOW_MS)).toEqual({
      ok: true,
      payload: wixPayload(),
    });
    const [h, p] = jwt.split('.');
    const expected = handMadeJwt(wixPayload(), wix.privateKey).split('.');
    expect([h, p]).toEqual([expected[0], expected[1]]);
  });
});
