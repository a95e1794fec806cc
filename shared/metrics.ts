import { Metrics } from '@aws-lambda-powertools/metrics';

/** CloudWatch namespace and metric names; the stack's dashboard and alarms read these same names. */
export const METRICS_NAMESPACE = 'OrderWebhooks';

export const METRIC = {
  /** Ingest */
  received: 'WebhookReceived',
  queued: 'WebhookQueued',
  rejected: 'WebhookRejected',
  ignored: 'WebhookIgnored',
  queueFailed: 'WebhookQueueFailed',
  /** Worker */
  processed: 'RecordProcessed',
  duplicate: 'RecordDuplicate',
  /** Authentic and queued, but nothing to do for this product (e.g. an unhandled status event). */
  recordIgnored: 'RecordIgnored',
  transientFailure: 'RecordTransientFailure',
  permanentFailure: 'RecordPermanentFailure',
  /** A setting or credential is wrong (e.g. ReCharge refused the token): records wait, nothing is dead-lettered. */
  configError: 'RecordConfigError',
  rechargeCalls: 'RechargeApiCalls',
  recharge429: 'RechargeApiThrottled',
} as const;

/** One Powertools Metrics instance per process (EMF to stdout in Lambda). */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-webhooks',
});
