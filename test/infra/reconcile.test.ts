import { Match, type Template } from 'aws-cdk-lib/assertions';
import { METRIC, METRICS_NAMESPACE } from '../../shared/metrics';
import { buildStack } from './build-stack';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

function only(template: Template, type: string, props: Record<string, unknown>) {
  const found = Object.entries(
    template.findResources(type, { Properties: Match.objectLike(props) }) as Resources,
  );
  expect(found).toHaveLength(1);
  const [id, resource] = found[0] as [string, Resources[string]];
  return { id, props: resource.Properties };
}

function reconcileFunction(template: Template) {
  return only(template, 'AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('^order-webhooks reconcile'),
  });
}

function statementsOf(template: Template, roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  }) as Resources;
  return Object.values(policies).flatMap(
    (p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

const refOf = (resource: unknown) => {
  const r = resource as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return r.Ref ?? r['Fn::GetAtt']?.[0];
};

describe('reconcile function in the stack', () => {
  const { template } = buildStack();
  const fn = reconcileFunction(template);
  const roleId = (fn.props.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const statements = statementsOf(template, roleId);
  const ordersId = only(template, 'AWS::DynamoDB::Table', {
    PointInTimeRecoverySpecification: Match.objectLike({ PointInTimeRecoveryEnabled: true }),
  }).id;
  const queueId = only(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() }).id;
  const topicId = only(template, 'AWS::SNS::Topic', {}).id;

  it('runs every 15 minutes by default, invoked by an EventBridge rule, never retried by Lambda', () => {
    const rule = only(template, 'AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    expect(JSON.stringify(rule.props.Targets)).toContain(fn.id);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
    // Ends before the next tick: two scheduled passes never overlap.
    expect(fn.props.Timeout).toBe(840);
  });

  it('follows the reconcileIntervalMinutes context key', () => {
    const { template: every5 } = buildStack({ reconcileIntervalMinutes: '5' });
    only(every5, 'AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    expect(reconcileFunction(every5).props.Timeout).toBe(240);
  });

  it('grants exactly: send to the main queue, BatchGetItem on orders, Get/UpdateItem on its watermark item only, the rate budget, read the secret', () => {
    const onOrders = statements.filter((s) => [s.Resource].flat().some((r) => refOf(r) === ordersId));
    expect(onOrders.map((s) => ({ actions: [s.Action].flat().sort(), condition: s.Condition }))).toEqual(
      expect.arrayContaining([
        { actions: ['dynamodb:BatchGetItem'], condition: undefined },
        {
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['RECONCILE#recharge'] } },
        },
      ]),
    );
    expect(onOrders).toHaveLength(2);
    const onQueue = statements.filter((s) => [s.Resource].flat().some((r) => refOf(r) === queueId));
    expect(onQueue.flatMap((s) => [s.Action].flat())).toContain('sqs:SendMessage');
    expect(onQueue.flatMap((s) => [s.Action].flat())).not.toContain('sqs:ReceiveMessage');
    const all = statements.flatMap((s) => [s.Action].flat());
    expect(all).toContain('secretsmanager:GetSecretValue');
    expect([...new Set(all.filter((a) => a.startsWith('dynamodb:')))].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    // On the idempotency table only the shared ReCharge rate budget's items, never the worker's records.
    const idempotencyId = only(template, 'AWS::DynamoDB::Table', {
      TimeToLiveSpecification: Match.objectLike({ Enabled: true }),
    }).id;
    const onIdempotency = statements.filter((s) =>
      [s.Resource].flat().some((r) => refOf(r) === idempotencyId),
    );
    expect(onIdempotency.map((s) => ({ actions: [s.Action].flat(), condition: s.Condition }))).toEqual([
      {
        actions: ['dynamodb:UpdateItem'],
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ratebudget#*'] } },
      },
    ]);
  });

  it('tells the guard the API URL as the base ReCharge calls, unless publicBaseUrl overrides it', () => {
    const variables = (fn.props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(variables.PUBLIC_BASE_URL)).toContain('execute-api');
    expect(variables.RECHARGE_WEBHOOK_GUARD).toBe('recreate');
    const { template: custom } = buildStack({ publicBaseUrl: 'https://hooks.example.com/' });
    const env = (reconcileFunction(custom).props.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(env.PUBLIC_BASE_URL).toBe('https://hooks.example.com/');
  });

  it('alarms on what needs a person (one alarm, over the pass period, staying in ALARM between passes) and on reconcile errors', () => {
    const notify = { AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] };
    // Orders behind, failing passes and subscriptions recreated or missing publish NeedsAttention
    // (test/integration/reconcile.test.ts); one datapoint per 15-minute pass, one of the last two
    // periods in ALARM keeps the alarm there.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notify,
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.needsAttention,
      Dimensions: [{ Name: 'service', Value: 'order-webhooks' }],
      Period: 900,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      Statistic: 'Sum',
    });
    for (const detail of [
      METRIC.reconcileBehind,
      METRIC.reconcileFailuresInARow,
      METRIC.subscriptionRecreated,
      METRIC.subscriptionMissing,
    ])
      expect(
        template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: detail } }),
      ).toEqual({});
    // A daily schedule: the period follows it (two days of evaluation stay under CloudWatch's 7).
    const daily = buildStack({ reconcileIntervalMinutes: '1440' }).template;
    daily.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.needsAttention,
      Period: 86400,
      EvaluationPeriods: 2,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notify,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn.id } }],
    });
  });
});
