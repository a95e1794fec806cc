import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ALARM_ACTIONS, alarmKey } from '../../scripts/cli/doctor-alarms';
import { ATTENTION_ACTIONS, serviceOfStack } from '../../scripts/cli/doctor-attention';
import { ATTENTION, METRIC } from '../../shared/metrics';
import { STACK_NAME } from '../../shared/resources';
import { ALL_FEATURES, buildStack } from './build-stack';

/**
 * `doctor --aws` explains every alarm the stack deploys: each has a first action in ALARM_ACTIONS and a
 * row in the runbook (docs/operations.md). A new alarm without either fails here.
 */
describe('doctor knows every alarm of the stack', () => {
  const { template } = buildStack(ALL_FEATURES);
  const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
  const runbook = readFileSync(path.resolve(__dirname, '../../docs/operations.md'), 'utf8');

  it('finds a runbook key for each alarm from the name CloudFormation gives it', () => {
    expect(alarms.length).toBeGreaterThan(5);
    // No AlarmName in the template: CloudFormation names it <stack>-<logical id>-<suffix>.
    const unnamed = alarms.filter(([, alarm]) => alarm.Properties.AlarmName !== undefined);
    expect(unnamed).toEqual([]);
    const keys = alarms.map(([logicalId]) => alarmKey(`${STACK_NAME}-${logicalId}-1A2B3C4D5E6F`));

    expect(keys).not.toContain(undefined);
    expect(new Set(keys).size).toBe(alarms.length);
  });

  it("reads NeedsAttention under the service the stack's functions publish it with (default and a named stack)", () => {
    for (const stackName of [STACK_NAME, 'OrderWebhooksStaging']) {
      const { template: named } = buildStack({ stackName });
      named.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: METRIC.needsAttention,
        Dimensions: [{ Name: 'service', Value: serviceOfStack(stackName) }],
      });
    }
  });

  it('has a first action and a runbook row for every reason NeedsAttention carries', () => {
    const reasons = Object.values(ATTENTION);
    const rows = runbook.slice(runbook.indexOf('### `NeedsAttention`: each reason'));

    expect(Object.keys(ATTENTION_ACTIONS).sort()).toEqual([...reasons].sort());
    for (const reason of reasons) expect(rows).toContain(`| ${reason} |`);
  });

  it('every alarm key has a row in the runbook', () => {
    const missing = Object.keys(ALARM_ACTIONS).filter((key) => !runbook.includes(`\`${key}\``));

    expect(missing).toEqual([]);
  });
});

describe('the CloudWatch client stays out of the Lambda bundles', () => {
  it('only the CLI imports @aws-sdk/client-cloudwatch (functions/ and shared/ never do)', () => {
    const root = path.resolve(__dirname, '../..');
    const sources = ['functions', 'shared'].flatMap((dir) =>
      readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => path.join(dir, file)),
    );
    const importing = sources.filter((file) =>
      readFileSync(path.join(root, file), 'utf8').includes('@aws-sdk/client-cloudwatch'),
    );

    expect(sources.length).toBeGreaterThan(20);
    expect(importing).toEqual([]);
  });
});
