import { generateKeyPairSync } from 'node:crypto';
import { assertLocalSettings, wixPublicKeyProblem } from '../../../scripts/local/preflight';

describe('WIX_CASHIER_PAY_PUBLIC_KEY in the settings check', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

  it('accepts an RSA public key, also with literal \\n escapes, and no key at all', () => {
    expect(wixPublicKeyProblem(publicPem)).toBeUndefined();
    expect(wixPublicKeyProblem(publicPem.replace(/\n/g, '\\n'))).toBeUndefined();
    expect(wixPublicKeyProblem(undefined)).toBeUndefined();
    expect(wixPublicKeyProblem('')).toBeUndefined();
  });

  it.each([
    ['not a PEM', 'notapem', 'expected a PEM RSA public key'],
    ['a private key', privatePem, 'not a private key'],
    ['an EC key (RS256 needs RSA)', ecPem, 'expected a PEM RSA public key'],
  ])('refuses %s, naming the variable and never its value', (_case, pem, message) => {
    const problem = wixPublicKeyProblem(pem);

    expect(problem).toMatch(/^WIX_CASHIER_PAY_PUBLIC_KEY: /);
    expect(problem).toContain(message);
    expect(problem).not.toContain(
      pem
        .replace(/-----[^-]+-----/g, '')
        .trim()
        .slice(0, 16),
    );
  });

  it('fails the whole check before anything starts', () => {
    expect(() => assertLocalSettings({ WIX_CASHIER_PAY_PUBLIC_KEY: 'notapem' })).toThrow(
      'WIX_CASHIER_PAY_PUBLIC_KEY: expected a PEM RSA public key',
    );
  });
});
