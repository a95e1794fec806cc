import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

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
  /** A status word the product cannot place arrived for a settled order: recorded, kept out of its state. */
  statusKeptOut: 'ProviderStatusKeptOut',
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
  /**
   * Something only a person can settle (one of ATTENTION): one alarm for all of them, published only
   * when one happens, with the reason as a second dimension set that `order-webhooks doctor` reads.
   */
  needsAttention: 'NeedsAttention',
} as const;

/**
 * The conditions that each need a person, all behind one metric and one alarm (NeedsAttention): an
 * alarm costs $0.10 a month per metric it reads, a metric published only when something happens
 * almost nothing. Each is also logged with `needsAttention: <reason>` where it happens.
 */
export const ATTENTION = {
  /** The worker cannot work with a setting (ReCharge refused the token, a credential is missing). */
  workerConfigError: 'worker-config-error',
  /** A ReCharge write-back did not stick twice, or another integration took the field. */
  writeBackStopped: 'write-back-stopped',
  /** The reconciler found orders behind: each one a missed or failed webhook (not a backfill). */
  reconcileOrdersBehind: 'reconcile-orders-behind',
  /** Two reconcile passes in a row (or more) failed: missed webhooks are not being recovered. */
  reconcileFailedTwiceInARow: 'reconcile-failed-twice-in-a-row',
  /** A ReCharge subscription of ours had been deleted and was recreated. */
  subscriptionRecreated: 'subscription-recreated',
  /** A ReCharge subscription of ours is missing and was not recreated. */
  subscriptionMissing: 'subscription-missing',
} as const;
export type AttentionReason = (typeof ATTENTION)[keyof typeof ATTENTION];

/** The dimension NeedsAttention carries besides `service`. */
export const ATTENTION_DIMENSION = 'reason';

/** Counts `value` occurrences of a condition that needs a person (nothing for 0). */
export function countAttention(
  metrics: { count(name: string, value?: number, dimensions?: Record<string, string>): void },
  reason: AttentionReason,
  value = 1,
): void {
  if (value > 0) metrics.count(METRIC.needsAttention, value, { [ATTENTION_DIMENSION]: reason });
}

/**
 * One Powertools Metrics instance per process (EMF to stdout in Lambda), made when the first metric
 * is counted: without the dashboard most ingest cold starts publish none and skip building it.
 */
let instance: Metrics | undefined;
const metrics = (): Metrics =>
  (instance ??= new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'order-webhooks',
  }));

/**
 * The metric names an alarm reads (infra/constructs/monitoring.ts): published whatever the
 * dashboard setting. Every other name only feeds the dashboard. test/infra/stack.test.ts checks
 * that every alarm on this namespace reads one of these.
 */
export const ALARM_METRICS: readonly string[] = [METRIC.rejected, METRIC.needsAttention];

/**
 * Counting into Powertools metrics (EMF on stdout, one line per flush). A custom metric is billed
 * for every hour it receives data, so a zero is never published (every alarm treats missing data as
 * not breaching), and without the dashboard (`publishAll` false) only the alarms' metrics are; a
 * flush with nothing counted prints nothing. A count with dimensions (NeedsAttention's reason) goes
 * under `service` alone with the others (what the alarm reads) and, summed per dimensions, in one line
 * more per flush (a token refused for 5,000 waiting records is two lines per batch, not per record).
 */
export function makeMetricsSink(publishAll = process.env.PUBLISH_DASHBOARD_METRICS !== 'false'): {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  flush(): void;
} {
  let stored = 0;
  const withDimensions = new Map<
    string,
    { name: string; dimensions: Record<string, string>; value: number }
  >();
  return {
    count(name, value = 1, dimensions) {
      if (value === 0 || (!publishAll && !ALARM_METRICS.includes(name))) return;
      metrics().addMetric(name, MetricUnit.Count, value);
      stored++;
      if (!dimensions) return;
      const key = JSON.stringify([name, dimensions]);
      const sum = withDimensions.get(key) ?? { name, dimensions, value: 0 };
      sum.value += value;
      withDimensions.set(key, sum);
    },
    flush() {
      if (stored === 0) return;
      stored = 0;
      metrics().publishStoredMetrics();
      for (const { name, dimensions, value } of withDimensions.values())
        metrics().singleMetric().addDimensions(dimensions).addMetric(name, MetricUnit.Count, value);
      withDimensions.clear();
    },
  };
}
