import { ConfigError } from './errors';
import { QUEUE_DEFAULTS } from './resources';
import { insecureUrlProblem } from './secure-url';
import * as z from './zod-mini';

export {
  MIN_ORDER_SYSTEM_SECRET_CHARS,
  MIN_TOKEN_CHARS,
  parseSecrets,
  SECRET_KEYS,
  type Secrets,
} from './credentials';

/**
 * Configuration, validated once per cold start. Non-secret settings come from environment
 * variables; provider credentials come from one Secrets Manager secret (SECRET_ARN) in AWS, or
 * from environment variables of the same names for local runs and tests.
 * zod/mini (see ./zod-mini): derive schemas with `z.pick(schema, ...)` / `z.extend(schema, ...)`.
 * The ingest reads its settings with shared/ingest/env.ts, which loads this module only for an
 * environment its plain code leaves to ingestEnvSchema.
 */

const intFromEnv = (fallback: number, min = 0) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(min)), fallback);
const optionalUrl = z.optional(z.url());
/** A URL that credentials or orders travel to: https://, or http:// to loopback only (tests, local mode). */
const secureUrl = () =>
  z.url().check(
    z.refine((url) => insecureUrlProblem('url', url) === undefined, {
      message: 'must be an https:// URL (http:// only to a loopback address)',
    }),
  );

const required = () => z.string().check(z.minLength(1));

const awsSchema = z.object({
  AWS_REGION: z._default(z.string(), 'us-east-1'),
  /** When set, credentials are read from this Secrets Manager secret instead of the environment. */
  SECRET_ARN: z.optional(z.string()),
  /** The one-secret layout's combined secret, read as a fallback while moving to two secrets. */
  COMBINED_SECRET_ARN: z.optional(z.string()),
  SECRET_MAX_AGE_SECONDS: intFromEnv(300, 1),
  /** Local emulators only; in AWS the SDK's regional endpoints are used. */
  SQS_ENDPOINT: optionalUrl,
  DYNAMODB_ENDPOINT: optionalUrl,
  /** Tests only: append every AWS call to this file (shared/aws/call-recorder.ts); never set in AWS. */
  AWS_CALL_RECORD_FILE: z.optional(z.string()),
  /** Local emulator only (fauxqs also emulates S3). */
  S3_ENDPOINT: optionalUrl,
  /**
   * "false": publish only the metrics an alarm reads (shared/metrics.ts ALARM_METRICS); the stack
   * sets it from its `dashboard` setting. Read by shared/metrics.ts at start.
   */
  PUBLISH_DASHBOARD_METRICS: z._default(z.enum(['true', 'false']), 'true'),
});

export const ingestEnvSchema = z.extend(awsSchema, {
  QUEUE_URL: required(),
  /** Largest message SQS accepts (body + attributes); larger webhooks get 413. */
  MAX_MESSAGE_BYTES: intFromEnv(1_048_576, 1024),
  RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: intFromEnv(172_800, 1),
  /** "true": refuse ReCharge requests that carry only the legacy, timestamp-less signature (401). */
  RECHARGE_REQUIRE_TIMESTAMP: z._default(
    z.pipe(
      z.enum(['true', 'false']),
      z.transform((value) => value === 'true'),
    ),
    false,
  ),
  /** Whole budget for SendMessage, retries included: providers time out at 1.25 s (Wix) and 5 s. */
  QUEUE_SEND_TIMEOUT_MS: intFromEnv(700, 50),
  /** The audit archive bucket; bodies beyond the SQS limit go there (claim/) when it is set, else 413. */
  ARCHIVE_BUCKET: z.optional(required()),
  /** Largest body accepted at all: API Gateway's own 10 MB (Lambda's 6 MB event limit bites first). */
  MAX_BODY_BYTES: intFromEnv(10_485_760, 1024),
  /** Budget of the claim-check PutObject (large bodies only; 503 when exceeded). */
  CLAIM_PUT_TIMEOUT_MS: intFromEnv(3000, 100),
});
export type IngestEnv = z.infer<typeof ingestEnvSchema>;

