/**
 * Key schemas of the DynamoDB tables, shared by the CDK stack, the local mode and the code
 * that reads them, so the three cannot drift apart.
 */
export const TABLE_KEYS = {
  /** The shared ReCharge rate budget's items (effect steps live on the order items); expire through TTL. */
  idempotency: { partitionKey: 'pk', ttlAttribute: 'expiresAt' },
  /** The built-in order ledger (single-table: orders, provider references, the order-number counter). */
  orders: { partitionKey: 'pk', sortKey: 'sk' },
} as const;

/** Queue settings shared by the CDK stack and the local mode. */
export const QUEUE_DEFAULTS = {
  /** Worker Lambda timeout; sized for ReCharge back-off inside one invocation. */
  workerTimeoutSeconds: 60,
  /** AWS guidance: visibility timeout at least 6x the function timeout. */
  visibilityTimeoutMultiplier: 6,
  /** Deliveries before SQS moves a message to the dead-letter queue. */
  maxReceiveCount: 5,
  /**
   * SQS's longest retention, for both queues: a message the worker defers (rate budget, order system
   * down) by extending its visibility keeps its enqueue time and expires after this, silently.
   */
  queueRetentionDays: 14,
  dlqRetentionDays: 14,
  /** SQS's largest message since 2026 (body + attributes). */
  maximumMessageSizeBytes: 1_048_576,
} as const;

/** The CloudFormation stack's default name (the CDK stack id); the CLI's `--stack` default. */
export const STACK_NAME = 'OrderWebhooks';

/** The audit archive bucket: key layout in shared/archive/archive.ts. */
export const ARCHIVE_DEFAULTS = {
  /** raw/ objects expire after this (context archiveRetentionDays). */
  retentionDays: 400,
  /** raw/ objects larger than infrequentAccessMinBytes move to Infrequent Access after this. */
  infrequentAccessAfterDays: 30,
  /** S3 transitions no smaller object to Infrequent Access (which bills each as 128 KB anyway). */
  infrequentAccessMinBytes: 128 * 1024,
  /**
   * claim/ objects expire after this: longer than a message can live (14 days in the queue, then at
   * most 14 in the dead-letter queue), and the worker has copied the body to raw/ by then anyway.
   */
  claimRetentionDays: 30,
} as const;
