import { type CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { plainAwsError } from './aws-errors';

/** Where the runbook explains every alarm (docs/operations.md). */
export const ALARM_RUNBOOK_LINK = 'docs/operations.md#runbook-what-each-alarm-means-and-what-to-do';

/**
 * What to do first about each alarm of infra/constructs/monitoring.ts, by its construct id (the
 * runbook has the whole story). test/infra/doctor-alarms.test.ts fails when an alarm lacks an entry.
 */
export const ALARM_ACTIONS: Record<string, string> = {
  DeadLetterQueueNotEmpty:
    '`order-webhooks dlq list --aws` shows each failureReason; fix the cause, then `dlq redrive --aws`',
  QueueOldestMessageAge:
    'look at WorkerErrors / NeedsAttention and the worker outcomes on the dashboard; a renewal-day backlog draining at the ReCharge rate is expected',
  Api5xx:
    'read the ingest logs (outcome, reason): SQS unreachable, or provider credentials missing from the secret; a failed ingest init or Lambda throttling also answers 5xx',
  WorkerErrors: "read the worker's log group: a failed init names the bad variable",
  ReconcileErrors: "read the reconcile function's log group (bad settings at init, or a timeout)",
  NeedsAttention:
    'the `needs attention` line of this doctor names each reason and what to do; the log lines carry `needsAttention`',
  WebhooksRejected:
    'the ingest `webhook` log lines carry reason and provider: fix the rotated secret or rechargeRequireTimestamp',
};

/**
 * The runbook key of a deployed alarm. CloudFormation names an alarm without an explicit name
 * `<stack>-<logical id>-<suffix>`, and the logical id holds the construct id (MonitoringApi5xx1A2B...);
 * the longest key found wins, so a key never hides a longer one that contains it.
 */
export function alarmKey(alarmName: string): string | undefined {
  return Object.keys(ALARM_ACTIONS)
    .filter((key) => alarmName.includes(key))
    .sort((a, b) => b.length - a.length)[0];
}

export interface AlarmsCheckResult {
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** True for CloudWatch's answer to a caller without cloudwatch:DescribeAlarms. */
function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    /AccessDenied|NotAuthorized|UnauthorizedOperation/.test(e.name ?? '') ||
    e.$metadata?.httpStatusCode === 403
  );
}

/**
 * The stack's alarms in ALARM: every metric alarm named `<stack>-...` (DescribeAlarms by name prefix,
 * page after page), each in ALARM listed with its description (what it means) and its first action.
 * By prefix rather than by names the stack outputs: it needs no stack change, and an alarm added later
 * is found too. Denied access fails the check (an unknown alarm state is not "all clear").
 */
export async function checkStackAlarms(
  cloudWatch: Pick<CloudWatchClient, 'send'>,
  stackName: string,
): Promise<AlarmsCheckResult> {
  const prefix = `${stackName}-`;
  const alarms: MetricAlarm[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await cloudWatch.send(
        new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, MaxRecords: 100, NextToken: nextToken }),
      );
      alarms.push(...(page.MetricAlarms ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    if (isAccessDenied(error))
      return {
        status: 'fail',
        detail: `CloudWatch refused DescribeAlarms (${(error as Error).name}): the alarm states are unknown`,
        fix: 'grant cloudwatch:DescribeAlarms (docs/operations.md, "The CLI in AWS"), or open DashboardUrl',
      };
    const plain = plainAwsError(error, { action: 'cloudwatch:DescribeAlarms' });
    const at = plain?.indexOf(': ') ?? -1;
    if (plain && at > 0) return { status: 'fail', detail: plain.slice(0, at), fix: plain.slice(at + 2) };
    return {
      status: 'fail',
      detail: `cannot read the alarms: ${(error as Error).name}: ${(error as Error).message}`,
      fix: 'check the region and your AWS credentials, or open DashboardUrl',
    };
  }
  if (alarms.length === 0)
    return {
      status: 'warn',
      detail: `no alarm named ${prefix}* in this region`,
      fix: 'pass the stack name (--stack) and region (--region) it was deployed with',
    };
  const firing = alarms.filter((a) => a.StateValue === 'ALARM');
  if (firing.length === 0)
    return { status: 'ok', detail: `none of the stack's ${alarms.length} alarms is in ALARM` };
  const lines = firing.map((a) => {
    const key = a.AlarmName ? alarmKey(a.AlarmName) : undefined;
    const since = a.StateUpdatedTimestamp ? ` since ${a.StateUpdatedTimestamp.toISOString()}` : '';
    return [
      `\n       - ${key ?? a.AlarmName}${since}: ${a.AlarmDescription ?? '(no description)'}`,
      `\n         do: ${key ? ALARM_ACTIONS[key] : 'see the runbook'}`,
    ].join('');
  });
  return {
    status: 'fail',
    detail: `${firing.length} of ${alarms.length} alarms in ALARM:${lines.join('')}`,
    fix: `the runbook: ${ALARM_RUNBOOK_LINK}`,
  };
}
