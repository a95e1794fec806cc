import * as z from 'zod';
import { pick } from 'zod/mini';
import { leaseProblem, reconcileEnvSchema, WRITE_BACK_MODES, workerEnvSchema } from '../shared/config';
import { ARCHIVE_DEFAULTS, QUEUE_DEFAULTS, STACK_NAME } from '../shared/resources';

/**
 * Deploy-time settings, read from CDK context (`cdk.json` "context" or `-c key=value`).
 * Values given on the command line arrive as strings, so numbers and booleans are coerced.
 */

// workerEnvSchema is a zod/mini schema (shared/config is on the ingest's import path): `pick` is a function.
const workerDefaults = pick(workerEnvSchema, {
  ORDER_SYSTEM: true,
  RECHARGE_API_URL: true,
  RECHARGE_API_VERSION: true,
  ORDER_NUMBER_START: true,
  IDEMPOTENCY_LEASE_SECONDS: true,
  RECHARGE_RATE_CAPACITY: true,
  RECHARGE_RATE_PER_SECOND: true,
  RECHARGE_WRITE_BACK: true,
}).parse({});
const reconcileDefaults = pick(reconcileEnvSchema, { RECONCILE_LOOKBACK_SECONDS: true }).parse({});

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((value) => value === true || value === 'true')
    .default(fallback);

