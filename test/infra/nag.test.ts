import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createApp } from '../../infra/create-app';
import { ALL_FEATURES, testAppProps } from './build-stack';

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['default settings', {}],
    ['every option set (REST API with WAF)', ALL_FEATURES],
    ['the REST API with its defaults', { apiType: 'rest' }],
    [
      'the HTTP API with every option it takes',
      { ...ALL_FEATURES, apiType: 'http', wafWebAclArn: undefined, existingOrdersTableName: 'kept-orders' },
    ],
  ])('reports no unacknowledged findings with %s', (_name, context) => {
    const { app } = createApp(testAppProps(context));

    const report = new AwsSolutionsChecks().validateScope(app);

    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`)).toEqual(
      [],
    );
    expect(report.success).toBe(true);
  });

  it('fails the synth when a resource breaks a rule nobody acknowledged', () => {
    const { app, stack } = createApp(testAppProps());
    // No SSE, no TLS policy, no DLQ: AwsSolutions-SQS2/SQS3/SQS4 errors.
    new sqs.Queue(stack, 'Careless', { encryption: sqs.QueueEncryption.UNENCRYPTED });

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
  });

  it('lets the real app synthesize (the same plugin that fails the line above passes here)', () => {
    const { app } = createApp(testAppProps());

    expect(() => app.synth()).not.toThrow();
  });

  it('gives every acknowledgement a specific reason', () => {
    const { app } = createApp(testAppProps(ALL_FEATURES));
    const reasons = app.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.values(m.data as Record<string, string>));

    expect(reasons.length).toBeGreaterThanOrEqual(6);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(60);
  });
});
