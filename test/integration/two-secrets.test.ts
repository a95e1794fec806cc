import { makeSecretsProvider } from '../../shared/secrets';
import { type MotoSecrets, startMotoSecrets } from '../support/moto';

jest.setTimeout(60_000);

/**
 * Two secrets: each function reads its own (SECRET_ARN); while a one-secret deployment moves, the
 * worker and reconciler also read the old combined secret (COMBINED_SECRET_ARN) for what theirs lacks.
 */
// One secret per test, so no case reads a value another case left.
const api = (n: number, value: string) => secretsManager.put(`two-secrets-api-${n}`, value);
let COMBINED: string;
const OLD_LAYOUT = JSON.stringify({
  RECHARGE_WEBHOOK_SECRETS: ['combined-webhook-secret-0001'],
  RECHARGE_API_TOKEN: 'combined-api-token',
  ORDER_SYSTEM_SECRET: 'combined-order-system-secret-0123456789',
});

let secretsManager: MotoSecrets;
beforeAll(async () => {
  secretsManager = await startMotoSecrets();
  COMBINED = await secretsManager.put('two-secrets-combined', OLD_LAYOUT);
});
afterAll(() => secretsManager.close());

const read = (source: { SECRET_ARN: string; COMBINED_SECRET_ARN?: string }) =>
  makeSecretsProvider({ ...source, SECRET_MAX_AGE_SECONDS: 1 }, {})();

describe('two secrets', () => {
  it('a one-secret deployment keeps working while it moves: an empty API secret reads as the combined one', async () => {
    const secrets = await read({ SECRET_ARN: await api(1, '{}'), COMBINED_SECRET_ARN: COMBINED });
    expect(secrets.RECHARGE_API_TOKEN).toBe('combined-api-token');
    expect(secrets.ORDER_SYSTEM_SECRET).toBe('combined-order-system-secret-0123456789');
  });

  it('takes each key from the API secret once it is there', async () => {
    const arn = await api(2, JSON.stringify({ RECHARGE_API_TOKEN: 'moved-api-token' }));
    const secrets = await read({ SECRET_ARN: arn, COMBINED_SECRET_ARN: COMBINED });
    expect(secrets.RECHARGE_API_TOKEN).toBe('moved-api-token');
    expect(secrets.ORDER_SYSTEM_SECRET).toBe('combined-order-system-secret-0123456789');
  });

  it('reads only its own secret without the combined one (the default layout)', async () => {
    const arn = await api(3, JSON.stringify({ RECHARGE_API_TOKEN: 'api-token-only' }));
    const secrets = await read({ SECRET_ARN: arn });
    expect(secrets.RECHARGE_API_TOKEN).toBe('api-token-only');
    // Nothing of the combined secret: the order-system secret and webhook secrets it holds stay out.
    expect(secrets.ORDER_SYSTEM_SECRET).toBeUndefined();
    expect(secrets.RECHARGE_WEBHOOK_SECRETS).toEqual([]);
  });

  it('reads a secret in the region its ARN names, not in the SDK default one (the CLI against a stack elsewhere)', async () => {
    const saved = process.env.AWS_REGION;
    process.env.AWS_REGION = 'us-east-1';
    try {
      const arn = await secretsManager.putIn(
        'eu-west-3',
        'two-secrets-elsewhere',
        JSON.stringify({ RECHARGE_API_TOKEN: 'token-in-paris' }),
      );
      expect(arn).toContain(':eu-west-3:');
      const secrets = await read({ SECRET_ARN: arn });
      expect(secrets.RECHARGE_API_TOKEN).toBe('token-in-paris');
    } finally {
      if (saved === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = saved;
    }
  });
});
