import { ConfigError } from './errors';
import { wixPublicKeyProblem } from './providers/wix-cashier-pay/jwt';

/*
 * Provider credentials, re-exported by ./config. Plain code, no schema library: every function
 * parses credentials, and the ingest keeps zod off its cold start (docs/benchmarks.md, ingest Init).
 */

/** Shortest accepted webhook secret or token: shorter ones can be guessed (and catch typos like "" or "x"). */
export const MIN_TOKEN_CHARS = 16;

/** Shortest ORDER_SYSTEM_SECRET: an HMAC key the order system checks, 32 characters (256 bits of hex). */
export const MIN_ORDER_SYSTEM_SECRET_CHARS = 32;

/** Provider credentials: environment variables locally, keys of the JSON secret in AWS (parseSecrets). */
export interface Secrets {
  RECHARGE_WEBHOOK_SECRETS: string[];
  RECHARGE_API_TOKEN?: string | undefined;
  WIX_CASHIER_PAY_TOKENS: string[];
  WIX_CASHIER_PAY_PUBLIC_KEY?: string | undefined;
  SEVI_WEBHOOK_TOKENS: string[];
  ORDER_SYSTEM_SECRET?: string | undefined;
}

/**
 * Credential names, in the order a problem report lists them: the environment variables locally,
 * and the keys of the JSON secret in AWS. Lists (`string[]` in Secrets) and single strings.
 */
const SECRET_FIELDS = {
  RECHARGE_WEBHOOK_SECRETS: 'list',
  RECHARGE_API_TOKEN: 'string',
  WIX_CASHIER_PAY_TOKENS: 'list',
  WIX_CASHIER_PAY_PUBLIC_KEY: 'string',
  SEVI_WEBHOOK_TOKENS: 'list',
  ORDER_SYSTEM_SECRET: 'string',
} as const satisfies { [K in keyof Secrets]-?: Secrets[K] extends string[] ? 'list' : 'string' };
export const SECRET_KEYS = Object.keys(SECRET_FIELDS) as (keyof Secrets)[];

/**
 * Parses credentials from the environment (`from: 'env'`, lists comma-separated) or the secret's
 * JSON (`'secret'`, lists as arrays, a string is one entry), naming keys on failure, never values.
 * A list is a string or an array of strings; in the environment a string is split on commas, in the
 * secret's JSON a string is ONE entry (a token may contain a comma: splitting it would turn one
 * token into several, each accepted alone). Entries are trimmed; each must be at least
 * MIN_TOKEN_CHARS long. Plain code rather than a schema: every function parses credentials, and
 * the ingest's cold start pays for each schema it builds (docs/benchmarks.md).
 */
export function parseSecrets(source: Record<string, unknown>, from: 'env' | 'secret' = 'env'): Secrets {
  const parsed: Record<string, unknown> = {};
  // Named by key with a fixed hint, never the value.
  const problems = new Set<string>();
  for (const key of SECRET_KEYS) {
    const value = source[key];
    const present = value !== undefined && value !== '';
    if (SECRET_FIELDS[key] === 'string') {
      if (!present) continue;
      if (typeof value !== 'string') problems.add(key);
      else if (key === 'ORDER_SYSTEM_SECRET' && value.length < MIN_ORDER_SYSTEM_SECRET_CHARS)
        problems.add(`ORDER_SYSTEM_SECRET (shorter than ${MIN_ORDER_SYSTEM_SECRET_CHARS} characters)`);
      else parsed[key] = value;
      continue;
    }
    if (!present) {
      parsed[key] = [];
      continue;
    }
    const entries =
      typeof value === 'string'
        ? from === 'env'
          ? value.split(',')
          : [value]
        : Array.isArray(value) && value.every((entry) => typeof entry === 'string')
          ? (value as string[])
          : undefined;
    if (!entries) problems.add(key);
    else if (entries.some((entry) => entry.trim().length < MIN_TOKEN_CHARS))
      problems.add(`${key} (an entry is empty or shorter than ${MIN_TOKEN_CHARS} characters)`);
    else parsed[key] = entries.map((entry) => entry.trim());
  }
  if (problems.size) throw new ConfigError(`invalid credentials: ${[...problems].join(', ')}`);
  const secrets = parsed as unknown as Secrets;
  const keyProblem = secrets.WIX_CASHIER_PAY_PUBLIC_KEY
    ? wixPublicKeyProblem(secrets.WIX_CASHIER_PAY_PUBLIC_KEY)
    : undefined;
  if (keyProblem) throw new ConfigError(`invalid credentials: WIX_CASHIER_PAY_PUBLIC_KEY (${keyProblem})`);
  return Object.freeze(secrets);
}
