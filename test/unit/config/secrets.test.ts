import { MIN_TOKEN_CHARS, parseSecrets } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';

const A = 'token-aaaaaaaaaaaa';
const B = 'token-bbbbbbbbbbbb';

describe('credential lists', () => {
  it('splits a comma-separated environment variable into tokens', () => {
    expect(parseSecrets({ WIX_CASHIER_PAY_TOKENS: `${A}, ${B}` }).WIX_CASHIER_PAY_TOKENS).toEqual([A, B]);
  });

  it('takes a JSON array from the secret as the list', () => {
    expect(parseSecrets({ SEVI_WEBHOOK_TOKENS: [A, B] }, 'secret').SEVI_WEBHOOK_TOKENS).toEqual([A, B]);
  });

  it('takes a string from the secret as one token, commas included', () => {
    expect(
      parseSecrets({ RECHARGE_WEBHOOK_SECRETS: `${A},${B}` }, 'secret').RECHARGE_WEBHOOK_SECRETS,
    ).toEqual([`${A},${B}`]);
  });

  it.each([
    [
      'env, short entry',
      { WIX_CASHIER_PAY_TOKENS: `${A},x1y2z3` },
      'env',
      'WIX_CASHIER_PAY_TOKENS',
      'x1y2z3',
    ],
    ['env, empty entry', { SEVI_WEBHOOK_TOKENS: `${A},,${B}` }, 'env', 'SEVI_WEBHOOK_TOKENS', undefined],
    [
      'secret, short entry',
      { SEVI_WEBHOOK_TOKENS: [A, 'tiny-secret'] },
      'secret',
      'SEVI_WEBHOOK_TOKENS',
      'tiny-secret',
    ],
    [
      'secret, empty entry',
      { RECHARGE_WEBHOOK_SECRETS: [A, ''] },
      'secret',
      'RECHARGE_WEBHOOK_SECRETS',
      undefined,
    ],
    [
      'secret, short string',
      { WIX_CASHIER_PAY_TOKENS: 'abc,def' },
      'secret',
      'WIX_CASHIER_PAY_TOKENS',
      'abc',
    ],
  ] as const)(
    'refuses %s with a ConfigError naming the key, never the value',
    (_name, source, from, key, value) => {
      let error: unknown;
      try {
        parseSecrets(source, from);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(key);
      expect((error as Error).message).toContain(`shorter than ${MIN_TOKEN_CHARS} characters`);
      if (value) expect((error as Error).message).not.toContain(value);
    },
  );

  it('treats an unset or empty variable as no tokens', () => {
    expect(parseSecrets({ SEVI_WEBHOOK_TOKENS: '' }).SEVI_WEBHOOK_TOKENS).toEqual([]);
  });

  it('trims each entry and keeps the keys in their order, lists defaulting to none', () => {
    expect(parseSecrets({ SEVI_WEBHOOK_TOKENS: [` ${A} `], RECHARGE_API_TOKEN: 'api' }, 'secret')).toEqual({
      RECHARGE_WEBHOOK_SECRETS: [],
      RECHARGE_API_TOKEN: 'api',
      WIX_CASHIER_PAY_TOKENS: [],
      SEVI_WEBHOOK_TOKENS: [A],
    });
  });

  it("names each key of the wrong type once, in the keys' order, with no value", () => {
    expect(() =>
      parseSecrets(
        {
          ORDER_SYSTEM_SECRET: ['order-system-secret-in-a-list-0001'],
          SEVI_WEBHOOK_TOKENS: [A, 42],
          RECHARGE_WEBHOOK_SECRETS: { token: A },
          RECHARGE_API_TOKEN: 7,
        },
        'secret',
      ),
    ).toThrow(
      new ConfigError(
        'invalid credentials: RECHARGE_WEBHOOK_SECRETS, RECHARGE_API_TOKEN, SEVI_WEBHOOK_TOKENS, ORDER_SYSTEM_SECRET',
      ),
    );
  });

  it('refuses a short order-system secret with its own hint', () => {
    expect(() => parseSecrets({ ORDER_SYSTEM_SECRET: 'too-short-for-hmac' })).toThrow(
      'invalid credentials: ORDER_SYSTEM_SECRET (shorter than 32 characters)',
    );
  });
});
