import { makeHandler } from '../../functions/ingest/handler';
import { makeSecretsProvider } from '../../shared/secrets';
import {
  FAKE_SECRET_ARN,
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '../support/fake-secrets-manager';
import { fakeDeps, proxyEvent } from '../support/signing';

/** A secret that is not valid JSON (an operator pasted a token, or broke a quote). */
const BROKEN_SECRET = '{"SEVI_WEBHOOK_TOKENS": sv_live_9b1f4e7a2c }';
/** Node quotes a fragment of an unparsable JSON input in its SyntaxError: none of it may leak. */
const FRAGMENT = 'sv_live_9b';

let secretsManager: FakeSecretsManager;

beforeAll(async () => {
  // GetSecretValue answers the broken string.
  secretsManager = await startFakeSecretsManager(BROKEN_SECRET);
});
afterAll(async () => {
  await secretsManager.close();
});

describe('ingest with an unparsable credentials secret', () => {
  it('answers 503 and logs the failure without any fragment of the secret', async () => {
    const deps = fakeDeps();
    const getSecrets = makeSecretsProvider({
      SECRET_ARN: FAKE_SECRET_ARN,
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
    secretsManager.secretString = JSON.stringify({ SEVI_WEBHOOK_TOKENS: 'sv_live_valid_token' });
    const deps = fakeDeps();
    const getSecrets = makeSecretsProvider({
      // Another ARN: Powertools caches values by name.
      SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:order-webhooks-valid',
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
