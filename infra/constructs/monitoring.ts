import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../../shared/metrics';
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
    const minute = { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM };
    const expectedDrainSeconds = `(visible + inFlight) * ${RECHARGE_CALLS_PER_MESSAGE} / ${props.rechargeDrainPerSecond}`;
    const drainMetrics = {
      age: queue.metricApproximateAgeOfOldestMessage(minute),
      visible: queue.metricApproximateNumberOfMessagesVisible(minute),
      inFlight: queue.metricApproximateNumberOfMessagesNotVisible(minute),
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
    for (const [name, fn] of [
      ['Ingest', ingest],
      ['Worker', worker],
      ['Reconcile', reconcile],
    ] as const) {
      alarm(`${name}Errors`, {
        alarmDescription: `The ${name.toLowerCase()} Lambda function fails invocations.`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        ...atLeast(1),
      });
      alarm(`${name}Throttles`, {
        alarmDescription: `The ${name.toLowerCase()} Lambda function is throttled (account concurrency).`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        ...atLeast(1),
      });
    }

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
    alarm('WorkerConfigError', {
      alarmDescription:
        'The worker cannot work with its settings (e.g. ReCharge refused the API token with 401/403): records wait in the queue, retried every 5 minutes. Fix the credential in the secret; see the runbook.',
      metric: app(METRIC.configError, 'configuration problem'),
      ...atLeast(1),
    });
    // A write-back fight (our ids gone again after one repair, or another integration's ids where
    // ours were): counted once per order when the worker stops; the order is not re-queued again.
    alarm('WriteBackStopped', {
      alarmDescription:
        'A ReCharge write-back did not stick twice, or another integration took the field after ours: the worker stopped writing to that order and reported it once. `order-webhooks doctor --aws` lists the orders; see the runbook.',
      metric: appMetric(METRIC.writeBackStopped),
      ...atLeast(1),
    });
    // Sustained rejections (mostly 401s) on real routes mean a credential mismatch (a rotated secret, a short token,
    // rechargeRequireTimestamp on while the store still sends only the legacy header): the provider
    // retries and ReCharge deletes the webhook after 20 failures, so it must not go unnoticed.
    alarm('WebhooksRejected', {
      alarmDescription:
        'The ingest keeps rejecting webhooks (mostly 401: credentials or signature scheme; also 400/413): see the ingest log `reason`.',
      metric: appMetric(METRIC.rejected),
      ...atLeast(5, 3),
    });

    // Reconciliation: one datapoint per pass, so the period follows the schedule.
    const passPeriod = Duration.minutes(Math.max(5, props.reconcileIntervalMinutes));
    const perPass = (metricName: string, statistic: string) =>
      appMetric(metricName, { statistic, period: passPeriod });
    alarm('ReconcileOrdersBehind', {
      alarmDescription:
        'The reconciler found ReCharge orders our records were behind (each one is a missed or failed webhook) and re-queued them: check webhook delivery, the ingest and the subscriptions.',
      metric: perPass(METRIC.reconcileBehind, cloudwatch.Stats.SUM),
      ...above(0),
    });
    alarm('ReconcileFailedTwiceInARow', {
      alarmDescription:
        'Two reconciliation passes in a row failed (ReCharge 429/5xx/timeouts, the token, or the queue): missed webhooks are not being recovered; the watermark waits.',
      metric: perPass(METRIC.reconcileFailuresInARow, cloudwatch.Stats.MAXIMUM),
      ...atLeast(2),
    });
    alarm('WebhookSubscriptionRecreated', {
      alarmDescription:
        'A ReCharge webhook subscription of ours had been deleted (ReCharge does this after 48 h of failed deliveries) and was recreated: find out why deliveries failed.',
      metric: perPass(METRIC.subscriptionRecreated, cloudwatch.Stats.SUM),
      ...above(0),
    });
    alarm('WebhookSubscriptionMissing', {
      alarmDescription:
        'A ReCharge webhook subscription of ours is missing and was not recreated (RECHARGE_WEBHOOK_GUARD=check, the pass failed, or the POST failed): run `order-webhooks recharge-webhooks check --aws`.',
      metric: perPass(METRIC.subscriptionMissing, cloudwatch.Stats.MAXIMUM),
      ...above(0),
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
            usingMetrics: { visible: drainMetrics.visible, inFlight: drainMetrics.inFlight },
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
