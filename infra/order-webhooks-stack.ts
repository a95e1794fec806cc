import {
  Annotations,
  Aws,
  CfnOutput,
  type CfnResource,
  Duration,
  Fn,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { pick } from 'zod/mini';
import { ingestEnvSchema } from '../shared/config';
import { METRICS_NAMESPACE } from '../shared/metrics';
import { COUNTER_KEY } from '../shared/order-system/ledger';
import { DEFAULT_RATE_HEADROOM } from '../shared/recharge-api/rate-budget';
import { reconcileStateKey } from '../shared/reconcile/state-store';
import { ARCHIVE_DEFAULTS, QUEUE_DEFAULTS, TABLE_KEYS } from '../shared/resources';
import { AppFunction } from './constructs/app-function';
import { Monitoring } from './constructs/monitoring';
import { httpWebhookApi, restWebhookApi, type WebhookApi } from './constructs/webhook-api';
import type { StackSettings } from './settings';

/** The worker's items in the orders table: order and order-details items (`ORDER#<provider>#<id>`) and the number counter. */
const WORKER_ORDER_KEY_PATTERNS = ['ORDER#*', COUNTER_KEY.pk] as const;

export interface OrderWebhooksStackProps extends StackProps {
  readonly settings: StackSettings;
}

/** The webhook routes, relative to the API root; placeholders mark what the user fills in. */
export const WEBHOOK_ROUTES = {
  RechargeWebhookUrl: 'webhooks/recharge',
  RechargeTopicWebhookUrl: 'webhooks/recharge/<resource>/<event>',
  WixCashierPayWebhookUrl: 'webhooks/wix-cashier-pay/<WIX_TOKEN>',
  SeviWebhookUrl: 'webhooks/sevi',
} as const;

/** Kept constant for the same reason as the initial value (see the secret below). */
const SECRET_DESCRIPTION =
  'order-webhooks webhook verification secrets (ingest): one JSON object, keys as in docs/deployment.md (Fill the secrets).';
const API_SECRET_DESCRIPTION =
  'order-webhooks API credentials (worker, reconciler): RECHARGE_API_TOKEN, ORDER_SYSTEM_SECRET; see docs/deployment.md (Fill the secrets).';

// ingestEnvSchema is a zod/mini schema (smaller ingest bundle): `pick` is a function.
const ingestDefaults = pick(ingestEnvSchema, {
  RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: true,
  QUEUE_SEND_TIMEOUT_MS: true,
}).parse({});

/**
 * Everything the product needs in one stack, top to bottom as the data flows:
 * API -> ingest -> queue -> worker -> tables, plus the secret, monitoring and outputs.
 */
export class OrderWebhooksStack extends Stack {
  readonly api: WebhookApi;
  readonly ingest: AppFunction;
  readonly worker: AppFunction;
  readonly reconcile: AppFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly idempotencyTable: dynamodb.Table;
  readonly ordersTable: dynamodb.ITable;
  readonly archiveBucket: s3.IBucket;
  readonly secret: secretsmanager.ISecret;
  readonly apiSecret: secretsmanager.Secret;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: OrderWebhooksStackProps) {
    super(scope, id, {
      description: 'order-webhooks: ReCharge, Wix Cashier Pay and Sevi order webhooks to your order system',
      ...props,
    });
    const s = props.settings;
    const logRetention = s.logRetentionDays as logs.RetentionDays;

    // --- Ingest ------------------------------------------------------------------------------
    this.ingest = new AppFunction(this, 'Ingest', {
      entry: 'functions/ingest/handler.ts',
      lambda: 'ingest',
      description: 'order-webhooks ingest: verify and enqueue webhooks',
      // Memory buys CPU, which shortens cold starts: Wix gives up after about 1.25 s.
      memorySize: 1024,
      timeout: Duration.seconds(10),
      logRetention,
      tracing: s.tracing,
      metricsNamespace: METRICS_NAMESPACE,
    });
    // --- API ---------------------------------------------------------------------------------
    // HTTP API by default (no account-wide settings, $1 per million); REST for AWS WAF. Both throttle
    // each route on its own and log access to a log group of the stack (infra/constructs/webhook-api.ts).
    const apiProps = {
      ingest: this.ingest.fn,
      logRetention,
      throttlingRateLimit: s.throttlingRateLimit,
      throttlingBurstLimit: s.throttlingBurstLimit,
      domainName: s.domainName,
      certificateArn: s.certificateArn,
      wafWebAclArn: s.wafWebAclArn,
      cloudWatchRole: s.apiGatewayCloudWatchRole,
    };
    this.api = s.apiType === 'rest' ? restWebhookApi(this, apiProps) : httpWebhookApi(this, apiProps);

    // --- Queue -------------------------------------------------------------------------------
    // Standard, not FIFO: FIFO dedups for only 5 min while ReCharge retries for 48 h, so
    // exactly-once lives in DynamoDB anyway, and a standard queue has no throughput cap.
    const workerTimeout = Duration.seconds(s.workerTimeoutSeconds);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: QUEUE_DEFAULTS.maximumMessageSizeBytes,
      retentionPeriod: Duration.days(QUEUE_DEFAULTS.dlqRetentionDays),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: QUEUE_DEFAULTS.maximumMessageSizeBytes,
      // SQS's longest: a deferred message (visibility extended) keeps its enqueue time and expires after this.
      retentionPeriod: Duration.days(QUEUE_DEFAULTS.queueRetentionDays),
      // AWS guidance: >= 6x the function timeout, plus the batching window.
      visibilityTimeout: Duration.seconds(
        s.workerTimeoutSeconds * QUEUE_DEFAULTS.visibilityTimeoutMultiplier + s.maxBatchingWindowSeconds,
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: s.maxReceiveCount },
    });
    this.ingest
      .bindQueueSender('QUEUE_URL', this.queue)
      .setEnv('MAX_MESSAGE_BYTES', String(QUEUE_DEFAULTS.maximumMessageSizeBytes))
      .setEnv(
        'RECHARGE_TIMESTAMP_TOLERANCE_SECONDS',
        String(ingestDefaults.RECHARGE_TIMESTAMP_TOLERANCE_SECONDS),
      )
      .setEnv('QUEUE_SEND_TIMEOUT_MS', String(ingestDefaults.QUEUE_SEND_TIMEOUT_MS))
      .setEnv('RECHARGE_REQUIRE_TIMESTAMP', String(s.rechargeRequireTimestamp));

    // --- Worker ------------------------------------------------------------------------------
    this.worker = new AppFunction(this, 'Worker', {
      entry: 'functions/worker/handler.ts',
      lambda: 'worker',
      description: 'order-webhooks worker: sync queued webhooks to the order system',
      // CPU scales with memory: at 256 MB parsing, TLS and the archive's gzip run slower, but the worker
      // mostly waits (I/O, the ReCharge budget), billed per GB-second (test/integration/worker-memory.test.ts).
      memorySize: s.workerMemoryMb,
      timeout: workerTimeout,
      logRetention,
      tracing: s.tracing,
      metricsNamespace: METRICS_NAMESPACE,
    });
    this.worker
      .bindQueueConsumer('QUEUE_URL', this.queue, {
        reportBatchItemFailures: true,
        batchSize: s.batchSize,
        maxBatchingWindow:
          s.maxBatchingWindowSeconds > 0 ? Duration.seconds(s.maxBatchingWindowSeconds) : undefined,
        maxConcurrency: s.maxConcurrency,
      })
      // Permanent failures go to the dead-letter queue straight away, with the reason attached.
      .bindQueueSender('DLQ_URL', this.deadLetterQueue)
      .setEnv('ORDER_SYSTEM', s.orderSystem)
      .setEnv('RECHARGE_API_URL', s.rechargeApiUrl)
      .setEnv('RECHARGE_API_VERSION', s.rechargeApiVersion)
      .setEnv('ORDER_NUMBER_START', String(s.orderNumberStart))
      // The worker checks the lease against its timeout at start too (settings already did).
      .setEnv('IDEMPOTENCY_LEASE_SECONDS', String(s.idempotencyLeaseSeconds))
      .setEnv('WORKER_TIMEOUT_SECONDS', String(s.workerTimeoutSeconds));
    if (s.orderSystemUrl) this.worker.setEnv('ORDER_SYSTEM_URL', s.orderSystemUrl);
    // The shared ReCharge rate budget (an item in the idempotency table, granted below) and where a
    // record waiting for it goes: ChangeMessageVisibility (consume grant), or re-sent fresh to the
    // queue when one more receive would dead-letter it (send grant).
    this.worker
      .setEnv('RECHARGE_RATE_CAPACITY', String(s.rechargeRateCapacity))
      .setEnv('RECHARGE_RATE_PER_SECOND', String(s.rechargeRatePerSecond))
      .setEnv('QUEUE_MAX_RECEIVE_COUNT', String(s.maxReceiveCount))
      .setEnv('RECHARGE_WRITE_BACK', s.rechargeWriteBack);
    this.queue.grantSendMessages(this.worker.fn);

    // --- Tables ------------------------------------------------------------------------------
    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: TABLE_KEYS.idempotency.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEYS.idempotency.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Short-lived dedup records: nothing worth keeping after the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.idempotencyTable).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Dedup records expire within days through TTL and are rebuilt by processing; point-in-time recovery is on for the orders table, which holds the durable data.',
    });
    // The orders table outlives the stack (RETAIN). After a tear-down, `existingOrdersTableName`
    // attaches the retained table to the new stack, so the ledger and its order numbers carry on
    // (docs/deployment.md "What survives a destroy, and how to come back"); a fixed physical name
    // instead would make CloudFormation replace the table of every existing deployment. A new deploy
    // that would create a second ledger fails on the retained marker first (retainedDataMarker).
    this.ordersTable = s.existingOrdersTableName
      ? dynamodb.Table.fromTableName(this, 'OrdersTable', s.existingOrdersTableName)
      : retainedDataMarker(this, 'OrdersTableMarker', {
          name: 'orders-table',
          what: `the orders ledger (DynamoDB table ${this.stackName}-OrdersTable*, its order-number counter)`,
          setting: 'existingOrdersTableName',
        }).guard(
          new dynamodb.Table(this, 'OrdersTable', {
            partitionKey: { name: TABLE_KEYS.orders.partitionKey, type: dynamodb.AttributeType.STRING },
            sortKey: { name: TABLE_KEYS.orders.sortKey, type: dynamodb.AttributeType.STRING },
            billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption: dynamodb.TableEncryption.AWS_MANAGED,
            pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
            deletionProtection: s.ordersTableDeletionProtection,
            removalPolicy: RemovalPolicy.RETAIN,
          }),
        );
    this.worker
      // The worker's calls: on the idempotency table only the rate budget's reservations (effect
      // steps live on the order items); ledger get/query/put/update, and deletes of superseded
      // order-details items (no scans).
      // test/infra/iam-contract.test.ts checks every call the worker makes against this list.
      .setEnv('IDEMPOTENCY_TABLE', this.idempotencyTable.tableName)
      .setEnv('ORDERS_TABLE', this.ordersTable.tableName);
    // Items by partition key: the rate budget's (`ratebudget#...`) in the idempotency table; order
    // items and the order-number counter in the orders table, so the reconciler's watermark
    // (`RECONCILE#...`) is out of the worker's reach.
    this.worker.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.idempotencyTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ratebudget#*'] } },
      }),
    );
    this.worker.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        resources: [this.ordersTable.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...WORKER_ORDER_KEY_PATTERNS] },
        },
      }),
    );

    // --- Archive -----------------------------------------------------------------------------
    // Every verified webhook as received (raw/) and bodies beyond the SQS limit (claim/):
    // key layout in shared/archive/archive.ts. Kept on stack deletion, like the orders ledger.
    const archiveKey = s.archiveKmsKeyArn
      ? kms.Key.fromKeyArn(this, 'ArchiveKey', s.archiveKmsKeyArn)
      : undefined;
    const retention = Duration.days(s.archiveRetentionDays);
    // Like the ledger: `existingArchiveBucketName` attaches a retained bucket (the archive carries on,
    // under its own encryption and lifecycle); otherwise a marker guards against a second archive.
    this.archiveBucket = s.existingArchiveBucketName
      ? s3.Bucket.fromBucketName(this, 'ArchiveBucket', s.existingArchiveBucketName)
      : retainedDataMarker(this, 'ArchiveBucketMarker', {
          name: 'archive-bucket',
          what: `the webhook archive (S3 bucket ${this.stackName.toLowerCase()}-archivebucket*)`,
          setting: 'existingArchiveBucketName',
        }).guard(
          new s3.Bucket(this, 'ArchiveBucket', {
            encryption: archiveKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
            encryptionKey: archiveKey,
            bucketKeyEnabled: archiveKey ? true : undefined,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            enforceSSL: true,
            objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removalPolicy: RemovalPolicy.RETAIN,
            lifecycleRules: [
              // raw/ objects are one per worker batch, gzip'd: mostly a few KB to tens of KB. S3 moves no
              // object under 128 KB to Infrequent Access (and would bill it as 128 KB there), so only the
              // larger ones move; the rest stay in Standard until they expire.
              { id: 'raw', prefix: 'raw/', expiration: retention },
              {
                id: 'raw-large-to-ia',
                prefix: 'raw/',
                objectSizeGreaterThan: ARCHIVE_DEFAULTS.infrequentAccessMinBytes,
                transitions: [
                  {
                    storageClass: s3.StorageClass.INFREQUENT_ACCESS,
                    transitionAfter: Duration.days(ARCHIVE_DEFAULTS.infrequentAccessAfterDays),
                  },
                ],
              },
              // Objects an earlier key layout wrote under index/ expire like the rest.
              { id: 'index', prefix: 'index/', expiration: retention },
              {
                id: 'claim',
                prefix: 'claim/',
                expiration: Duration.days(ARCHIVE_DEFAULTS.claimRetentionDays),
              },
              { id: 'uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
            ],
          }),
        );
    Validations.of(this.archiveBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the two function roles write here (each write is logged per record with its key fields); server access logs would need a second bucket with its own retention for one more log line per webhook. Audit reads with CloudTrail S3 data events if required.',
    });
    // Exactly the calls the code makes: ingest PutObject claim/ (large bodies); worker GetObject
    // claim/, PutObject raw/ (one object per batch). Listing and reading the archive is the CLI's,
    // with the operator's own credentials.
    this.ingest.bindBucket(
      'ARCHIVE_BUCKET',
      this.archiveBucket,
      [{ action: 's3:PutObject', prefix: 'claim/' }],
      archiveKey,
    );
    this.worker.bindBucket(
      'ARCHIVE_BUCKET',
      this.archiveBucket,
      [
        { action: 's3:GetObject', prefix: 'claim/' },
        { action: 's3:PutObject', prefix: 'raw/' },
      ],
      archiveKey,
    );

    // --- Reconciliation (ReCharge) -------------------------------------------------------------
    // Webhooks are lossy (ReCharge deletes a subscription after 48 h of failures): on a schedule,
    // list the orders changed since the watermark, enqueue the ones behind as synthetic deliveries,
    // and keep our webhook subscriptions alive.
    const baseUrl = s.domainName ? `https://${s.domainName}/` : this.api.url;
    this.reconcile = new AppFunction(this, 'Reconcile', {
      entry: 'functions/reconcile/handler.ts',
      description: 'order-webhooks reconcile: re-sync ReCharge orders whose webhooks were missed',
      memorySize: 512,
      // Ends before the next tick (up to Lambda's 15 min), so two scheduled passes never overlap.
      timeout: Duration.seconds(Math.min(900, Math.max(60, s.reconcileIntervalMinutes * 60 - 60))),
      logRetention,
      tracing: s.tracing,
      metricsNamespace: METRICS_NAMESPACE,
    });
    this.reconcile
      .bindQueueSender('QUEUE_URL', this.queue)
      // Reads the worker's order items in batches; nothing else in the table.
      .bindTable('ORDERS_TABLE', this.ordersTable, ['dynamodb:BatchGetItem'])
      .setEnv('RECHARGE_API_URL', s.rechargeApiUrl)
      .setEnv('RECHARGE_API_VERSION', s.rechargeApiVersion)
      .setEnv('PUBLIC_BASE_URL', s.publicBaseUrl ?? baseUrl)
      .setEnv('RECHARGE_WEBHOOK_GUARD', s.rechargeWebhookGuard)
      .setEnv('RECHARGE_WRITE_BACK', s.rechargeWriteBack)
      .setEnv('RECONCILE_LOOKBACK_SECONDS', String(s.reconcileLookbackSeconds))
      // One ReCharge rate budget for the token, shared with the worker: its item in the idempotency table.
      .setEnv('IDEMPOTENCY_TABLE', this.idempotencyTable.tableName)
      .setEnv('RECHARGE_RATE_CAPACITY', String(s.rechargeRateCapacity))
      .setEnv('RECHARGE_RATE_PER_SECOND', String(s.rechargeRatePerSecond));
    // Its watermark item only: reads and writes are limited to that partition key.
    this.reconcile.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.ordersTable.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [reconcileStateKey('recharge').pk] },
        },
      }),
    );
    // The rate budget's items only (`ratebudget#...`).
    this.reconcile.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.idempotencyTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ratebudget#*'] } },
      }),
    );
    // A failed run is not retried by Lambda: the next tick lists the same window again.
    this.reconcile.fn.configureAsyncInvoke({ retryAttempts: 0 });
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'order-webhooks: reconcile ReCharge orders and check webhook subscriptions',
      schedule: events.Schedule.rate(Duration.minutes(s.reconcileIntervalMinutes)),
      targets: [new eventTargets.LambdaFunction(this.reconcile.fn)],
    });

    // --- Secrets -----------------------------------------------------------------------------
    this.secret = s.existingSecretArn
      ? // The complete ARN (with the -XXXXXX suffix) so the grant names exactly this secret.
        secretsmanager.Secret.fromSecretCompleteArn(this, 'ProviderSecret', s.existingSecretArn)
      : new secretsmanager.Secret(this, 'ProviderSecret', {
          description: SECRET_DESCRIPTION,
          // A constant initial value: CloudFormation only writes SecretString when the template
          // value changes, so credentials put in later survive every future deploy.
          secretStringValue: SecretValue.unsafePlainText('{}'),
          removalPolicy: RemovalPolicy.DESTROY,
        });
    if (!s.existingSecretArn)
      Validations.of(this.secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Holds credentials issued by the providers (webhook secrets, API tokens); they are rotated in the provider dashboards, and the ingest accepts several webhook secrets at once so a rotation needs no downtime.',
      });
    // Two secrets, so the public-facing ingest cannot read the API credentials and the worker and
    // reconciler cannot read the webhook secrets. A second Secrets Manager secret ($0.40/month)
    // rather than an SSM SecureString (free): CloudFormation cannot create SecureString parameters,
    // so `cdk deploy` could not create it, and one kind of store keeps put, rotate and read the same.
    this.apiSecret = new secretsmanager.Secret(this, 'ApiSecret', {
      description: API_SECRET_DESCRIPTION,
      secretStringValue: SecretValue.unsafePlainText('{}'),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.apiSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Holds credentials issued by ReCharge and the merchant (API token, order-system key); they are rotated where they are issued.',
    });
    // Each function's SECRET_ARN is its own secret.
    this.ingest.bindSecret('SECRET_ARN', this.secret);
    this.worker.bindSecret('SECRET_ARN', this.apiSecret);
    this.reconcile.bindSecret('SECRET_ARN', this.apiSecret);
    // Moving from the one-secret layout: the worker and reconciler may also read the old combined
    // secret and take from it what the API secret lacks, until the keys are moved (docs/deployment.md).
    if (s.combinedSecret) {
      this.worker.bindSecret('COMBINED_SECRET_ARN', this.secret);
      this.reconcile.bindSecret('COMBINED_SECRET_ARN', this.secret);
    }
    // An imported secret's grantRead grants no kms:Decrypt: under a customer managed key every
    // function that reads it needs it explicitly, or GetSecretValue fails with AccessDenied.
    if (s.existingSecretKmsKeyArn)
      for (const fn of s.combinedSecret ? [this.ingest, this.worker, this.reconcile] : [this.ingest])
        fn.grantSecretKeyDecrypt(s.existingSecretKmsKeyArn);

    // --- Monitoring --------------------------------------------------------------------------
    const alarmTopic = s.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', s.alarmTopicArn)
      : new sns.Topic(this, 'AlarmTopic', {
          displayName: 'order-webhooks alarms',
          enforceSSL: true,
        });
    if (s.alarmEmail) alarmTopic.addSubscription(new subscriptions.EmailSubscription(s.alarmEmail));
    else if (!s.alarmTopicArn)
      Annotations.of(this).addWarningV2(
        'order-webhooks:alarms-unheard',
        'No alarmEmail or alarmTopicArn: the alarms go to a topic nobody is subscribed to. Set one in cdk.json "context" (docs/deployment.md).',
      );
    this.monitoring = new Monitoring(this, 'Monitoring', {
      api: this.api.metrics,
      ingest: this.ingest.fn,
      worker: this.worker.fn,
      reconcile: this.reconcile.fn,
      reconcileIntervalMinutes: s.reconcileIntervalMinutes,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      oldestMessageAgeAlarmSeconds: s.oldestMessageAgeAlarmSeconds,
      batchSize: s.batchSize,
      maxConcurrency: s.maxConcurrency,
      rechargeDrainPerSecond: s.rechargeRatePerSecond * (1 - DEFAULT_RATE_HEADROOM),
      alarmTopic,
    });
    // A dashboard costs $3 a month (an account's first three are free) and its metrics $0.30 each
    // while published: off unless context dashboard=true; the alarms' metrics are published either way.
    if (!s.dashboard) this.monitoring.node.tryRemoveChild('Dashboard');
    // Lambda's own start/report lines (about 400 bytes an invocation, one invocation per webhook at
    // the ingest) only at DEBUG; Lambda's duration, error and throttle metrics do not depend on them.
    for (const fn of [this.ingest, this.worker, this.reconcile]) {
      fn.setEnv('POWERTOOLS_LOG_LEVEL', s.logLevel).setEnv('PUBLISH_DASHBOARD_METRICS', String(s.dashboard));
      (fn.fn.node.defaultChild as CfnResource).addPropertyOverride(
        'LoggingConfig.SystemLogLevel',
        s.logLevel === 'DEBUG' ? 'DEBUG' : 'WARN',
      );
    }

    // --- Outputs -----------------------------------------------------------------------------
    for (const [name, route] of Object.entries(WEBHOOK_ROUTES))
      new CfnOutput(this, name, { value: `${baseUrl}${route}`, description: routeHelp[name] });
    if (s.domainName && this.api.customDomainTarget)
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.api.customDomainTarget,
        description: `Point a CNAME (or Route 53 alias) for ${s.domainName} at this name.`,
      });
    new CfnOutput(this, 'DeadLetterQueueName', {
      value: this.deadLetterQueue.queueName,
      description: 'Dead-letter queue: webhooks that failed for good or too often.',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
      description: 'Dead-letter queue URL: DLQ_URL for `order-webhooks dlq ... --aws`.',
    });
    new CfnOutput(this, 'DeadLetterQueueConsoleUrl', {
      value: Fn.join('', [
        `https://${Aws.REGION}.console.aws.amazon.com/sqs/v3/home?region=${Aws.REGION}#/queues/`,
        `https%3A%2F%2Fsqs.${Aws.REGION}.${Aws.URL_SUFFIX}%2F${Aws.ACCOUNT_ID}%2F`,
        this.deadLetterQueue.queueName,
      ]),
      description: 'Inspect failed webhooks here; "Start DLQ redrive" sends them back to the queue.',
    });
    // QUEUE_URL, DLQ_URL and ORDERS_TABLE are what `order-webhooks ... --aws` reads.
    new CfnOutput(this, 'QueueUrl', {
      value: this.queue.queueUrl,
      description: 'Main queue URL: QUEUE_URL for `order-webhooks ... --aws`.',
    });
    new CfnOutput(this, 'OrdersTableName', {
      value: this.ordersTable.tableName,
      description:
        'Orders table (retained on destroy): ORDERS_TABLE for the CLI, existingOrdersTableName to reattach.',
    });
    new CfnOutput(this, 'IdempotencyTableName', {
      value: this.idempotencyTable.tableName,
      description:
        'Idempotency and ReCharge rate-budget table: IDEMPOTENCY_TABLE for `order-webhooks reconcile/recharge-webhooks/doctor --aws`.',
    });
    new CfnOutput(this, 'WebhookBaseUrl', {
      value: s.publicBaseUrl ?? baseUrl,
      description:
        'The base the ReCharge subscriptions point under (custom domain, publicBaseUrl or the stage URL): what `order-webhooks recharge-webhooks register --aws` registers.',
    });
    new CfnOutput(this, 'ArchiveBucketName', {
      value: this.archiveBucket.bucketName,
      description:
        'Audit archive of every webhook (retained on destroy): ARCHIVE_BUCKET for `order-webhooks archive/replay --aws`.',
    });
    new CfnOutput(this, 'SecretArn', {
      value: this.secret.secretArn,
      description:
        'Put the webhook verification secrets here (JSON; the ingest reads it): see docs/deployment.md "Fill the secrets".',
    });
    new CfnOutput(this, 'ApiSecretArn', {
      value: this.apiSecret.secretArn,
      description:
        'Put the API credentials here (JSON; the worker and reconciler read it): see docs/deployment.md "Fill the secrets".',
    });
    if (s.dashboard)
      new CfnOutput(this, 'DashboardUrl', {
        description: 'CloudWatch dashboard: traffic, queue, worker outcomes, ReCharge calls, alarms.',
        value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.monitoring.dashboard.dashboardName}`,
      });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: alarmTopic.topicArn,
      description: 'SNS topic the alarms go to (alarmEmail is subscribed to it).',
    });
  }
}

/** SSM parameter names of the retained-data markers: `/order-webhooks/<stack name>/<name>`. */
export const markerParameterName = (stackName: string, name: string) =>
  `/order-webhooks/${stackName}/${name}`;

/**
 * A marker for a resource that outlives the stack (the orders ledger, the archive): an SSM parameter
 * (standard tier, free) with a fixed name, retained with it. The resource depends on it, so the marker
 * is created first: when a destroyed stack is deployed again without the `existing...` setting,
 * CloudFormation fails on "parameter already exists" before anything is created, instead of starting
 * a second, empty ledger whose order numbers restart. Generated table and bucket names stay as they
 * are (a fixed name would replace them on every existing deployment).
 */
function retainedDataMarker(
  scope: Stack,
  id: string,
  marker: { name: string; what: string; setting: string },
): { guard<T extends Construct>(resource: T): T } {
  const parameterName = markerParameterName(scope.stackName, marker.name);
  const parameter = new ssm.StringParameter(scope, id, {
    parameterName,
    tier: ssm.ParameterTier.STANDARD,
    stringValue: `retained by stack ${scope.stackName}: ${marker.what}`,
    description: `Stack ${scope.stackName} created ${marker.what}, kept when the stack is destroyed. A new deploy of the stack fails on this parameter until you set ${marker.setting} to the retained resource (docs/deployment.md "What survives a destroy"), or delete this parameter to start anew on purpose.`,
  });
  parameter.applyRemovalPolicy(RemovalPolicy.RETAIN);
  return {
    guard: (resource) => {
      resource.node.addDependency(parameter);
      return resource;
    },
  };
}

const routeHelp: Record<string, string> = {
  RechargeWebhookUrl: 'ReCharge: webhook address for order/created, order/processed, order/updated.',
  RechargeTopicWebhookUrl:
    'ReCharge alternative with the topic in the path, e.g. .../webhooks/recharge/order/created.',
  WixCashierPayWebhookUrl:
    'Wix Cashier Pay hook URL: replace <WIX_TOKEN> with one of WIX_CASHIER_PAY_TOKENS from the secret.',
  SeviWebhookUrl:
    'Sevi Order Payment webhook URL; its Authorization token must be one of SEVI_WEBHOOK_TOKENS.',
};