/** Log retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const arn = (service: string) =>
  z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+$`), {
    message: `expected an ARN of ${service}`,
  });

export const stackSettingsSchema = z
  .object({
    /**
     * The CloudFormation stack name: one per deployment, so staging and production live side by
     * side in one account and region. The CLI finds it with --stack or ORDER_WEBHOOKS_STACK.
     */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, {
        message:
          'expected a CloudFormation stack name: a letter, then letters, digits and hyphens (at most 128)',
      })
      .default(STACK_NAME),
    /**
     * `http`: API Gateway HTTP API (payload 2.0, no account-wide settings). `rest`: REST API, for AWS WAF;
     * it needs the account-level API Gateway CloudWatch Logs role (apiGatewayCloudWatchRole).
     */
    apiType: z.enum(['http', 'rest']).default('http'),
    /** API Gateway throttling, applied to each webhook route on its own: steady requests per second and burst. */
    throttlingRateLimit: int(100, 1, 10_000),
    throttlingBurstLimit: int(200, 1, 5_000),
    /** Deliveries before SQS moves a message to the dead-letter queue. */
    maxReceiveCount: int(QUEUE_DEFAULTS.maxReceiveCount, 1, 1000),
    /** Records per worker invocation; above 10 needs a batching window. */
    batchSize: int(10, 1, 10_000),
    /**
     * How long the event source gathers records before invoking the worker: invocations, receives,
     * deletes and archive objects then scale with batches. Adds up to this much to a webhook's sync
     * time (a lone webhook waits the whole window); 0 invokes as soon as a record arrives.
     */
    maxBatchingWindowSeconds: int(5, 0, 300),
    /**
     * Worker Lambda memory (MB); CPU comes in proportion. 256 holds a full batch of 6 MB claim-checked
     * bodies, peaking at about 170–220 MB (test/integration/worker-memory.test.ts); raise it with batchSize above 10.
     */
    workerMemoryMb: int(256, 128, 10_240),
    /** Concurrent worker invocations; also what keeps ReCharge's 2 calls/s leaky bucket happy. */
    maxConcurrency: int(2, 2, 1000),
    /**
     * Alarm when the oldest message in the main queue is older than this beyond the time the backlog
     * needs at the ReCharge rate budget (a renewal day's backlog is expected to wait).
     */
    oldestMessageAgeAlarmSeconds: int(900, 60, 1_209_600),
    /** ReCharge's per-token leaky bucket: depth and calls per second (one budget for all callers). */
    rechargeRateCapacity: int(workerDefaults.RECHARGE_RATE_CAPACITY, 1, 10_000),
    rechargeRatePerSecond: z.coerce
      .number()
      .positive()
      .max(1000)
      .default(workerDefaults.RECHARGE_RATE_PER_SECOND),
    alarmEmail: z.email().optional(),
    /** Send alarms to an existing topic instead of a new one. */
    alarmTopicArn: arn('sns').optional(),
    /** Use this Secrets Manager secret instead of creating one. */
    existingSecretArn: arn('secretsmanager').optional(),
    /**
     * Moving from the one-secret layout: the worker and reconciler may also read SecretArn and take
     * the API credentials from it until they are in ApiSecretArn. Off: each function reads only its own.
     */
    combinedSecret: bool(false),
    /** The customer managed KMS key that encrypts existingSecretArn: both functions may decrypt with it. */
    existingSecretKmsKeyArn: arn('kms').optional(),
    wafWebAclArn: arn('wafv2').optional(),
    domainName: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, {
        message: 'expected a host name such as hooks.example.com',
      })
      .optional(),
    certificateArn: arn('acm').optional(),
    tracing: bool(false),
    /** The CloudWatch dashboard ($3 a month beyond an account's first three) and the metrics only it reads. */
    dashboard: bool(false),
    /** The functions' log level: INFO logs one line per request and per record; DEBUG adds each step. */
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** Refuse ReCharge requests signed only with the legacy, timestamp-less header (replay risk). */
    rechargeRequireTimestamp: bool(false),
    /**
     * apiType rest only: create the account-level API Gateway CloudWatch Logs role (deleted with the
     * stack); set false when the account already has one.
     */
    apiGatewayCloudWatchRole: bool(true),
    ordersTableDeletionProtection: bool(true),
    /** Attach this existing orders table (e.g. the one a torn-down stack retained) instead of creating one. */
    existingOrdersTableName: z
      .string()
      .regex(/^[a-zA-Z0-9_.-]{3,255}$/, { message: 'expected a DynamoDB table name' })
      .optional(),
    /** Attach this existing archive bucket (e.g. the one a torn-down stack retained) instead of creating one. */
    existingArchiveBucketName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'expected an S3 bucket name' })
      .optional(),
    orderSystem: z.enum(['ledger', 'http']).default(workerDefaults.ORDER_SYSTEM),
    /** https only: the signed orders, with customer data, must not travel in clear. */
    orderSystemUrl: z.url({ protocol: /^https$/ }).optional(),
    orderNumberStart: int(workerDefaults.ORDER_NUMBER_START, 1, Number.MAX_SAFE_INTEGER),
    /** https only: the ReCharge API token rides in every request. */
    rechargeApiUrl: z.url({ protocol: /^https$/ }).default(workerDefaults.RECHARGE_API_URL),
    rechargeApiVersion: z.enum(['2021-01', '2021-11']).default(workerDefaults.RECHARGE_API_VERSION),
    /** Worker Lambda timeout; the queue's visibility timeout follows it. */
    workerTimeoutSeconds: int(QUEUE_DEFAULTS.workerTimeoutSeconds, 10, 900),
    /** An in-progress delivery older than this is taken over; must exceed workerTimeoutSeconds. */
    idempotencyLeaseSeconds: int(workerDefaults.IDEMPOTENCY_LEASE_SECONDS, 11, 86_400),
    /** Days archived webhooks are kept (objects over 128 KB in S3 Infrequent Access after 30 days). */
    archiveRetentionDays: int(
      ARCHIVE_DEFAULTS.retentionDays,
      ARCHIVE_DEFAULTS.infrequentAccessAfterDays + 1,
      36_500,
    ),
    /** Encrypt the archive bucket with this customer-managed KMS key instead of S3-managed keys. */
    archiveKmsKeyArn: arn('kms').optional(),
    /** Minutes between reconciliation passes (and subscription checks) against ReCharge. */
    reconcileIntervalMinutes: int(15, 1, 1440),
    /** Base URL ReCharge calls; default the API's URL (or https://<domainName>). */
    publicBaseUrl: z.url({ protocol: /^https$/ }).optional(),
    /**
     * How far back the reconciler's first pass (no watermark yet) lists ReCharge orders: small, so a
     * first deploy re-queues only recent orders; older ones are `order-webhooks reconcile --since`.
     */
    reconcileLookbackSeconds: int(reconcileDefaults.RECONCILE_LOOKBACK_SECONDS, 0, 2_592_000),
    /** ReCharge write-backs: `fill` (only empty fields or ours), `overwrite`, `shadow` or `off`. */
    rechargeWriteBack: z.enum(WRITE_BACK_MODES).default(workerDefaults.RECHARGE_WRITE_BACK),
    /** `recreate` missing ReCharge subscriptions, `check` only reports them, `off`. */
    rechargeWebhookGuard: z.enum(['recreate', 'check', 'off']).default('recreate'),
    logRetentionDays: z.coerce
      .number()
      .refine((days) => (RETENTION_DAYS as readonly number[]).includes(days), {
        message: `expected one of ${RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
  })
  .superRefine((s, ctx) => {
    if (s.batchSize > 10 && s.maxBatchingWindowSeconds < 1)
      ctx.addIssue({
        code: 'custom',
        path: ['maxBatchingWindowSeconds'],
        message: 'must be at least 1 when batchSize is above 10 (an SQS event source rule)',
      });
    if (s.orderSystem === 'http' && !s.orderSystemUrl)
      ctx.addIssue({
        code: 'custom',
        path: ['orderSystemUrl'],
        message: 'is required when orderSystem is "http"',
      });
    if (s.existingSecretKmsKeyArn && !s.existingSecretArn)
      ctx.addIssue({
        code: 'custom',
        path: ['existingSecretKmsKeyArn'],
        message: 'applies only with existingSecretArn (the stack encrypts its own secret itself)',
      });
    const lease = leaseProblem(s.idempotencyLeaseSeconds, s.workerTimeoutSeconds, {
      lease: 'idempotencyLeaseSeconds',
      timeout: 'workerTimeoutSeconds',
    });
    if (lease) ctx.addIssue({ code: 'custom', path: ['idempotencyLeaseSeconds'], message: lease });
    if (s.wafWebAclArn && s.apiType !== 'rest')
      ctx.addIssue({
        code: 'custom',
        path: ['wafWebAclArn'],
        message: 'needs apiType "rest" (AWS WAF cannot be associated with an HTTP API)',
      });
    if (Boolean(s.domainName) !== Boolean(s.certificateArn))
      ctx.addIssue({
        code: 'custom',
        path: [s.domainName ? 'certificateArn' : 'domainName'],
        message: 'domainName and certificateArn must be set together',
      });
  });

export type StackSettings = z.infer<typeof stackSettingsSchema>;
export const SETTING_KEYS = Object.keys(stackSettingsSchema.shape) as (keyof StackSettings)[];

/** Raised for a bad context value; the message names the key. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/**
 * Reads every setting through `readContext` (usually `app.node.tryGetContext`) and validates
 * them; throws a SettingsError naming each bad key and what it expects.
 */
export function parseStackSettings(readContext: (key: string) => unknown): StackSettings {
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = readContext(key);
    if (value !== undefined && value !== null && value !== '') raw[key] = value;
  }
  const result = stackSettingsSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `context "${issue.path.join('.')}": ${issue.message}`,
    );
    throw new SettingsError(`invalid CDK context: ${problems.join('; ')}`);
  }
  return result.data;
}
