import fc from 'fast-check';
import { makeHandler } from '../../../functions/ingest/handler';
import { parseSecrets } from '../../../shared/config';
import type { QueuedWebhook } from '../../../shared/queue/message';
import { fakeDeps, proxyEvent, rechargeLegacy, rechargeV1 } from '../../support/signing';

const NOW_MS = 1_750_000_000_000;
const NOW_S = NOW_MS / 1000;
const WINDOW = 3600;

const secretArb = fc.stringMatching(/^[A-Za-z0-9_.~-]{16,40}$/);
const secretsArb = fc.uniqueArray(secretArb, { minLength: 1, maxLength: 3 });
const wellFormedArb = fc.oneof(
  fc.record({ order: fc.record({ id: fc.nat(), status: fc.string({ maxLength: 10 }) }) }),
  fc.record({
    type: fc.constant('TRANSACTION'),
    transactionEvent: fc.record({ orderId: fc.string({ minLength: 1 }), transactionId: fc.string() }),
  }),
  fc.record({ type: fc.string({ minLength: 1, maxLength: 12 }) }),
);
const bodyArb = fc.oneof(
  { weight: 4, arbitrary: wellFormedArb.map((o) => Buffer.from(JSON.stringify(o))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
);
const pathArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '/webhooks/recharge',
      '/webhooks/recharge/order/created',
      '/webhooks/recharge/order/updated',
      '/webhooks/recharge/subscription/created',
      '/webhooks/sevi',
      '/prod/webhooks/sevi',
      '/webhooks/wix-cashier-pay/',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.string({ maxLength: 30 }).map((s) => `/webhooks/wix-cashier-pay/${encodeURIComponent(s)}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const headerNameArb = fc.constantFrom(
  'X-Recharge-Webhook-Signature',
  'x-recharge-hmac-sha256',
  'X-Recharge-Topic',
  'Authorization',
  'Content-Length',
  'content-type',
);
const headersArb = fc.dictionary(headerNameArb, fc.string({ maxLength: 120 }), { maxKeys: 2 });

/** How the generated request is signed: not at all, with a configured secret, or with another one. */
const signingArb = fc.record({
  mode: fc.constantFrom(
    'none',
    'v1-good',
    'v1-other',
    'legacy-good',
    'legacy-other',
    'v1-other+legacy-good',
    'token-good',
    'token-other',
  ),
  secretIndex: fc.nat(2),
  other: secretArb,
  skew: fc.integer({ min: -2 * WINDOW, max: 2 * WINDOW }),
  bearer: fc.boolean(),
  flipByte: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
});

type Generated = typeof generatedArb extends fc.Arbitrary<infer T> ? T : never;

function build(g: Generated) {
  const headers = { ...g.headers };
  const pick = (list: string[]) => list[g.signing.secretIndex % list.length] as string;
  const recharge = g.signing.mode.endsWith('-good') ? pick(g.recharge) : g.signing.other;
  const t = NOW_S + g.signing.skew;
  let path = g.path;
  switch (g.signing.mode) {
    case 'v1-good':
    case 'v1-other':
      headers['X-Recharge-Webhook-Signature'] = `t=${t},v1=${rechargeV1(recharge, t, g.body)}`;
      break;
    case 'legacy-good':
    case 'legacy-other':
      headers['X-Recharge-Hmac-Sha256'] = rechargeLegacy(recharge, g.body);
      break;
    case 'v1-other+legacy-good':
      // A failing new-style header must never fall back to a valid legacy one.
      headers['X-Recharge-Webhook-Signature'] = `t=${t},v1=${rechargeV1(g.signing.other, t, g.body)}`;
      headers['X-Recharge-Hmac-Sha256'] = rechargeLegacy(pick(g.recharge), g.body);
      break;
    case 'token-good':
    case 'token-other': {
      const token = g.signing.mode === 'token-good' ? pick(g.tokens) : g.signing.other;
      headers.Authorization = g.signing.bearer ? `Bearer ${token}` : token;
      if (g.path.includes('wix-cashier-pay')) path = `/webhooks/wix-cashier-pay/${encodeURIComponent(token)}`;
      break;
    }
  }
  // Optionally corrupt one byte after signing: such a request must never be queued.
  const body = Buffer.from(g.body);
  if (g.signing.flipByte !== undefined && body.length > 0) {
    const i = g.signing.flipByte % body.length;
    body[i] = (body[i] ?? 0) ^ 0x20;
  }
  return proxyEvent({ path, method: g.method, headers, body, base64: g.base64 });
}

/** Independent oracle: would this queued message pass the provider's check with the configured secrets? */
function authentic(webhook: QueuedWebhook, event: ReturnType<typeof proxyEvent>, g: Generated): boolean {
  const header = (name: string) =>
    Object.entries(event.headers).find(([k]) => k.toLowerCase() === name)?.[1] as string | undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '');
  if (!raw.equals(Buffer.from(webhook.body))) return false;
  if (webhook.provider === 'recharge') {
    const sig = header('x-recharge-webhook-signature');
    if (sig !== undefined) {
      const parts = Object.fromEntries(sig.split(',').map((p) => p.split('=').map((s) => s.trim())));
      const ts = Number(parts.t);
      return (
        Math.abs(NOW_S - ts) <= WINDOW &&
        g.recharge.some((s) => rechargeV1(s, parts.t as string, raw) === parts.v1)
      );
    }
    const legacy = header('x-recharge-hmac-sha256')?.trim().toLowerCase();
    return g.recharge.some((s) => rechargeLegacy(s, raw) === legacy);
  }
  if (webhook.provider === 'sevi') {
    const value = (header('authorization') ?? '').trim().replace(/^bearer\s+/i, '');
    return g.tokens.includes(value);
  }
  const token = decodeURIComponent(event.path.split('/').filter(Boolean).pop() ?? '');
  return g.tokens.includes(token);
}

const generatedArb = fc.record({
  recharge: secretsArb,
  tokens: secretsArb,
  path: pathArb,
  method: fc.oneof(
    { weight: 9, arbitrary: fc.constant('POST') },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT') },
  ),
  headers: headersArb,
  body: bodyArb,
  base64: fc.boolean(),
  signing: signingArb,
});

describe('ingest handler properties', () => {
  it('never throws, never answers 5xx while the queue works, and queues only authentic requests', async () => {
    const seen = { queued: 0, unauthorized: 0 };
    await fc.assert(
      fc.asyncProperty(generatedArb, async (g) => {
        const secrets = parseSecrets({
          RECHARGE_WEBHOOK_SECRETS: g.recharge.join(','),
          WIX_CASHIER_PAY_TOKENS: g.tokens.join(','),
          SEVI_WEBHOOK_TOKENS: g.tokens.join(','),
        });
        const deps = fakeDeps({ secrets, nowMs: NOW_MS, toleranceSeconds: WINDOW });
        const event = build(g);
        const response = await makeHandler(deps)(event);
        expect([200, 400, 401, 404, 405, 413]).toContain(response.statusCode);
        expect(response.headers?.['content-type']).toBe('application/json');
        const payload = JSON.parse(response.body) as Record<string, unknown>;
        for (const secret of [...g.recharge, ...g.tokens]) {
          if (secret.length >= 8) expect(response.body).not.toContain(secret);
        }
        if (response.statusCode === 401) seen.unauthorized++;
        if (deps.queued.length > 0) {
          seen.queued++;
          expect(deps.queued).toHaveLength(1);
          expect(response.statusCode).toBe(200);
          expect(payload.status).toBe('queued');
          expect(authentic(deps.queued[0] as QueuedWebhook, event, g)).toBe(true);
        } else if (response.statusCode === 200) {
          expect(payload).toEqual({ status: 'ignored' });
        }
      }),
      { numRuns: 1500 },
    );
    // The generator must reach both sides of the check, or the property proves nothing.
    expect(seen.queued).toBeGreaterThan(0);
    expect(seen.unauthorized).toBeGreaterThan(0);
  });

  it('answers 503 only when the queue failed, and then queues nothing', async () => {
    await fc.assert(
      fc.asyncProperty(generatedArb, fc.boolean(), async (g, queueDown) => {
        const secrets = parseSecrets({
          RECHARGE_WEBHOOK_SECRETS: g.recharge.join(','),
          WIX_CASHIER_PAY_TOKENS: g.tokens.join(','),
          SEVI_WEBHOOK_TOKENS: g.tokens.join(','),
        });
        let attempted = false;
        const deps = fakeDeps({
          secrets,
          nowMs: NOW_MS,
          toleranceSeconds: WINDOW,
          send: async () => {
            attempted = true;
            if (queueDown) throw new Error('queue down');
          },
        });
        const response = await makeHandler(deps)(build(g));
        if (response.statusCode >= 500) {
          expect(response.statusCode).toBe(503);
          expect(attempted && queueDown).toBe(true);
        }
        if (attempted && queueDown) expect(response.statusCode).toBe(503);
      }),
      { numRuns: 300 },
    );
  });

  it('queues any correctly signed ReCharge order body byte for byte', async () => {
    const orderArb = fc.record({
      order: fc.record({ id: fc.nat(), status: fc.string(), note: fc.string({ unit: 'grapheme' }) }),
    });
    await fc.assert(
      fc.asyncProperty(secretsArb, orderArb, fc.boolean(), async (keys, order, base64) => {
        const body = JSON.stringify(order);
        const secrets = parseSecrets({ RECHARGE_WEBHOOK_SECRETS: keys.join(',') });
        const deps = fakeDeps({ secrets, nowMs: NOW_MS });
        const secret = keys[keys.length - 1] as string;
        const event = proxyEvent({
          path: '/webhooks/recharge/order/created',
          body,
          base64,
          headers: { 'X-Recharge-Webhook-Signature': `t=${NOW_S},v1=${rechargeV1(secret, NOW_S, body)}` },
        });
        const response = await makeHandler(deps)(event);
        expect(response.statusCode).toBe(200);
        expect(deps.queued[0]?.body).toBe(body);
      }),
      { numRuns: 200 },
    );
  });

  it('queues a ReCharge order if and only if its signature verifies under a configured secret', async () => {
    const rechargeSigningArb = signingArb.filter((s) => !s.mode.startsWith('token'));
    await fc.assert(
      fc.asyncProperty(
        secretsArb,
        wellFormedArb.filter((o) => 'order' in o),
        rechargeSigningArb,
        fc.boolean(),
        async (keys, order, signing, base64) => {
          const g: Generated = {
            recharge: keys,
            tokens: ['unused-token-000000'],
            path: '/webhooks/recharge/order/created',
            method: 'POST',
            headers: {},
            body: Buffer.from(JSON.stringify(order)),
            base64,
            signing,
          };
          const deps = fakeDeps({
            secrets: parseSecrets({ RECHARGE_WEBHOOK_SECRETS: keys.join(',') }),
            nowMs: NOW_MS,
            toleranceSeconds: WINDOW,
          });
          const event = build(g);
          const response = await makeHandler(deps)(event);
          const expected = authentic(
            { provider: 'recharge', body: JSON.stringify(order) } as QueuedWebhook,
            event,
            g,
          );
          // A corrupted byte may also fail the body checks (UTF-8, SQS characters) before authentication.
          const refused = signing.flipByte === undefined ? [401] : [400, 401];
          if (expected) expect(response.statusCode).toBe(200);
          else expect(refused).toContain(response.statusCode);
          expect(deps.queued).toHaveLength(expected ? 1 : 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
