import { makeHandler } from '../../functions/ingest/handler';
import { makeSecretsProvider } from '../../shared/secrets';
import { type MotoSecrets, startMotoSecrets } from '../support/moto';
import { fakeDeps, proxyEvent } from '../support/signing';

jest.setTimeout(60_000);

/** A secret that is not valid JSON (an operator pasted a token, or broke a quote). */
const BROKEN_SECRET = '{"SEVI_WEBHOOK_TOKENS": sv_live_9b1f4e7a2c }';
/** Node quotes a fragment of an unparsable JSON input in its SyntaxError: none of it may leak. */
const FRAGMENT = 'sv_live_9b';

let secretsManager: MotoSecrets;
let brokenArn: string;

beforeAll(async () => {
  secretsManager = await startMotoSecrets();
  brokenArn = await secretsManager.put('order-webhooks-broken', BROKEN_SECRET);
});
afterAll(async () => {
  await secretsManager?.close();
});

describe('ingest with an unparsable credentials secret', () => {
  it('answers 503 and logs the failure without any fragment of the secret', async () => {
    const deps = fakeDeps();
    const getSecrets = makeSecretsProvider({
      SECRET_ARN: brokenArn,
      SECRET_MAX_AGE_SECONDS: 300,
    });
    const handler = makeHandler({
      ...deps,
      getSecrets,
      settings: { ...deps.settings, secretsTimeoutMs: 5000 },
    });
    const response = await handler(
      proxyEvent({ path: '/webhooks/sevi', body: '{"order":{"id":"1"}}', headers: { Authorization: 'x' } }),
    );

    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain(FRAGMENT);
    const logged = JSON.stringify(deps.log.lines);
    expect(logged).toContain('credentials unavailable');
    expect(logged).not.toContain(FRAGMENT);
    expect(deps.queued).toHaveLength(0);
  });

  it('reads a valid JSON secret (the same path, for contrast) and queues an authentic request', async () => {
    const arn = await secretsManager.put(
      'order-webhooks-valid',
      JSON.stringify({ SEVI_WEBHOOK_TOKENS: 'sv_live_valid_token' }),
    );
    const deps = fakeDeps();
    const getSecrets = makeSecretsProvider({
      SECRET_ARN: arn,
      SECRET_MAX_AGE_SECONDS: 300,
    });
    const handler = makeHandler({
      ...deps,
      getSecrets,
      settings: { ...deps.settings, secretsTimeoutMs: 5000 },
    });
    const response = await handler(
      proxyEvent({
        path: '/webhooks/sevi',
        body: '{"order":{"id":"1"}}',
        headers: { Authorization: 'Bearer sv_live_valid_token' },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(deps.queued).toHaveLength(1);
  });
});

describe('token lists in the secret', () => {
  async function seviWith(secret: Record<string, unknown>, arnSuffix: string, authorization: string) {
    // A secret per case: each case builds its own provider, but the secret names stay distinct.
    const arn = await secretsManager.put(`order-webhooks-${arnSuffix}`, JSON.stringify(secret));
    const deps = fakeDeps();
    const handler = makeHandler({
      ...deps,
      getSecrets: makeSecretsProvider({
        SECRET_ARN: arn,
        SECRET_MAX_AGE_SECONDS: 300,
      }),
      settings: { ...deps.settings, secretsTimeoutMs: 5000 },
    });
    const response = await handler(
      proxyEvent({
        path: '/webhooks/sevi',
        body: '{"order":{"id":"1"}}',
        headers: { Authorization: `Bearer ${authorization}` },
      }),
    );
    return { response, deps };
  }

  it('accepts each token of a JSON array', async () => {
    const secret = { SEVI_WEBHOOK_TOKENS: ['sv_live_token_new_0001', 'sv_live_token_old_0002'] };
    expect((await seviWith(secret, 'array-new', 'sv_live_token_new_0001')).response.statusCode).toBe(200);
    expect((await seviWith(secret, 'array-old', 'sv_live_token_old_0002')).response.statusCode).toBe(200);
  });

  it('takes a string with a comma as one token: the whole is accepted, its pieces are not', async () => {
    const token = 'sv_live_first_half,sv_live_second_half';
    const secret = { SEVI_WEBHOOK_TOKENS: token };
    expect((await seviWith(secret, 'comma-whole', token)).response.statusCode).toBe(200);
    const piece = await seviWith(secret, 'comma-piece', 'sv_live_first_half');
    expect(piece.response.statusCode).toBe(401);
    expect(piece.deps.queued).toHaveLength(0);
  });

  it('answers 503 for a token shorter than 16 characters, naming the key and never the value', async () => {
    const { response, deps } = await seviWith(
      { SEVI_WEBHOOK_TOKENS: ['sv_live_token_new_0001', 'short-tok'] },
      'short',
      'sv_live_token_new_0001',
    );
    expect(response.statusCode).toBe(503);
    expect(deps.queued).toHaveLength(0);
    const logged = JSON.stringify(deps.log.lines);
    expect(logged).toContain('SEVI_WEBHOOK_TOKENS');
    expect(logged).not.toContain('short-tok');
    expect(response.body).not.toContain('short-tok');
  });
});
