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
  /** ReCharge write-backs (RECHARGE_WRITE_BACK): fill kept another integration's ids on an order. */
  writeBackKept: 'WriteBackKept',
  /** shadow: a write-back computed and recorded, nothing written. */
  writeBackShadow: 'WriteBackShadow',
  /** A write-back that did not stick, put back once (the reconciler found ReCharge without our ids). */
  writeBackRepaired: 'WriteBackRepaired',
  /** A write-back fight (our ids gone again after a repair, or another's ids there): reported once per order. */
  writeBackStopped: 'WriteBackStopped',
  /** Reconciler: each order found behind is a missed or failed webhook. */
  reconcileListed: 'ReconcileOrdersListed',
  reconcileBehind: 'ReconcileOrdersBehind',
  reconcileEnqueued: 'ReconcileOrdersEnqueued',
  reconcilePassFailed: 'ReconcilePassFailed',
  /** Failed passes since the last complete one (0 after a complete pass). */
  reconcileFailuresInARow: 'ReconcileFailedPassesInARow',
  /** Subscription guard */
  subscriptionMissing: 'WebhookSubscriptionMissing',
  subscriptionRecreated: 'WebhookSubscriptionRecreated',
  /** A subscription of ours created for the first time (a first deploy): no alarm. */
  subscriptionRegistered: 'WebhookSubscriptionRegistered',
  /** Reconciler: orders re-queued by a first pass (no watermark yet), a backfill rather than missed webhooks. */
  reconcileBackfilled: 'ReconcileOrdersBackfilled',
} as const;

/** One Powertools Metrics instance per process (EMF to stdout in Lambda). */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-webhooks',
});
