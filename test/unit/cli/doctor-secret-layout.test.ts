import { secretLayoutAdvice } from '../../../scripts/cli/doctor';
import { parseSecrets } from '../../../shared/config';

const webhookKeys = {
  RECHARGE_WEBHOOK_SECRETS: 'webhook-secret-00000001',
  SEVI_WEBHOOK_TOKENS: 'sevi-token-00000001',
};
const apiKeys = {
  RECHARGE_API_TOKEN: 'api-token',
  ORDER_SYSTEM_SECRET: 'order-system-secret-0123456789abcdef',
};

describe('doctor: the move from one secret to two', () => {
  it('warns about a one-secret stack, naming the setting and the doc section', () => {
    const advice = secretLayoutAdvice({
      webhook: parseSecrets({ ...webhookKeys, ...apiKeys }),
      api: undefined,
    });
    expect(advice).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('ingest can read the API credentials'),
    });
    expect(advice.fix).toContain('combinedSecret=true');
    expect(advice.fix).toContain('Moving from one secret to two');
  });

  it('says what to move first while the API secret is still empty, never printing a value', () => {
    const advice = secretLayoutAdvice({
      webhook: parseSecrets({ ...webhookKeys, ...apiKeys }),
      api: parseSecrets({}),
    });
    expect(advice.status).toBe('warn');
    expect(advice.fix).toMatch(/^put RECHARGE_API_TOKEN, ORDER_SYSTEM_SECRET into ApiSecretArn/);
    expect(JSON.stringify(advice)).not.toContain('api-token');
  });

  it('asks to remove the copies from SecretArn once they are in ApiSecretArn', () => {
    const advice = secretLayoutAdvice({
      webhook: parseSecrets({ ...webhookKeys, ...apiKeys }),
      api: parseSecrets(apiKeys),
    });
    expect(advice.fix).toMatch(/^remove RECHARGE_API_TOKEN, ORDER_SYSTEM_SECRET from SecretArn/);
  });

  it('is content when each secret holds only its own keys', () => {
    expect(
      secretLayoutAdvice({ webhook: parseSecrets(webhookKeys), api: parseSecrets(apiKeys) }).status,
    ).toBe('ok');
  });
});
