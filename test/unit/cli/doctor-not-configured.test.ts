import { DOCTOR_CHECKS, type DoctorContext } from '../../../scripts/cli/doctor';
import { parseSecrets } from '../../../shared/config';

const check = DOCTOR_CHECKS.find((c) => c.name === 'credential keys present');
const ctx = (secrets: Record<string, unknown>) =>
  ({
    target: { kind: 'aws' },
    env: {},
    devCredentials: [],
    secrets: async () => parseSecrets(secrets, 'secret'),
  }) as unknown as DoctorContext;

describe('doctor: credentials of a fresh deployment', () => {
  it('reports an empty secret (the stack creates it as {}) as "not configured yet", with the step to take', async () => {
    const result = await check?.run(ctx({}));

    expect(result).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('not configured yet'),
      fix: expect.stringContaining('Fill the secret'),
    });
  });

  it('names what is missing once something is configured', async () => {
    const result = await check?.run(ctx({ RECHARGE_API_TOKEN: 'a-recharge-token-of-32-characters' }));

    expect(result?.detail).toMatch(/^missing: RECHARGE_WEBHOOK_SECRETS/);
  });
});
