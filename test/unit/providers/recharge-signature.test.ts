import { createHmac } from 'node:crypto';
import { makeHandler } from '../../../functions/ingest/handler';
import { signRechargeBody, verifyRechargeSignature } from '../../../shared/providers/recharge/signature';
import {
  fakeDeps,
  proxyEvent,
  rechargeLegacy,
  rechargeSignatureHeader,
  rechargeV1,
} from '../../support/signing';

const SECRET = 'recharge-secret-new';
const OLD_SECRET = 'recharge-secret-old';
const NOW_MS = 1_750_000_000_000;
const NOW_S = NOW_MS / 1000;
const WINDOW = 172_800;
const body = Buffer.from('{"order":{"id":123,"status":"SUCCESS","note":"caf\u00e9"}}');
const options = { secrets: [SECRET, OLD_SECRET], nowMs: NOW_MS, toleranceSeconds: WINDOW };

const verify = (headers: Record<string, string>, raw: Buffer = body) =>
  verifyRechargeSignature(headers, raw, options);

describe('ReCharge timestamp signature (X-Recharge-Webhook-Signature)', () => {
  it('accepts a valid signature over the raw body', () => {
    const result = verify({ 'x-recharge-webhook-signature': rechargeSignatureHeader(SECRET, NOW_S, body) });
    expect(result).toEqual({ ok: true, verification: 'recharge-hmac-sha256-v1' });
  });

  it('rejects when the body changed by one byte', () => {
    const header = rechargeSignatureHeader(SECRET, NOW_S, body);
    const changed = Buffer.from(body);
    changed[changed.length - 2] = (changed[changed.length - 2] ?? 0) ^ 1;
    expect(verify({ 'x-recharge-webhook-signature': header }, changed)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it('rejects a signature computed with the wrong secret', () => {
    const header = rechargeSignatureHeader('not-the-secret', NOW_S, body);
    expect(verify({ 'x-recharge-webhook-signature': header })).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it('accepts the second secret of a rotation pair', () => {
    const header = rechargeSignatureHeader(OLD_SECRET, NOW_S, body);
    expect(verify({ 'x-recharge-webhook-signature': header }).ok).toBe(true);
  });

  it('accepts a timestamp just inside the window, in the past and in the future', () => {
    for (const t of [NOW_S - WINDOW, NOW_S + WINDOW]) {
      const header = rechargeSignatureHeader(SECRET, t, body);
      expect(verify({ 'x-recharge-webhook-signature': header }).ok).toBe(true);
    }
  });

  it('rejects a timestamp just outside the window as stale', () => {
    for (const t of [NOW_S - WINDOW - 1, NOW_S + WINDOW + 1]) {
      const header = rechargeSignatureHeader(SECRET, t, body);
      expect(verify({ 'x-recharge-webhook-signature': header })).toEqual({
        ok: false,
        reason: 'stale timestamp',
      });
    }
  });

  it('binds the timestamp: a valid v1 moved to another t fails', () => {
    const v1 = rechargeV1(SECRET, NOW_S, body);
    expect(verify({ 'x-recharge-webhook-signature': `t=${NOW_S - 1},v1=${v1}` }).ok).toBe(false);
  });

  it('finds v1 among extra keys in any order and with spaces', () => {
    const v1 = rechargeV1(SECRET, NOW_S, body);
    for (const header of [
      `v2=abc, v1=${v1}, t=${NOW_S}`,
      `v1=${v1},foo=bar,t=${NOW_S},v2=0000`,
      `t=${NOW_S},v1=deadbeef,v1=${v1}`,
    ]) {
      expect(verify({ 'x-recharge-webhook-signature': header }).ok).toBe(true);
    }
  });

  it('rejects a header without t or v1 as malformed', () => {
    const v1 = rechargeV1(SECRET, NOW_S, body);
    for (const header of [`v1=${v1}`, `t=${NOW_S}`, '', `t=abc,v1=${v1}`]) {
      expect(verify({ 'x-recharge-webhook-signature': header })).toEqual({
        ok: false,
        reason: 'malformed signature header',
      });
    }
  });

  it('lets the new header win over the legacy one, and never falls back when it fails', () => {
    const legacy = rechargeLegacy(SECRET, body);
    const good = rechargeSignatureHeader(SECRET, NOW_S, body);
    expect(verify({ 'x-recharge-webhook-signature': good, 'x-recharge-hmac-sha256': legacy })).toEqual({
      ok: true,
      verification: 'recharge-hmac-sha256-v1',
    });
    const bad = rechargeSignatureHeader('wrong', NOW_S, body);
    expect(verify({ 'x-recharge-webhook-signature': bad, 'x-recharge-hmac-sha256': legacy })).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it('reports a missing signature header', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing signature header' });
  });
});

describe('ReCharge legacy signature (X-Recharge-Hmac-Sha256)', () => {
  it('accepts sha256(secret + body) in lower or upper case hex', () => {
    const legacy = rechargeLegacy(SECRET, body);
    expect(verify({ 'x-recharge-hmac-sha256': legacy })).toEqual({
      ok: true,
      verification: 'recharge-legacy-sha256',
    });
    expect(verify({ 'x-recharge-hmac-sha256': legacy.toUpperCase() }).ok).toBe(true);
  });

  it('rejects a changed body, a wrong secret, and an HMAC in place of the plain hash', () => {
    expect(verify({ 'x-recharge-hmac-sha256': rechargeLegacy(SECRET, body) }, Buffer.from('{}')).ok).toBe(
      false,
    );
    expect(verify({ 'x-recharge-hmac-sha256': rechargeLegacy('wrong', body) }).ok).toBe(false);
    const hmac = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(verify({ 'x-recharge-hmac-sha256': hmac }).ok).toBe(false);
  });

  it('accepts the second secret of a rotation pair', () => {
    expect(verify({ 'x-recharge-hmac-sha256': rechargeLegacy(OLD_SECRET, body) }).ok).toBe(true);
  });
});

describe('signRechargeBody (used by the CLI and local mode)', () => {
  it('produces the same headers as the first-principles oracle', () => {
    expect(signRechargeBody(body, SECRET, { scheme: 'timestamp', timestamp: NOW_S })).toEqual({
      'X-Recharge-Webhook-Signature': rechargeSignatureHeader(SECRET, NOW_S, body),
    });
    expect(signRechargeBody(body, SECRET, { scheme: 'legacy' })).toEqual({
      'X-Recharge-Hmac-Sha256': rechargeLegacy(SECRET, body),
    });
  });
});

describe('ReCharge signatures through the handler', () => {
  const path = '/webhooks/recharge/order/created';

  it('accepts header names in any case', async () => {
    const deps = fakeDeps({ nowMs: NOW_MS });
    const handler = makeHandler(deps);
    const response = await handler(
      proxyEvent({
        path,
        body,
        headers: { 'X-RECHARGE-WEBHOOK-SIGNATURE': rechargeSignatureHeader(SECRET, NOW_S, body) },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(deps.queued).toHaveLength(1);
  });

  it('verifies over the decoded bytes of a base64-encoded API Gateway body', async () => {
    const deps = fakeDeps({ nowMs: NOW_MS });
    const handler = makeHandler(deps);
    const response = await handler(
      proxyEvent({
        path,
        body,
        base64: true,
        headers: { 'x-recharge-hmac-sha256': rechargeLegacy(SECRET, body) },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(Buffer.from(deps.queued[0]?.body ?? '')).toEqual(body);
  });

  it('answers 401 naming the failure, without the expected signature or secret', async () => {
    const deps = fakeDeps({ nowMs: NOW_MS });
    const handler = makeHandler(deps);
    const response = await handler(
      proxyEvent({
        path,
        body,
        headers: { 'x-recharge-webhook-signature': `t=${NOW_S},v1=${'0'.repeat(64)}` },
      }),
    );
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toEqual({ error: 'bad signature' });
    expect(response.body).not.toContain(rechargeV1(SECRET, NOW_S, body));
    expect(response.body).not.toContain(SECRET);
    expect(deps.queued).toHaveLength(0);
  });
});

describe('ReCharge with requireTimestamp (RECHARGE_REQUIRE_TIMESTAMP)', () => {
  const strict = (headers: Record<string, string>) =>
    verifyRechargeSignature(headers, body, { ...options, requireTimestamp: true });

  it('refuses a request signed only with the valid legacy header', () => {
    expect(strict({ 'x-recharge-hmac-sha256': rechargeLegacy(SECRET, body) })).toEqual({
      ok: false,
      reason: 'timestamped signature required',
    });
  });

  it('still accepts the timestamped header, with or without the legacy one beside it', () => {
    const header = rechargeSignatureHeader(SECRET, NOW_S, body);
    expect(strict({ 'x-recharge-webhook-signature': header }).ok).toBe(true);
    expect(
      strict({
        'x-recharge-webhook-signature': header,
        'x-recharge-hmac-sha256': rechargeLegacy(SECRET, body),
      }).ok,
    ).toBe(true);
  });

  it('answers 401 through the handler and logs the reason', async () => {
    const deps = fakeDeps({ nowMs: NOW_MS });
    const handler = makeHandler({ ...deps, settings: { ...deps.settings, rechargeRequireTimestamp: true } });
    const response = await handler(
      proxyEvent({
        path: '/webhooks/recharge/order/created',
        body: body.toString('utf8'),
        headers: { 'X-Recharge-Hmac-Sha256': rechargeLegacy(SECRET, body) },
      }),
    );
    expect(response.statusCode).toBe(401);
    expect(deps.queued).toHaveLength(0);
    expect(deps.log.lines).toContainEqual(
      expect.objectContaining({
        message: 'webhook',
        extra: expect.objectContaining({ statusCode: 401, reason: 'timestamped signature required' }),
      }),
    );
  });
});
