import { makeSecretsProvider } from '../../shared/secrets';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager';

/**
 * Two secrets: each function reads its own (SECRET_ARN); while a one-secret deployment moves, the
 * worker and reconciler also read the old combined secret (COMBINED_SECRET_ARN) for what theirs lacks.
 */
// One ARN per test: Powertools caches each secret by its id.
const api = (n: number) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:api-${n}-AbCdEf`;
const COMBINED = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:combined-AbCdEf';
const OLD_LAYOUT = JSON.stringify({
  RECHARGE_WEBHOOK_SECRETS: ['combined-webhook-secret-0001'],
  RECHARGE_API_TOKEN: 'combined-api-token',
  ORDER_SYSTEM_SECRET: 'combined-order-system-secret-0123456789',
});

let secretsManager: FakeSecretsManager;
beforeAll(async () => {
  secretsManager = await startFakeSecretsManager('{}');
  secretsManager.byId[COMBINED] = OLD_LAYOUT;
});
afterAll(() => secretsManager.close());

const read = (source: { SECRET_ARN: string; COMBINED_SECRET_ARN?: string }) =>
  makeSecretsProvider({ ...source, SECRET_MAX_AGE_SECONDS: 1 }, {})();

describe('two secrets', () => {
  it('a one-secret deployment keeps working while it moves: an empty API secret reads as the combined one', async () => {
    secretsManager.byId[api(1)] = '{}';
    const secrets = await read({ SECRET_ARN: api(1), COMBINED_SECRET_ARN: COMBINED });
    expect(secrets.RECHARGE_API_TOKEN).toBe('combined-api-token');
    expect(secrets.ORDER_SYSTEM_SECRET).toBe('combined-order-system-secret-0123456789');
  });

  it('takes each key from the API secret once it is there', async () => {
    secretsManager.byId[api(2)] = JSON.stringify({ RECHARGE_API_TOKEN: 'moved-api-token' });
    const secrets = await read({ SECRET_ARN: api(2), COMBINED_SECRET_ARN: COMBINED });
    expect(secrets.RECHARGE_API_TOKEN).toBe('moved-api-token');
    expect(secrets.ORDER_SYSTEM_SECRET).toBe('combined-order-system-secret-0123456789');
  });

  it('reads only its own secret without the combined one (the default layout)', async () => {
    secretsManager.byId[api(3)] = JSON.stringify({ RECHARGE_API_TOKEN: 'api-token-only' });
    const before = secretsManager.requests.length;
    const secrets = await read({ SECRET_ARN: api(3) });
    expect(secrets.RECHARGE_API_TOKEN).toBe('api-token-only');
    expect(secrets.RECHARGE_WEBHOOK_SECRETS).toEqual([]);
    expect(secretsManager.requests.length - before).toBe(1);
  });
});
