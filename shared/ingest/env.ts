import type { IngestEnv } from '../config';

/** Integer settings of ingestEnvSchema (shared/config.ts): default and smallest value. */
const INTS = {
  SECRET_MAX_AGE_SECONDS: [300, 1],
  MAX_MESSAGE_BYTES: [1_048_576, 1024],
  RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: [172_800, 1],
  QUEUE_SEND_TIMEOUT_MS: [700, 50],
  MAX_BODY_BYTES: [10_485_760, 1024],
  CLAIM_PUT_TIMEOUT_MS: [3000, 100],
} as const;
/** Local emulators only (never set in AWS): left to the schema's URL check. */
const ENDPOINTS = ['SQS_ENDPOINT', 'DYNAMODB_ENDPOINT', 'S3_ENDPOINT'] as const;

/**
 * The ingest's settings: `parseEnv(ingestEnvSchema, env)`, the one definition (shared/config.ts).
 * The ingest's cold start reads them without building that schema: an environment as the stack
 * deploys it is read by the plain code below, which accepts only what the schema accepts and
 * returns what the schema returns (test/unit/config/ingest-env.test.ts compares the two); anything
 * else (a bad value, an emulator endpoint) goes to the schema, which gives the answer and the
 * messages. zod then loads on that path only (`require`: the bundle evaluates it when called).
 */
export function parseIngestEnv(env: NodeJS.ProcessEnv = process.env): Readonly<IngestEnv> {
  const read = readDeployed(env);
  if (read) return Object.freeze(read);
  const { ingestEnvSchema, parseEnv } = require('./env-schema') as typeof import('./env-schema');
  return parseEnv(ingestEnvSchema, env);
}

/** The schema's result for an environment without emulator endpoints and with every value valid; else undefined. */
function readDeployed(env: NodeJS.ProcessEnv): IngestEnv | undefined {
  if (ENDPOINTS.some((name) => name in env)) return undefined;
  const strings = (value: unknown) => value === undefined || typeof value === 'string';
  const optional = ['SECRET_ARN', 'COMBINED_SECRET_ARN', 'AWS_CALL_RECORD_FILE', 'ARCHIVE_BUCKET'] as const;
  if (!strings(env.AWS_REGION) || optional.some((name) => !strings(env[name]))) return undefined;
  if (env.ARCHIVE_BUCKET === '') return undefined;
  if (typeof env.QUEUE_URL !== 'string' || env.QUEUE_URL === '') return undefined;
  const flag = (value: string | undefined) =>
    value === undefined || value === 'true' || value === 'false' ? value : null;
  const dashboard = flag(env.PUBLISH_DASHBOARD_METRICS);
  const requireTimestamp = flag(env.RECHARGE_REQUIRE_TIMESTAMP);
  if (dashboard === null || requireTimestamp === null) return undefined;
  const ints = {} as Record<keyof typeof INTS, number>;
  for (const [name, [fallback, min]] of Object.entries(INTS) as [
    keyof typeof INTS,
    readonly [number, number],
  ][]) {
    const value = env[name];
    if (value === undefined) ints[name] = fallback;
    else if (typeof value !== 'string') return undefined;
    else {
      // As the schema's z.coerce.number(): Number(value), then a safe integer of at least `min`.
      const number = Number(value);
      if (!Number.isSafeInteger(number) || number < min) return undefined;
      ints[name] = number;
    }
  }
  // Keys in the schema's order; an optional key is kept when it is in `env`, as the schema keeps it.
  const kept = (name: (typeof optional)[number]) => (name in env ? { [name]: env[name] } : {});
  return {
    AWS_REGION: env.AWS_REGION ?? 'us-east-1',
    ...kept('SECRET_ARN'),
    ...kept('COMBINED_SECRET_ARN'),
    SECRET_MAX_AGE_SECONDS: ints.SECRET_MAX_AGE_SECONDS,
    ...kept('AWS_CALL_RECORD_FILE'),
    PUBLISH_DASHBOARD_METRICS: dashboard ?? 'true',
    QUEUE_URL: env.QUEUE_URL,
    MAX_MESSAGE_BYTES: ints.MAX_MESSAGE_BYTES,
    RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: ints.RECHARGE_TIMESTAMP_TOLERANCE_SECONDS,
    RECHARGE_REQUIRE_TIMESTAMP: requireTimestamp === 'true',
    QUEUE_SEND_TIMEOUT_MS: ints.QUEUE_SEND_TIMEOUT_MS,
    ...kept('ARCHIVE_BUCKET'),
    MAX_BODY_BYTES: ints.MAX_BODY_BYTES,
    CLAIM_PUT_TIMEOUT_MS: ints.CLAIM_PUT_TIMEOUT_MS,
  } as IngestEnv;
}
