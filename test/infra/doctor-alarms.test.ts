import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ALARM_ACTIONS, alarmKey } from '../../scripts/cli/doctor-alarms';
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
    expect(alarms.length).toBeGreaterThan(10);
    // No AlarmName in the template: CloudFormation names it <stack>-<logical id>-<suffix>.
    const unnamed = alarms.filter(([, alarm]) => alarm.Properties.AlarmName !== undefined);
    expect(unnamed).toEqual([]);
    const keys = alarms.map(([logicalId]) => alarmKey(`${STACK_NAME}-${logicalId}-1A2B3C4D5E6F`));

    expect(keys).not.toContain(undefined);
    expect(new Set(keys).size).toBe(alarms.length);
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
