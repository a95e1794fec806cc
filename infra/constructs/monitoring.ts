import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../../shared/metrics';
import { FAILED_PASSES_NEED_ATTENTION } from '../../shared/reconcile/pass';
import { serviceNameOf } from './app-function';
import type { ApiMetrics } from './webhook-api';

export interface MonitoringProps {
  readonly api: ApiMetrics;
  readonly ingest: lambda.IFunction;
  readonly worker: lambda.IFunction;
  /** The scheduled reconciler, and how often it runs (alarm periods follow it). */
  readonly reconcile: lambda.IFunction;
  readonly reconcileIntervalMinutes: number;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly oldestMessageAgeAlarmSeconds: number;
  /** The worker's event source: records per batch and concurrent invocations (bound what is in flight). */
  readonly batchSize: number;
  readonly maxConcurrency: number;
  /** Calls per second the ReCharge rate budget grants (the rate minus its headroom). */
  readonly rechargeDrainPerSecond: number;
  /** Every alarm notifies this topic (on alarm and on recovery). */
  readonly alarmTopic: sns.ITopic;
}

const FIVE_MINUTES = Duration.minutes(5);

/** When an alarm fires: above `threshold` (`>`) or from it on (`>=`), over `evaluationPeriods` periods. */
const above = (threshold: number, evaluationPeriods = 1) => ({
  threshold,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  evaluationPeriods,
});
const atLeast = (threshold: number, evaluationPeriods = 1) => ({
  threshold,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  evaluationPeriods,
});

/**
 * ReCharge calls one queued message costs at most: a prepaid order/created writes the order and the
 * charge (2), but its processed, echo and duplicate deliveries cost none; 1 per message over-estimates
 * the drain time of a renewal backlog, so the alarm errs toward not firing on a healthy renewal day.
 */
export const RECHARGE_CALLS_PER_MESSAGE = 1;

