import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../shared/errors';
import { makeSecretsProvider } from '../../shared/secrets';
import { type MotoSecrets, startMotoSecrets } from '../support/moto';

jest.setTimeout(60_000);

/**
 * The credentials a function reads from Secrets Manager are kept SECRET_MAX_AGE_SECONDS: every
 * webhook within that time is answered without a GetSecretValue (each one is billed), a rotation is
 * picked up after it. Counted with the test-only call recorder (shared/aws/call-recorder.ts).
 */
let secretsManager: MotoSecrets;
let dir: string;
beforeAll(async () => {
  secretsManager = await startMotoSecrets();
  dir = mkdtempSync(path.join(tmpdir(), 'secret-cache-'));
});
afterAll(async () => {
  await secretsManager?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TOKEN_1 = 'sv_live_token_first_0001';
const TOKEN_2 = 'sv_live_token_rotated_02';
const secretOf = (token: string) => JSON.stringify({ SEVI_WEBHOOK_TOKENS: [token] });

function provider(arn: string, name: string, maxAgeSeconds: number) {
  const file = path.join(dir, `${name}.jsonl`);
  const getSecrets = makeSecretsProvider(
    { SECRET_ARN: arn, SECRET_MAX_AGE_SECONDS: maxAgeSeconds, AWS_CALL_RECORD_FILE: file },
    {},
    'ingest',
  );
  const calls = () => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  return { getSecrets, calls };
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, boundMs = 20_000) {
  const until = Date.now() + boundMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('credentials read from Secrets Manager', () => {
  it('answers from one read within the max age: a rotation is not seen yet, and no second request', async () => {
    const arn = await secretsManager.put('secret-cache-kept', secretOf(TOKEN_1));
    const { getSecrets, calls } = provider(arn, 'kept', 300);

    expect((await getSecrets()).SEVI_WEBHOOK_TOKENS).toEqual([TOKEN_1]);
    await secretsManager.put('secret-cache-kept', secretOf(TOKEN_2));
    expect((await getSecrets()).SEVI_WEBHOOK_TOKENS).toEqual([TOKEN_1]);
    expect(calls()).toBe(1);
  });

  it('reads the rotated value once the max age has passed', async () => {
    const arn = await secretsManager.put('secret-cache-rotation', secretOf(TOKEN_1));
    const { getSecrets, calls } = provider(arn, 'rotation', 1);

    expect((await getSecrets()).SEVI_WEBHOOK_TOKENS).toEqual([TOKEN_1]);
    await secretsManager.put('secret-cache-rotation', secretOf(TOKEN_2));
    const rotated = await eventually(getSecrets, (s) => s.SEVI_WEBHOOK_TOKENS[0] === TOKEN_2);
    expect(rotated.SEVI_WEBHOOK_TOKENS).toEqual([TOKEN_2]);
    expect(calls()).toBeGreaterThanOrEqual(2);
  });

  it('shares one read between callers that arrive while it is in flight', async () => {
    const arn = await secretsManager.put('secret-cache-concurrent', secretOf(TOKEN_1));
    const { getSecrets, calls } = provider(arn, 'concurrent', 300);

    const all = await Promise.all([getSecrets(), getSecrets(), getSecrets()]);
    expect(all.map((s) => s.SEVI_WEBHOOK_TOKENS)).toEqual([[TOKEN_1], [TOKEN_1], [TOKEN_1]]);
    expect(calls()).toBe(1);
  });

  it('keeps a broken value for the max age too: one read, every caller refused', async () => {
    const arn = await secretsManager.put('secret-cache-broken', '{"SEVI_WEBHOOK_TOKENS": not json');
    const { getSecrets, calls } = provider(arn, 'broken', 300);

    await expect(getSecrets()).rejects.toThrow(ConfigError);
    await expect(getSecrets()).rejects.toThrow('secret is empty or not a JSON object');
    expect(calls()).toBe(1);
  });
});
