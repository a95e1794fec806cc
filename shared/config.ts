import * as z from 'zod';
import { ConfigError } from './errors';

/**
 * Configuration, validated once per cold start. Non-secret settings come from environment
 * variables; provider credentials come from one Secrets Manager secret (SECRET_ARN) in AWS, or
 * from environment variables of the same names for local runs and tests.
 */

const csv = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter(Boolean),
  );

const intFromEnv = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const optionalUrl = z.url().optional();

/** Credential names: the environment variables locally, and the keys of the JSON secret in AWS. */
export const secretsSchema = z.object({
  RECHARGE_WEBHOOK_SECRETS: csv.default([]),
  RECHARGE_API_TOKEN: z.string().optional(),
  WIX_CASHIER_PAY_TOKENS: csv.default([]),
  WIX_CASHIER_PAY_PUBLIC_KEY: z.string().optional(),
  SEVI_WEBHOOK_TOKENS: csv.default([]),
  ORDER_SYSTEM_SECRET: z.string().optional(),
});
export type Secrets = z.infer<typeof secretsSchema>;
export const SECRET_KEYS = Object.keys(secretsSchema.shape) as (keyof Secrets)[];

const awsSchema = z.object({
  AWS_REGION: z.string().default('us-east-1'),
  /** When set, credentials are read from this Secrets Manager secret instead of the environment. */
  SECRET_ARN: z.string().optional(),
  SECRET_MAX_AGE_SECONDS: intFromEnv(300, 1),
  /** Local emulators only; in AWS the SDK's regional endpoints are used. */
  SQS_ENDPOINT: optionalUrl,
  DYNAMODB_ENDPOINT: optionalUrl,
});

export const ingestEnvSchema = awsSchema.extend({
  QUEUE_URL: z.string().min(1),
  /** Largest message SQS accepts (body + attributes); larger webhooks get 413. */
  MAX_MESSAGE_BYTES: intFromEnv(1_048_576, 1024),
  RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: intFromEnv(172_800, 1),
  /** Whole budget for SendMessage, retries included: providers time out at 1.25 s (Wix) and 5 s. */
  QUEUE_SEND_TIMEOUT_MS: intFromEnv(700, 50),
});
export type IngestEnv = z.infer<typeof ingestEnvSchema>;

export const workerEnvSchema = awsSchema.extend({
  QUEUE_URL: z.string().min(1),
  DLQ_URL: z.string().min(1),
  IDEMPOTENCY_TABLE: z.string().min(1),
  ORDERS_TABLE: z.string().min(1),
  /** Completed delivery keys are remembered this long; ReCharge retries for 48 h. */
  IDEMPOTENCY_TTL_SECONDS: intFromEnv(259_200, 259_200),
  /** An in-progress record older than this is taken over (a crashed attempt). */
  IDEMPOTENCY_LEASE_SECONDS: intFromEnv(120, 1),
  ORDER_SYSTEM: z.enum(['ledger', 'http']).default('ledger'),
  ORDER_SYSTEM_URL: optionalUrl,
  ORDER_SYSTEM_TIMEOUT_MS: intFromEnv(5000, 100),
  ORDER_NUMBER_START: intFromEnv(1001, 1),
  RECHARGE_API_URL: z.url().default('https://api.rechargeapps.com'),
  RECHARGE_API_VERSION: z.enum(['2021-01', '2021-11']).default('2021-11'),
  RECHARGE_TIMEOUT_MS: intFromEnv(5000, 100),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/**
 * Parses `env` with `schema`; throws a ConfigError naming each bad variable (never its value).
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** Parses credentials from an object (environment or the secret's JSON), naming keys on failure. */
export function parseSecrets(source: Record<string, unknown>): Secrets {
  const picked: Record<string, unknown> = {};
  for (const key of SECRET_KEYS)
    if (source[key] !== undefined && source[key] !== '') picked[key] = source[key];
  const result = secretsSchema.safeParse(picked);
  if (!result.success) {
    const names = result.error.issues.map((issue) => String(issue.path[0]));
    throw new ConfigError(`invalid credentials: ${[...new Set(names)].join(', ')}`);
  }
  return Object.freeze(result.data);
}
