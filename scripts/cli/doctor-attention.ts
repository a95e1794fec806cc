import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  ATTENTION,
  ATTENTION_DIMENSION,
  type AttentionReason,
  METRIC,
  METRICS_NAMESPACE,
} from '../../shared/metrics';
import { STACK_NAME } from '../../shared/resources';

/** How far back `needs attention` looks: a weekend. */
export const ATTENTION_HOURS = 72;

/** What to do first about each reason of the NeedsAttention alarm (the runbook has the whole story). */
export const ATTENTION_ACTIONS: Record<AttentionReason, string> = {
  [ATTENTION.workerConfigError]:
    'put a valid RECHARGE_API_TOKEN (or the missing key) in the secret ("ReCharge token works" above); waiting records complete on their own within 5 minutes',
  [ATTENTION.writeBackStopped]:
    '"ReCharge write-backs not stopped" above names the orders: settle the field with the other integration, then `orders --id <id>`',
  [ATTENTION.reconcileOrdersBehind]:
    'nothing to repair (re-queued): find why webhooks were missed (Api5xx, a recreated subscription, the API access logs)',
  [ATTENTION.reconcileFailedTwiceInARow]:
    '"last reconcile pass" above; the `reconcile pass` log line carries the error: fix the token or wait out the ReCharge outage',
  [ATTENTION.subscriptionRecreated]:
    'find why deliveries failed for two days (ingest errors, WAF, an expired secret)',
  [ATTENTION.subscriptionMissing]:
    '`order-webhooks recharge-webhooks check --aws`, then `recharge-webhooks register --aws`',
};

/** The `service` dimension of a stack's metrics (infra/constructs/app-function.ts serviceNameOf). */
export function serviceOfStack(stackName: string): string {
  return stackName === STACK_NAME ? 'order-webhooks' : stackName;
}

export interface AttentionCheckResult {
  status: 'ok' | 'warn';
  detail: string;
  fix?: string;
}

/**
 * What needed a person in the last ATTENTION_HOURS: NeedsAttention per reason (the functions publish it
 * with a `reason` dimension beside the alarm's `service` one), one GetMetricStatistics call per reason,
 * hourly sums. A warning, not a failure: it is history; the checks above say whether it still holds.
 */
export async function checkNeedsAttention(
  cloudWatch: Pick<CloudWatchClient, 'send'>,
  stackName: string,
): Promise<AttentionCheckResult> {
  const now = Date.now();
  const service = serviceOfStack(stackName);
  const found: { reason: AttentionReason; total: number; latest: Date }[] = [];
  for (const reason of Object.values(ATTENTION)) {
    const out = await cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.needsAttention,
        Dimensions: [
          { Name: 'service', Value: service },
          { Name: ATTENTION_DIMENSION, Value: reason },
        ],
        StartTime: new Date(now - ATTENTION_HOURS * 3600 * 1000),
        EndTime: new Date(now),
        Period: 3600,
        Statistics: ['Sum'],
      }),
    );
    const hours = (out.Datapoints ?? []).filter((d) => (d.Sum ?? 0) > 0 && d.Timestamp);
    if (hours.length === 0) continue;
    const latest = new Date(Math.max(...hours.map((d) => d.Timestamp?.getTime() ?? 0)));
    found.push({ reason, total: hours.reduce((sum, d) => sum + (d.Sum ?? 0), 0), latest });
  }
  if (found.length === 0)
    return {
      status: 'ok',
      detail: `nothing needed a person in the last ${ATTENTION_HOURS} h (${METRIC.needsAttention}, service ${service})`,
    };
  const lines = found.map(
    (f) =>
      `\n       - ${f.reason}: ${f.total} in the last ${ATTENTION_HOURS} h, the latest in the hour from ${f.latest.toISOString()}\n         do: ${ATTENTION_ACTIONS[f.reason]}`,
  );
  return {
    status: 'warn',
    detail: `${found.length} reason(s) in the last ${ATTENTION_HOURS} h:${lines.join('')}`,
    fix: 'the log lines with `needsAttention` carry the details; the runbook: docs/operations.md#runbook-what-each-alarm-means-and-what-to-do',
  };
}
