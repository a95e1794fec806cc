import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { SettingsError } from '../../infra/settings';
import { buildStack } from './build-stack';

const ROOT = path.resolve(__dirname, '../..');

describe('misspelled CDK context keys', () => {
  it('fail the synth naming the key and the setting it probably meant', () => {
    const build = () => buildStack({ alarmEmial: 'ops@example.com', maxConcurrancy: '4' });

    expect(build).toThrow(SettingsError);
    expect(build).toThrow('context "alarmEmial" is not a setting; did you mean "alarmEmail"?');
    expect(build).toThrow('context "maxConcurrancy" is not a setting; did you mean "maxConcurrency"?');
  });

  it('let a retired setting through with a warning, so an existing cdk.json still deploys', () => {
    const { stack } = buildStack({ idempotencyTtlSeconds: '259200' });

    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('idempotencyTtlSeconds'),
    );
    expect(warnings.map((w) => w.entry.data)).toEqual([
      expect.stringContaining('context "idempotencyTtlSeconds" is no longer a setting'),
    ]);
  });

  it('catch a dashed near miss of one of ours', () => {
    expect(() => buildStack({ 'alarm-email': 'ops@example.com' })).toThrow('did you mean "alarmEmail"?');
  });

  it("leave CDK's own feature flags and keys alone", () => {
    const { template } = buildStack({
      '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
      'aws:cdk:enable-path-metadata': true,
      'acknowledged-issue-numbers': [12345],
      alarmEmail: 'ops@example.com',
    });

    template.resourceCountIs('AWS::SNS::Subscription', 1);
  });

  it('are printed by the CDK app without a Node stack trace', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, 'infra/app.ts'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          CDK_CONTEXT_JSON: JSON.stringify({ alarmEmial: 'ops@example.com' }),
        },
      },
    );

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('did you mean "alarmEmail"?');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