/** Alarms and one dashboard over the pipeline: API -> ingest -> queue -> worker -> DLQ. */
export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { api, ingest, worker, reconcile, queue, deadLetterQueue } = props;
    const action = new actions.SnsAction(props.alarmTopic);

    const alarm = (name: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, name, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...alarmProps,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    alarm('DeadLetterQueueNotEmpty', {
      alarmDescription:
        'Webhooks failed permanently or exhausted their retries: inspect and redrive the dead-letter queue.',
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      ...above(0),
    });
    // Age beyond what the backlog explains: a renewal day's backlog drains at the ReCharge budget, so
    // its oldest message is expected to be up to (messages x calls per message / rate) old.
    // Trade-off: the messages in flight count as the records the worker's invocations hold (batchSize x
    // maxConcurrency), not as SQS's third metric ($0.10 a month); records deferred for their ReCharge
    // slot are in flight too, and every 100 more than that shift the alarm by 51 s at 1.95 calls/s.
    const minute = { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM };
    const inFlightBound = props.batchSize * props.maxConcurrency;
    const expectedDrainSeconds = `(visible + ${inFlightBound}) * ${RECHARGE_CALLS_PER_MESSAGE} / ${props.rechargeDrainPerSecond}`;
    const drainMetrics = {
      age: queue.metricApproximateAgeOfOldestMessage(minute),
      visible: queue.metricApproximateNumberOfMessagesVisible(minute),
    };
    alarm('QueueOldestMessageAge', {
      alarmDescription: `The oldest webhook has waited more than ${props.oldestMessageAgeAlarmSeconds} s beyond the time the backlog needs at the ReCharge rate budget (${props.rechargeDrainPerSecond} calls/s): the worker is failing or too slow.`,
      metric: new cloudwatch.MathExpression({
        expression: `age - ${expectedDrainSeconds}`,
        usingMetrics: drainMetrics,
        period: Duration.minutes(1),
        label: 'oldest message age beyond expected drain (s)',
      }),
      ...above(props.oldestMessageAgeAlarmSeconds, 5),
    });
    alarm('Api5xx', {
      alarmDescription:
        'The webhook API answers 5xx (providers will retry, but a queue or ingest outage is likely).',
      metric: api.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      ...atLeast(1),
    });
    // No IngestErrors or IngestThrottles: API Gateway answers a failed or throttled ingest invocation
    // 5xx (502 or 500), so Api5xx fires. No WorkerThrottles: throttled records stay queued and
    // QueueOldestMessageAge fires. No ReconcileThrottles: account concurrency exhaustion throttles the
    // ingest too, and a throttled scheduled run is retried, then replaced by the next.
    for (const [name, fn] of [
      ['Worker', worker],
      ['Reconcile', reconcile],
    ] as const)
      alarm(`${name}Errors`, {
        alarmDescription: `The ${name.toLowerCase()} Lambda function fails invocations.`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        ...atLeast(1),
      });

    // An alarm's metric has no label: a labelled metric renders as a metric-math alarm.
    const appMetric = (
      metricName: string,
      { statistic = cloudwatch.Stats.SUM, period = FIVE_MINUTES, label }: cloudwatch.MetricOptions = {},
    ) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: serviceNameOf(this) },
        statistic,
        period,
        ...(label ? { label } : {}),
      });
    const app = (metricName: string, label: string, statistic: string = cloudwatch.Stats.SUM) =>
      appMetric(metricName, { label, statistic });
    // Sustained rejections (mostly 401s) on real routes mean a credential mismatch (a rotated secret, a short token,
    // rechargeRequireTimestamp on while the store still sends only the legacy header): the provider
    // retries and ReCharge deletes the webhook after 20 failures, so it must not go unnoticed.
    alarm('WebhooksRejected', {
      alarmDescription:
        'The ingest keeps rejecting webhooks (mostly 401: credentials or signature scheme; also 400/413): see the ingest log `reason`.',
      metric: appMetric(METRIC.rejected),
      ...atLeast(5, 3),
    });

    // The conditions that each need a person (shared/metrics.ts ATTENTION: worker config error,
    // write-back stopped, orders behind, failing passes, subscription recreated or missing), one metric
    // published only when one happens. The reconciler's publish once per pass, so the period follows the
    // schedule, and one period in ALARM of the last two keeps it there while a condition lasts (a pass
    // that ends just past a period's edge leaves the next one empty).
    const passPeriod = Duration.minutes(Math.max(5, props.reconcileIntervalMinutes));
    alarm('NeedsAttention', {
      alarmDescription: `Something only a person can settle: the worker's settings (ReCharge refused the token), a write-back that stopped, orders the reconciler found behind, ${FAILED_PASSES_NEED_ATTENTION}+ failed reconcile passes in a row, or a ReCharge subscription recreated or missing. Run \`order-webhooks doctor --aws\`: it names the reasons and what to do; the log lines carry \`needsAttention\`.`,
      metric: appMetric(METRIC.needsAttention, { period: passPeriod }),
      ...atLeast(1, 2),
      datapointsToAlarm: 1,
    });
    const percentiles = (metric: (p: cloudwatch.MetricOptions) => cloudwatch.Metric, what: string) =>
      ['p50', 'p90', 'p99'].map((p) => metric({ statistic: p, period: FIVE_MINUTES, label: `${what} ${p}` }));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhooks received / queued / rejected',
        width: 12,
        left: [
          app(METRIC.received, 'received'),
          app(METRIC.queued, 'queued'),
          app(METRIC.rejected, 'rejected'),
          app(METRIC.ignored, 'ignored'),
          app(METRIC.queueFailed, 'queue send failed'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'API responses',
        width: 12,
        left: [
          api.metricCount({ period: FIVE_MINUTES, label: 'requests' }),
          api.metricClientError({ period: FIVE_MINUTES, label: '4xx' }),
          api.metricServerError({ period: FIVE_MINUTES, label: '5xx' }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        width: 12,
        left: [
          queue.metricApproximateNumberOfMessagesVisible({ label: 'queue visible', statistic: 'Maximum' }),
          queue.metricApproximateNumberOfMessagesNotVisible({
            label: 'queue in flight',
            statistic: 'Maximum',
          }),
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'dead-letter queue',
            statistic: 'Maximum',
          }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Age of oldest queued webhook (s)',
        width: 12,
        left: [
          queue.metricApproximateAgeOfOldestMessage({ label: 'queue', statistic: 'Maximum' }),
          new cloudwatch.MathExpression({
            expression: expectedDrainSeconds,
            usingMetrics: { visible: drainMetrics.visible },
            period: Duration.minutes(1),
            label: 'expected drain at the ReCharge budget',
          }),
          deadLetterQueue.metricApproximateAgeOfOldestMessage({
            label: 'dead-letter queue',
            statistic: 'Maximum',
          }),
        ],
        leftAnnotations: [
          { value: props.oldestMessageAgeAlarmSeconds, label: 'alarm (beyond expected drain)' },
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Worker outcomes',
        width: 12,
        left: [
          app(METRIC.processed, 'processed'),
          app(METRIC.duplicate, 'duplicate'),
          app(METRIC.recordIgnored, 'ignored'),
          app(METRIC.transientFailure, 'transient failure (retried)'),
          app(METRIC.permanentFailure, 'permanent failure (dead-letter)'),
          app(METRIC.configError, 'configuration problem (waiting)'),
          app(METRIC.needsAttention, 'needs attention (order-webhooks doctor)'),
          app(METRIC.statusKeptOut, 'status word kept out of a settled order'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'ReCharge API calls and 429s',
        width: 12,
        left: [app(METRIC.rechargeCalls, 'calls'), app(METRIC.recharge429, '429 throttled')],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Latency (ms)',
        width: 12,
        left: [
          ...percentiles((o) => api.metricLatency(o), 'API'),
          ...percentiles((o) => ingest.metricDuration(o), 'ingest'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker duration (ms)',
        width: 12,
        left: percentiles((o) => worker.metricDuration(o), 'worker'),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        width: 12,
        left: [
          ingest.metricErrors({ period: FIVE_MINUTES, label: 'ingest errors' }),
          ingest.metricThrottles({ period: FIVE_MINUTES, label: 'ingest throttles' }),
          worker.metricErrors({ period: FIVE_MINUTES, label: 'worker errors' }),
          worker.metricThrottles({ period: FIVE_MINUTES, label: 'worker throttles' }),
        ],
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 12, alarms: this.alarms }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Reconciliation (ReCharge)',
        width: 12,
        left: [
          app(METRIC.reconcileListed, 'orders listed'),
          app(METRIC.reconcileBehind, 'orders behind'),
          app(METRIC.reconcileBackfilled, 'orders backfilled (first pass, --since)'),
          app(METRIC.reconcileEnqueued, 'orders re-queued'),
          app(METRIC.reconcilePassFailed, 'passes failed'),
          app(METRIC.reconcileFailuresInARow, 'failed passes in a row', cloudwatch.Stats.MAXIMUM),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'ReCharge webhook subscriptions',
        width: 12,
        left: [
          app(METRIC.subscriptionRecreated, 'recreated'),
          app(METRIC.subscriptionRegistered, 'registered (first time)'),
          app(METRIC.subscriptionMissing, 'missing', cloudwatch.Stats.MAXIMUM),
          reconcile.metricErrors({ period: FIVE_MINUTES, label: 'reconcile errors' }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'ReCharge write-backs (by mode and outcome)',
        width: 12,
        left: [
          app(METRIC.writeBackKept, "kept another integration's ids (fill)"),
          app(METRIC.writeBackShadow, 'shadowed'),
          app(METRIC.writeBackRepaired, 'repaired once'),
          app(METRIC.writeBackStopped, 'stopped (fight)'),
        ],
      }),
    );
  }
}
