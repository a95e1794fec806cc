import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { ALL_FEATURES, buildStack } from './build-stack';

const docs = readFileSync(path.resolve(__dirname, '../../docs/deployment.md'), 'utf8');

describe('deploy documentation', () => {
  it('lists every stack output with the description the stack gives it', () => {
    const { template } = buildStack({ ...ALL_FEATURES });
    const documented = new Map(
      [...docs.matchAll(/^\| `([A-Za-z]+)(…)?` \| (.+) \|$/gm)].map((m) => [m[1] as string, m[3] as string]),
    );

    const outputs = Object.entries(template.findOutputs('*'));
    expect(outputs.length).toBeGreaterThan(10);
    for (const [logicalId, output] of outputs) {
      const name = logicalId.startsWith('ApiEndpoint') ? 'ApiEndpoint' : logicalId;
      const description = String((output as { Description?: string }).Description).replace(
        ALL_FEATURES.domainName,
        '<domainName>',
      );
      expect({ name, description: documented.get(name) }).toEqual({ name, description });
    }
  });

  it('shows ORDER_SYSTEM_SECRET in the secret example beside orderSystem=http', () => {
    expect(docs).toContain('"orderSystem": "http"');
    expect(docs).toMatch(/```json\n\{[^}]*"ORDER_SYSTEM_SECRET"/);
  });

  it('never puts a credential on a command line: every secret goes in from a file', () => {
    const all = ['deployment.md', 'operations.md', 'configuration.md', 'local-mode.md', 'security.md']
      .map((name) => readFileSync(path.join(__dirname, '../../docs', name), 'utf8'))
      .join('\n');
    expect(docs).toContain('--secret-string file://');
    expect(all).not.toMatch(/--secret-string ['"{]/);
    expect(all).not.toMatch(/--secret (?!-)/);
  });
});

describe('alarms nobody hears', () => {
  it('warn at synth when neither alarmEmail nor alarmTopicArn is set', () => {
    const { stack } = buildStack();

    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('No alarmEmail or alarmTopicArn'));
  });

  it('do not warn when an email is subscribed', () => {
    const { stack } = buildStack({ alarmEmail: 'ops@example.com' });

    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('No alarmEmail or alarmTopicArn'));
  });
});

describe('a retained orders table after tear-down', () => {
  it('is attached by existingOrdersTableName instead of creating a new one', () => {
    const { template } = buildStack({ existingOrdersTableName: 'OrderWebhooks-OrdersTable1A2B3C-XYZ' });

    // Only the idempotency table is created.
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ORDERS_TABLE: 'OrderWebhooks-OrdersTable1A2B3C-XYZ' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['dynamodb:PutItem']),
            Resource: Match.objectLike({
              'Fn::Join': Match.arrayWith([Match.arrayWith([':table/OrderWebhooks-OrdersTable1A2B3C-XYZ'])]),
            }),
          }),
        ]),
      },
    });
  });
});
