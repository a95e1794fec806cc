import { createServer, isIP } from 'node:net';
import { envProblems, ingestEnvSchema, workerEnvProblems } from '../../shared/config';
import { ConfigError } from '../../shared/errors';
import { publicKeyFromPem } from '../../shared/providers/wix-cashier-pay/jwt';

/**
 * Checks, before anything starts, every setting the local mode and both functions will read, so
 * a typo exits at once naming each bad variable instead of starting and failing every batch.
 */

/** Values the local mode fills in itself (queues, tables, endpoints): stand-ins for the check. */
const PROVIDED_BY_LOCAL_MODE = {
  QUEUE_URL: 'http://127.0.0.1/queue',
  DLQ_URL: 'http://127.0.0.1/dlq',
  IDEMPOTENCY_TABLE: 'idempotency',
  ORDERS_TABLE: 'orders',
  SQS_ENDPOINT: 'http://127.0.0.1:1',
  DYNAMODB_ENDPOINT: 'http://127.0.0.1:1',
};

/** The worker keeps 5 s of its timeout as a safety margin; below this it has no time to work. */
export const MIN_WORKER_TIMEOUT_SECONDS = 6;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** A host name or IP literal; dotted all-digit names (999.1.1.1) must be valid IPv4. */
export function isValidHost(host: string): boolean {
  if (isIP(host)) return true;
  if (/^[\d.]+$/.test(host)) return false;
  return host.length <= 253 && host.split('.').every((label) => LABEL.test(label));
}

export interface LocalOverrides {
  port?: number;
  host?: string;
}

/**
 * WIX_CASHIER_PAY_PUBLIC_KEY, when set: a PEM RSA public key (as the ingest parses it). A bad one
 * would start and then refuse every JWT-signed Wix hook, so it is named before anything starts.
 */
export function wixPublicKeyProblem(pem: string | undefined): string | undefined {
  if (pem === undefined || pem.trim() === '') return undefined;
  const expected = 'WIX_CASHIER_PAY_PUBLIC_KEY: expected a PEM RSA public key (-----BEGIN PUBLIC KEY-----';
  if (pem.includes('PRIVATE KEY')) return `${expected}), not a private key`;
  try {
    publicKeyFromPem(pem);
    return undefined;
  } catch {
    return `${expected}; \\n escapes allowed)`;
  }
}

/** Every problem of the local-mode settings, one `NAME: expectation` each. */
export function localSettingsProblems(env: NodeJS.ProcessEnv, overrides: LocalOverrides = {}): string[] {
  const problems: string[] = [];
  const int = (name: string, min: number, max = Number.MAX_SAFE_INTEGER, why = '') => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(
        `${name}: expected an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`}${why}`,
      );
  };
  if (overrides.port === undefined) int('PORT', 0, 65535);
  int('LOCAL_BATCH_SIZE', 1, 10_000);
  int('LOCAL_CONCURRENCY', 1, 1000);
  int('LOCAL_VISIBILITY_TIMEOUT_SECONDS', 1, 43_200);
  int('LOCAL_MAX_RECEIVE_COUNT', 1, 1000);
  int(
    'LOCAL_WORKER_TIMEOUT_SECONDS',
    MIN_WORKER_TIMEOUT_SECONDS,
    900,
    ' (the worker keeps 5 s of it as a safety margin)',
  );
  int('LOCAL_WAIT_TIME_SECONDS', 0, 20);
  int('LOCAL_FAKE_RECHARGE_LATENCY_MS', 0);
  const pemProblem = wixPublicKeyProblem(env.WIX_CASHIER_PAY_PUBLIC_KEY);
  if (pemProblem) problems.push(pemProblem);
  const host = overrides.host ?? env.HOST;
  if (host && !isValidHost(host))
    problems.push(`${overrides.host ? '--host' : 'HOST'}: expected an IP address or host name`);
  return problems;
}

/**
 * All settings problems of a local run: the local mode's own, the worker's and the ingest's
 * (with the values the local mode provides filled in). Throws one ConfigError listing each.
 */
export function assertLocalSettings(env: NodeJS.ProcessEnv, overrides: LocalOverrides = {}): void {
  const functionEnv = { ...env, ...PROVIDED_BY_LOCAL_MODE };
  const problems = [
    ...localSettingsProblems(env, overrides),
    ...workerEnvProblems(functionEnv),
    ...envProblems(ingestEnvSchema, functionEnv),
  ];
  const unique = [...new Set(problems)];
  if (unique.length > 0)
    throw new ConfigError(`invalid settings:\n${unique.map((problem) => `  ${problem}`).join('\n')}`);
}

/**
 * Binds host:port for a moment before the emulators start, so a busy port or an address this
 * machine does not have is reported at once (naming the variable), not after the slow start.
 */
export async function assertCanListen(
  port: number,
  host: string,
  names: { port: string; host: string },
  timeoutMs = 1000,
): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ConfigError(`${names.host}: could not resolve ${host} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      server.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (error.code === 'EADDRINUSE')
          reject(
            new ConfigError(`${names.port}: port ${port} is in use; choose another (0 = any free port)`),
          );
        else if (error.code === 'EACCES')
          reject(new ConfigError(`${names.port}: port ${port} needs privileges; use one above 1023`));
        else
          reject(new ConfigError(`${names.host}: cannot listen on ${host} (${error.code ?? error.message})`));
      });
      server.listen(port, host, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  }
}