/**
 * ReCharge's per-token leaky bucket (40 deep, 2 calls/s), shared by every caller of the token
 * through the rate budget; settable so tests and benchmarks can run a faster fake.
 */
export const rechargeRateFields = {
  RECHARGE_RATE_CAPACITY: intFromEnv(40, 1),
  RECHARGE_RATE_PER_SECOND: z._default(z.coerce.number().check(z.positive()), 2),
};

/**
 * How the worker writes our ids back onto ReCharge orders (and prepaid charges):
 * `fill` writes only where the field is empty or already ours (another integration's ids are kept),
 * `overwrite` replaces whatever is there, `shadow` records what it would write and writes nothing,
 * `off` writes nothing and records nothing.
 */
export const WRITE_BACK_MODES = ['fill', 'overwrite', 'shadow', 'off'] as const;
export type WriteBackMode = (typeof WRITE_BACK_MODES)[number];
const writeBackModeField = z._default(z.enum(WRITE_BACK_MODES), 'fill');

export const workerEnvSchema = /* @__PURE__ */ z.extendWhereUsed(awsSchema, () => ({
  QUEUE_URL: required(),
  DLQ_URL: required(),
  IDEMPOTENCY_TABLE: required(),
  ORDERS_TABLE: required(),
  /** An in-progress record older than this is taken over (a crashed attempt); must exceed WORKER_TIMEOUT_SECONDS. */
  IDEMPOTENCY_LEASE_SECONDS: intFromEnv(120, 1),
  /** The worker function's timeout (set by the stack; LOCAL_WORKER_TIMEOUT_SECONDS in the local mode). */
  WORKER_TIMEOUT_SECONDS: intFromEnv(QUEUE_DEFAULTS.workerTimeoutSeconds, 1),
  ORDER_SYSTEM: z._default(z.enum(['ledger', 'http']), 'ledger'),
  ORDER_SYSTEM_URL: z.optional(secureUrl()),
  ORDER_SYSTEM_TIMEOUT_MS: intFromEnv(5000, 100),
  ORDER_NUMBER_START: intFromEnv(1001, 1),
  RECHARGE_API_URL: z._default(secureUrl(), 'https://api.rechargeapps.com'),
  RECHARGE_API_VERSION: z._default(z.enum(['2021-01', '2021-11']), '2021-11'),
  RECHARGE_TIMEOUT_MS: intFromEnv(5000, 100),
  ...rechargeRateFields,
  /** ReCharge write-backs: fill (default), overwrite, shadow or off (see WRITE_BACK_MODES). */
  RECHARGE_WRITE_BACK: writeBackModeField,
  /** The main queue's maxReceiveCount: a record deferred for rate budget near it is re-queued fresh. */
  QUEUE_MAX_RECEIVE_COUNT: intFromEnv(5, 1),
  /** The audit archive bucket: each provider delivery is archived as the record's first step. */
  ARCHIVE_BUCKET: z.optional(required()),
}));
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** Each bad variable of `env` under `schema`, as `NAME: what it expects` (never its value). */
export function envProblems(schema: z.ZodMiniType, env: NodeJS.ProcessEnv = process.env): string[] {
  const result = schema.safeParse(env);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/**
 * The worker's settings problems, including the rules across variables that the schema cannot
 * hold (it stays a plain object so infra/settings.ts can `pick` from it).
 */
export function workerEnvProblems(env: NodeJS.ProcessEnv = process.env): string[] {
  const problems = envProblems(workerEnvSchema, env);
  if (env.ORDER_SYSTEM === 'http' && !env.ORDER_SYSTEM_URL)
    problems.push('ORDER_SYSTEM_URL: is required when ORDER_SYSTEM=http');
  return problems;
}
/** ReCharge topics this product syncs, and so the subscriptions the guard keeps alive. */
export const DEFAULT_RECHARGE_WEBHOOK_TOPICS = 'order/created,order/processed,order/updated';

/** The reconcile function (and the CLI's `reconcile` / `recharge-webhooks`, local mode). */
export const reconcileEnvSchema = /* @__PURE__ */ z.extendWhereUsed(awsSchema, () => ({
  QUEUE_URL: required(),
  ORDERS_TABLE: required(),
  /** Holds the ReCharge rate budget shared with the workers (one per token). */
  IDEMPOTENCY_TABLE: required(),
  RECHARGE_RATE_CAPACITY: workerEnvSchema.shape.RECHARGE_RATE_CAPACITY,
  RECHARGE_RATE_PER_SECOND: workerEnvSchema.shape.RECHARGE_RATE_PER_SECOND,
  RECHARGE_API_URL: workerEnvSchema.shape.RECHARGE_API_URL,
  RECHARGE_API_VERSION: workerEnvSchema.shape.RECHARGE_API_VERSION,
  RECHARGE_TIMEOUT_MS: workerEnvSchema.shape.RECHARGE_TIMEOUT_MS,
  /** Subtracted from the watermark: ReCharge's timestamps carry no zone. */
  RECONCILE_OVERLAP_SECONDS: intFromEnv(3600),
  /**
   * How far back the first pass (no watermark yet) looks: one hour, so a first deploy re-queues only
   * recent orders; older ones are an explicit `reconcile --since ... --dry-run` first.
   */
  RECONCILE_LOOKBACK_SECONDS: intFromEnv(3600),
  /** The worker's write-back mode: in `shadow` and `off` an order without our ids is not behind. */
  RECHARGE_WRITE_BACK: writeBackModeField,
  RECHARGE_WEBHOOK_TOPICS: z._default(
    z.pipe(
      z.string(),
      z.transform((value) =>
        value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ),
    DEFAULT_RECHARGE_WEBHOOK_TOPICS.split(','),
  ),
  /** `recreate` missing subscriptions (default), `check` only reports them, `off` skips the guard. */
  RECHARGE_WEBHOOK_GUARD: z._default(z.enum(['recreate', 'check', 'off']), 'recreate'),
  /** Base URL ReCharge calls (the API's URL or custom domain); the guard is off without it. */
  PUBLIC_BASE_URL: optionalUrl,
}));
export type ReconcileEnv = z.infer<typeof reconcileEnvSchema>;

/**
 * The lease must outlive any attempt: an attempt runs at most the worker timeout, and a lease that
 * ends sooner lets a second attempt take over a live one (two identical external calls).
 * Shared by the worker's config and the stack's settings so both refuse the same values.
 */
export function leaseProblem(
  leaseSeconds: number,
  workerTimeoutSeconds: number,
  names: { lease: string; timeout: string },
): string | undefined {
  if (leaseSeconds > workerTimeoutSeconds) return undefined;
  return `${names.lease} (${leaseSeconds}) must be greater than ${names.timeout} (${workerTimeoutSeconds}): a shorter lease lets a live attempt be taken over`;
}

/** The worker's configuration: workerEnvSchema plus the checks across variables. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv = process.env): Readonly<WorkerEnv> {
  const parsed = parseEnv(workerEnvSchema, env);
  const problem = leaseProblem(parsed.IDEMPOTENCY_LEASE_SECONDS, parsed.WORKER_TIMEOUT_SECONDS, {
    lease: 'IDEMPOTENCY_LEASE_SECONDS',
    timeout: 'WORKER_TIMEOUT_SECONDS',
  });
  if (problem) throw new ConfigError(`invalid configuration: ${problem}`);
  return parsed;
}

/**
 * Parses `env` with `schema`; throws a ConfigError naming each bad variable (never its value).
 */
export function parseEnv<S extends z.ZodMiniType>(
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
