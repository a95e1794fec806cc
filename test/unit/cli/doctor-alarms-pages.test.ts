import type { DescribeAlarmsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { checkStackAlarms } from '../../../scripts/cli/doctor-alarms';

/**
 * What moto does not model for DescribeAlarms (it answers every alarm on one page, and does not
 * check IAM on CloudWatch's JSON protocol): a CloudWatch that pages by two, and one that refuses.
 */
describe('checkStackAlarms paging and refusal', () => {
  const alarm = (name: string, state: string): MetricAlarm => ({
    AlarmName: `OrderWebhooks-Monitoring${name}A1B2-0A1B`,
    StateValue: state as MetricAlarm['StateValue'],
  });
  const all = [alarm('Api5xx', 'OK'), alarm('WorkerErrors', 'OK'), alarm('DeadLetterQueueNotEmpty', 'ALARM')];

  it('reads every page (an alarm on the last page is not missed)', async () => {
    const inputs: unknown[] = [];
    const cloudWatch = {
      send: async (command: DescribeAlarmsCommand) => {
        inputs.push(command.input);
        const start = Number(command.input.NextToken ?? 0);
        const next = start + 2 < all.length ? String(start + 2) : undefined;
        return { MetricAlarms: all.slice(start, start + 2), NextToken: next };
      },
    } as never;

    const result = await checkStackAlarms(cloudWatch, 'OrderWebhooks');

    expect(result.status).toBe('fail');
    expect(result.detail).toContain('1 of 3 alarms in ALARM');
    expect(inputs).toHaveLength(2);
  });

  it('fails naming the permission when DescribeAlarms is denied', async () => {
    const denied = Object.assign(new Error('User: arn:aws:iam::123456789012:user/ops is not authorized'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const cloudWatch = { send: async () => Promise.reject(denied) } as never;

    const result = await checkStackAlarms(cloudWatch, 'OrderWebhooks');

    expect(result).toMatchObject({
      status: 'fail',
      detail: 'CloudWatch refused DescribeAlarms (AccessDenied): the alarm states are unknown',
      fix: expect.stringContaining('grant cloudwatch:DescribeAlarms'),
    });
  });
});
