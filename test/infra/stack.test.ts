import { Match, type Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/create-app';
import { ALARM_METRICS, METRIC, METRICS_NAMESPACE } from '../../shared/metrics';
import { QUEUE_DEFAULTS, TABLE_KEYS } from '../../shared/resources';
import { ALL_FEATURES, buildStack } from './build-stack';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function onlyResource(template: Template, type: string, props: Record<string, unknown> = {}) {
  const found = template.findResources(type, { Properties: Match.objectLike(props) }) as Resources;
  const entries = Object.entries(found);
  expect(entries).toHaveLength(1);
  const [id, resource] = entries[0] as [string, Resources[string]];
  return { id, props: resource.Properties };
}

function logicalId(template: Template, type: string, props: Record<string, unknown> = {}) {
  return onlyResource(template, type, props).id;
}

/** The dead-letter queue: the queue without a redrive policy of its own. */
const deadLetterQueueId = (template: Template) =>
  logicalId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.absent() });

/** Every route of the HTTP API: its route key and integration. */
function httpRoutes(template: Template) {
  const integrations = template.findResources('AWS::ApiGatewayV2::Integration') as Resources;
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route') as Resources).map((route) => {
    const target = JSON.stringify(route.Properties.Target);
    const integration = Object.entries(integrations).find(([id]) => target.includes(id));
    return {
      routeKey: route.Properties.RouteKey as string,
      route: route.Properties,
      integration: integration?.[1].Properties,
    };
  });
}

/** The webhook secret (the ingest's) or the API secret (the worker's and reconciler's). */
function secretId(template: Template, which: 'webhook' | 'api') {
  return logicalId(template, 'AWS::SecretsManager::Secret', {
    Description: Match.stringLikeRegexp(which === 'webhook' ? 'webhook verification' : 'API credentials'),
  });
}

/** Actions granted to a function's role, per resource reference, from its inline policy. */
function grantedActions(template: Template, functionDescriptionPrefix: string) {
  const fn = onlyResource(template, 'AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp(`^${functionDescriptionPrefix}`),
  });
  const roleId = (fn.props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  }) as Resources;
  const statements = Object.values(policies).flatMap(
    (p) =>
      (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
        .Statement,
  );
  return { fn, statements };
}

function refOf(resource: unknown): string {
  const r = resource as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return r.Ref ?? r['Fn::GetAtt']?.[0] ?? JSON.stringify(resource);
}

function actionsOn(statements: { Action: string | string[]; Resource: unknown }[], target: string) {
  return statements
    .filter((s) => [s.Resource].flat().some((r) => refOf(r) === target))
    .flatMap((s) => [s.Action].flat());
}

describe('OrderWebhooks stack with default settings', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildStack());
  });

  it('exposes the four webhook routes on an HTTP API, payload format 2.0, proxied to the ingest function', () => {
    const ingestId = logicalId(template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^order-webhooks ingest'),
    });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    const routes = httpRoutes(template);
    expect(routes.map((r) => r.routeKey).sort()).toEqual(
      [
        'POST /webhooks/recharge',
        'POST /webhooks/recharge/{resource}/{event}',
        'POST /webhooks/sevi',
        'POST /webhooks/wix-cashier-pay/{token}',
      ].sort(),
    );
    for (const { route, integration } of routes) {
      expect(route.AuthorizationType).toBe('NONE');
      expect(integration).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
      expect(JSON.stringify(integration?.IntegrationUri)).toContain(ingestId);
    }
  });

  it('throttles each route on its own, logs access as JSON without the raw path, and touches no account-wide setting', () => {
    const stage = onlyResource(template, 'AWS::ApiGatewayV2::Stage').props;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    expect(Object.keys(stage.RouteSettings as object).sort()).toEqual(
      httpRoutes(template)
        .map((r) => r.routeKey)
        .sort(),
    );
    for (const settings of Object.values(stage.RouteSettings as object))
      expect(settings).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    const access = stage.AccessLogSettings as { DestinationArn: unknown; Format: string };
    const format = JSON.parse(access.Format);
    // What the ingest's line does not say: mainly the requests refused before the function.
    expect(format).toEqual({
      requestId: '$context.requestId',
      time: '$context.requestTimeEpoch',
      ip: '$context.identity.sourceIp',
      route: '$context.routeKey',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      error: '$context.error.message',
      integrationError: '$context.integrationErrorMessage',
    });
    // $context.path would write the Wix URL token into the logs.
    expect(Object.values(format)).not.toContain('$context.path');
    const accessLogGroup = refOf(access.DestinationArn);
    expect(template.toJSON().Resources[accessLogGroup]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
    // The account is left as it was: no account-level API Gateway setting, no role for API Gateway.
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })],
        }),
      },
      0,
    );
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  it('gives every log group a retention', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup') as Resources);
    expect(groups).toHaveLength(4);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('runs every function on the newest Node.js runtime, arm64, with source maps and JSON logs', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON' },
        Environment: {
          Variables: expect.objectContaining({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'order-webhooks',
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          }),
        },
      });
    }
  });

  it('wires the ingest environment to the queue and the secret', () => {
    const queueId = logicalId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const { fn } = grantedActions(template, 'order-webhooks ingest');

    expect(fn.props.Timeout).toBe(10);
    expect((fn.props.Environment as { Variables: unknown }).Variables).toMatchObject({
      QUEUE_URL: { Ref: queueId },
      SECRET_ARN: { Ref: secretId(template, 'webhook') },
      MAX_MESSAGE_BYTES: String(QUEUE_DEFAULTS.maximumMessageSizeBytes),
      RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: '172800',
      QUEUE_SEND_TIMEOUT_MS: expect.stringMatching(/^\d+$/),
      // Off by default: until the merchant's ReCharge sends the timestamped header.
      RECHARGE_REQUIRE_TIMESTAMP: 'false',
    });
  });

  it('wires the worker environment to queues, tables, secret and order-system settings', () => {
    const queueId = logicalId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const dlqId = deadLetterQueueId(template);
    const ordersId = logicalId(template, 'AWS::DynamoDB::Table', {
      KeySchema: Match.arrayWith([Match.objectLike({ KeyType: 'RANGE' })]),
    });
    const idempotencyId = logicalId(template, 'AWS::DynamoDB::Table', {
      TimeToLiveSpecification: Match.anyValue(),
    });
    const { fn } = grantedActions(template, 'order-webhooks worker');

    expect(fn.props.Timeout).toBe(QUEUE_DEFAULTS.workerTimeoutSeconds);
    expect((fn.props.Environment as { Variables: unknown }).Variables).toMatchObject({
      QUEUE_URL: { Ref: queueId },
      DLQ_URL: { Ref: dlqId },
      IDEMPOTENCY_TABLE: { Ref: idempotencyId },
      ORDERS_TABLE: { Ref: ordersId },
      SECRET_ARN: { Ref: secretId(template, 'api') },
      ORDER_SYSTEM: 'ledger',
      RECHARGE_API_URL: 'https://api.rechargeapps.com',
      RECHARGE_API_VERSION: '2021-11',
      ORDER_NUMBER_START: '1001',
      // The worker refuses a lease not longer than its timeout; it learns the timeout from here.
      IDEMPOTENCY_LEASE_SECONDS: '120',
      WORKER_TIMEOUT_SECONDS: String(QUEUE_DEFAULTS.workerTimeoutSeconds),
      RECHARGE_RATE_CAPACITY: '40',
      RECHARGE_RATE_PER_SECOND: '2',
      QUEUE_MAX_RECEIVE_COUNT: '5',
    });
    expect((fn.props.Environment as { Variables: object }).Variables).not.toHaveProperty('ORDER_SYSTEM_URL');
  });

  it('keeps messages 14 days (the SQS maximum) in the main queue and the DLQ', () => {
    // A deferred message (visibility extended while the rate budget or the order system recovers)
    // keeps its enqueue time: this is how long an outage may last before SQS drops it unseen.
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue') as Resources))
      expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
    expect(QUEUE_DEFAULTS.queueRetentionDays).toBe(14);
  });

  it('uses a standard encrypted queue with TLS enforced, a 5-receive redrive and a 14-day DLQ', () => {
    const dlqId = deadLetterQueueId(template);
    const queue = onlyResource(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() }).props;

    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      MaximumMessageSize: QUEUE_DEFAULTS.maximumMessageSizeBytes,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(queue.FifoQueue).toBeUndefined();
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: QUEUE_DEFAULTS.dlqRetentionDays * 86_400,
      SqsManagedSseEnabled: true,
      MaximumMessageSize: QUEUE_DEFAULTS.maximumMessageSizeBytes,
    });
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy') as Resources);
    expect(policies).toHaveLength(2);
    for (const policy of policies)
      expect(policy.Properties.PolicyDocument).toMatchObject({
        Statement: expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      });
  });

  it('sets the queue visibility timeout to at least 6x the worker timeout', () => {
    const queue = onlyResource(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() }).props;
    const worker = onlyResource(template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^order-webhooks worker'),
    }).props;

    expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (worker.Timeout as number));
  });

  it('drains the queue into the worker with partial batch failures and bounded concurrency', () => {
    const queueId = logicalId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
      MaximumBatchingWindowInSeconds: 5,
    });
  });

  it('keeps idempotency records on TTL and the orders ledger safe from deletion', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: TABLE_KEYS.idempotency.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: TABLE_KEYS.idempotency.ttlAttribute, Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: TABLE_KEYS.orders.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.orders.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('creates the provider secret with a constant empty JSON value', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: '{}' });
  });

  it('grants the ingest only: send to the queue, read the secret, write its logs', () => {
    const queueId = logicalId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const dlqId = deadLetterQueueId(template);
    const { statements } = grantedActions(template, 'order-webhooks ingest');

    expect(actionsOn(statements, queueId)).toContain('sqs:SendMessage');
    expect(actionsOn(statements, queueId)).not.toContain('sqs:ReceiveMessage');
    expect(actionsOn(statements, dlqId)).toEqual([]);
    expect(actionsOn(statements, secretId(template, 'webhook'))).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue']),
    );
    // The public-facing function never reads the API credentials.
    expect(actionsOn(statements, secretId(template, 'api'))).toEqual([]);
    expect(statements.flatMap((s) => [s.Action].flat()).some((a) => a.startsWith('dynamodb:'))).toBe(false);
  });

  it('grants the worker: consume the queue, send to the DLQ, read/write its tables, read the secret', () => {
    const queueId = logicalId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const dlqId = deadLetterQueueId(template);
    const { statements } = grantedActions(template, 'order-webhooks worker');

    expect(actionsOn(statements, queueId)).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    expect(actionsOn(statements, dlqId)).toContain('sqs:SendMessage');
    // A record waiting for the ReCharge budget at the redrive limit is re-sent fresh to its own queue.
    expect(actionsOn(statements, queueId)).toContain('sqs:SendMessage');
    const idempotencyId = logicalId(template, 'AWS::DynamoDB::Table', {
      TimeToLiveSpecification: Match.objectLike({ Enabled: true }),
    });
    const ordersId = logicalId(template, 'AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: Match.objectLike({ PointInTimeRecoveryEnabled: true }),
    });
    // DynamoDB Local enforces no IAM: iam-contract.test.ts checks the calls the worker makes against this.
    // Only the rate budget's reservations: the worker's effect steps live on the order items.
    expect([...actionsOn(statements, idempotencyId)].sort()).toEqual(['dynamodb:UpdateItem']);
    // Order items read with their details item (Query of the partition), superseded details deleted.
    expect([...actionsOn(statements, ordersId)].sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(statements, secretId(template, 'api'))).toContain('secretsmanager:GetSecretValue');
    // The webhook secrets are the ingest's alone (unless combinedSecret, while moving).
    expect(actionsOn(statements, secretId(template, 'webhook'))).toEqual([]);
  });

  it('uses no wildcard actions and no wildcard resources in the function policies', () => {
    for (const prefix of ['order-webhooks ingest', 'order-webhooks worker', 'order-webhooks reconcile']) {
      const { statements } = grantedActions(template, prefix);
      for (const statement of statements) {
        for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
        expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
      }
    }
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      {
        ManagedPolicyArns: Match.anyValue(),
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
        }),
      },
      0,
    );
  });

  it('alarms on DLQ depth, oldest message age, API 5xx, worker and reconcile errors, rejections and what needs attention, notifying SNS', () => {
    const dlqName = {
      'Fn::GetAtt': [deadLetterQueueId(template), 'QueueName'],
    };
    const topicId = logicalId(template, 'AWS::SNS::Topic');
    const notify = { AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] };

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notify,
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: dlqName }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // Oldest-message age minus the time the backlog needs at the budget's 2 calls/s (less its headroom),
    // the messages in flight counted as what the worker holds: batch 10 x 2 concurrent invocations.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notify,
      Threshold: 900,
      Metrics: [
        Match.objectLike({ Expression: 'age - (visible + 20) * 1 / 1.95', ReturnData: true }),
        Match.objectLike({
          Id: 'age',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ApproximateAgeOfOldestMessage' }),
          }),
        }),
        Match.objectLike({
          Id: 'visible',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible' }),
          }),
        }),
      ],
    });
    // The HTTP API's 5xx metric (REST's is 5XXError: see the rest variant below).
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notify,
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalId(template, 'AWS::ApiGatewayV2::Api') } }],
    });
    // Errors of the worker and the reconciler; the ingest's fail as API 5xx, throttles are caught by
    // Api5xx and QueueOldestMessageAge (infra/constructs/monitoring.ts).
    const lambdaAlarms = (metric: string) =>
      Object.values(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { Namespace: 'AWS/Lambda', MetricName: metric, ...notify },
        }),
      ).map((a) => JSON.stringify(a.Properties.Dimensions));
    const ingestId = grantedActions(template, 'order-webhooks ingest').fn.id;
    const workerId = grantedActions(template, 'order-webhooks worker').fn.id;
    expect(lambdaAlarms('Errors')).toHaveLength(2);
    expect(lambdaAlarms('Errors').join()).toContain(workerId);
    expect(lambdaAlarms('Errors').join()).not.toContain(ingestId);
    expect(lambdaAlarms('Throttles')).toEqual([]);
    // Sustained rejections: a credential mismatch makes providers retry and ReCharge give up.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notify,
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.rejected,
      Threshold: 5,
      EvaluationPeriods: 3,
    });
    // One alarm for every condition that needs a person, over the reconcile schedule's period (15 min).
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notify,
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.needsAttention,
      Dimensions: [{ Name: 'service', Value: 'order-webhooks' }],
      Statistic: 'Sum',
      Period: 900,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      AlarmDescription: Match.stringLikeRegexp('order-webhooks doctor --aws'),
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('has 7 alarms reading 8 metrics ($0.10 a month each), so the idle month stays under $2', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const metricsRead = alarms.map(
      (a) =>
        (a.Properties.Metrics as { MetricStat?: unknown }[] | undefined)?.filter((m) => m.MetricStat)
          .length ?? 1,
    );

    expect(alarms).toHaveLength(7);
    expect(metricsRead.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it("has no dashboard by default, publishes only the alarms' metrics, and logs at INFO", () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(template.findOutputs('DashboardUrl')).toEqual({});
    for (const description of ['order-webhooks ingest', 'order-webhooks worker', 'order-webhooks reconcile'])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(`^${description}`),
        Environment: {
          Variables: Match.objectLike({ PUBLISH_DASHBOARD_METRICS: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' }),
        },
      });
  });

  it('alarms only on metrics the functions publish without the dashboard', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as { Namespace?: string; MetricName?: string; Metrics?: unknown },
    );
    const ours = alarms.filter((a) => JSON.stringify(a).includes(`"${METRICS_NAMESPACE}"`));
    expect(ours.length).toBeGreaterThan(0);
    for (const alarm of ours) {
      const names = [...JSON.stringify(alarm).matchAll(/"MetricName":"([^"]+)"/g)].map((m) => m[1]);
      for (const name of names) expect(ALARM_METRICS).toContain(name);
    }
  });

  it('builds a dashboard from the metric names and namespace the functions emit when asked', () => {
    const withDashboard = buildStack({ dashboard: 'true' }).template;
    const dashboard = onlyResource(withDashboard, 'AWS::CloudWatch::Dashboard').props;
    const body = JSON.stringify(dashboard.DashboardBody);
    // Every metric the functions emit is on the dashboard.
    for (const name of Object.values(METRIC))
      expect(body).toContain(`\\"${METRICS_NAMESPACE}\\",\\"${name}\\",\\"service\\",\\"order-webhooks\\"`);
    expect(body).toContain('ApproximateAgeOfOldestMessage');
    expect(body).toContain('p99');
    expect(JSON.stringify(withDashboard.findOutputs('DashboardUrl'))).toContain('#dashboards/dashboard/');
    withDashboard.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PUBLISH_DASHBOARD_METRICS: 'true' }) },
    });
  });

  it('outputs each webhook URL, the DLQ name and console URL and the secret ARN', () => {
    const outputs = template.findOutputs('*');
    const joined = (name: string) => JSON.stringify(outputs[name]?.Value);

    expect(joined('RechargeWebhookUrl')).toMatch(/\/webhooks\/recharge"\]\]\}$/);
    expect(joined('RechargeTopicWebhookUrl')).toContain('/webhooks/recharge/<resource>/<event>');
    expect(joined('WixCashierPayWebhookUrl')).toContain('/webhooks/wix-cashier-pay/<WIX_TOKEN>');
    expect(joined('SeviWebhookUrl')).toContain('/webhooks/sevi');
    expect(joined('RechargeWebhookUrl')).toContain('execute-api');
    expect(outputs.DeadLetterQueueName).toBeDefined();
    expect(joined('DeadLetterQueueConsoleUrl')).toContain('console.aws.amazon.com/sqs/v3/home');
    expect(outputs.SecretArn?.Value).toEqual({ Ref: secretId(template, 'webhook') });
    expect(outputs.ApiSecretArn?.Value).toEqual({ Ref: secretId(template, 'api') });
    expect(outputs.OrdersTableName?.Value).toEqual({
      Ref: logicalId(template, 'AWS::DynamoDB::Table', {
        PointInTimeRecoverySpecification: Match.anyValue(),
      }),
    });
    expect(outputs.DeadLetterQueueUrl).toBeDefined();
    expect(outputs.QueueUrl).toBeDefined();
  });
});

describe('OrderWebhooks stack with every option set', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildStack({
      ...ALL_FEATURES,
      maxReceiveCount: '3',
      batchSize: '50',
      maxBatchingWindowSeconds: '5',
      maxConcurrency: '4',
      throttlingRateLimit: '20',
      throttlingBurstLimit: '40',
      oldestMessageAgeAlarmSeconds: '600',
      rechargeRateCapacity: '80',
      rechargeRatePerSecond: '10',
      logRetentionDays: '90',
      ordersTableDeletionProtection: 'false',
    }));
  });

  it('applies the tunables to the event source, redrive, throttling, alarms and retention', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 4 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const queue = onlyResource(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() }).props;
    expect(queue.RedrivePolicy).toMatchObject({ maxReceiveCount: 3 });
    // The batching window adds to how long a record can sit in flight.
    expect(queue.VisibilityTimeout).toBe(6 * QUEUE_DEFAULTS.workerTimeoutSeconds + 5);
    const methodSettings = onlyResource(template, 'AWS::ApiGateway::Stage').props.MethodSettings as object[];
    expect(methodSettings).toHaveLength(5);
    for (const settings of methodSettings)
      expect(settings).toMatchObject({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 600,
      // In flight: batch 50 x 4 concurrent invocations.
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'age - (visible + 200) * 1 / 9.75' })]),
    });
    expect(
      (grantedActions(template, 'order-webhooks worker').fn.props.Environment as { Variables: object })
        .Variables,
    ).toMatchObject({
      RECHARGE_RATE_CAPACITY: '80',
      RECHARGE_RATE_PER_SECOND: '10',
      QUEUE_MAX_RECEIVE_COUNT: '3',
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: false,
    });
  });

  it('traces both functions with X-Ray but never the API stage, whose segments would record the Wix path token', () => {
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    const stage = onlyResource(template, 'AWS::ApiGateway::Stage').props;
    expect(stage.TracingEnabled).toBe(false);
  });

  it('associates the WAF web ACL with the API stage', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: ALL_FEATURES.wafWebAclArn,
      ResourceArn: Match.anyValue(),
    });
  });

  it('serves the webhooks on the custom domain and prints those URLs', () => {
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: ALL_FEATURES.domainName,
      RegionalCertificateArn: ALL_FEATURES.certificateArn,
      SecurityPolicy: 'TLS_1_2',
    });
    template.resourceCountIs('AWS::ApiGateway::BasePathMapping', 1);
    const outputs = template.findOutputs('*');
    expect(outputs.WixCashierPayWebhookUrl?.Value).toBe(
      'https://hooks.example.com/webhooks/wix-cashier-pay/<WIX_TOKEN>',
    );
    expect(outputs.CustomDomainTarget).toBeDefined();
  });

  it('reads the existing secret instead of creating one, granting exactly that ARN', () => {
    // Only the API secret is created.
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const { statements } = grantedActions(template, 'order-webhooks ingest');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['secretsmanager:GetSecretValue']),
        Resource: ALL_FEATURES.existingSecretArn,
      }),
    );
    expect(template.findOutputs('SecretArn').SecretArn?.Value).toBe(ALL_FEATURES.existingSecretArn);
  });

  it.each([
    ['ingest', 'order-webhooks ingest'],
    ['worker', 'order-webhooks worker'],
  ])(
    'lets the %s decrypt the existing secret with its customer managed key, through Secrets Manager only',
    (_name, prefix) => {
      const { statements } = grantedActions(template, prefix);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Resource: ALL_FEATURES.existingSecretKmsKeyArn,
          Condition: {
            StringEquals: {
              'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com',
            },
          },
        }),
      );
    },
  );

  it('subscribes the alarm email and points the worker at the merchant order system', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: ALL_FEATURES.alarmEmail,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ORDER_SYSTEM: 'http', ORDER_SYSTEM_URL: ALL_FEATURES.orderSystemUrl }),
      },
    });
  });
});

describe('OrderWebhooks stack with apiType rest (for AWS WAF)', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildStack({ apiType: 'rest' }));
  });

  it('exposes the four webhook routes as POST methods proxied to the ingest function', () => {
    const ingestId = logicalId(template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^order-webhooks ingest'),
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    const paths = Object.values(template.findResources('AWS::ApiGateway::Resource') as Resources).map(
      (r) => r.Properties.PathPart,
    );
    expect(paths.sort()).toEqual(
      ['webhooks', 'recharge', '{resource}', '{event}', 'wix-cashier-pay', '{token}', 'sevi'].sort(),
    );
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources);
    expect(methods).toHaveLength(4);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        HttpMethod: 'POST',
        AuthorizationType: 'NONE',
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
      expect(JSON.stringify(method.Properties.Integration)).toContain(ingestId);
    }
  });

  it('is a regional API throttled per route, with JSON access logs without the raw path, and no execution or body logs', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    const stage = onlyResource(template, 'AWS::ApiGateway::Stage').props;
    const settings = stage.MethodSettings as Record<string, unknown>[];
    expect(settings.map((m) => `${m.HttpMethod} ${m.ResourcePath}`).sort()).toEqual(
      [
        '* /*',
        'POST /~1webhooks~1recharge',
        'POST /~1webhooks~1recharge~1{resource}~1{event}',
        'POST /~1webhooks~1sevi',
        'POST /~1webhooks~1wix-cashier-pay~1{token}',
      ].sort(),
    );
    for (const setting of settings) {
      expect(setting).toMatchObject({
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
        DataTraceEnabled: false,
      });
      expect(setting.LoggingLevel ?? 'OFF').toBe('OFF');
    }
    expect(settings.find((m) => m.ResourcePath === '/*')?.LoggingLevel).toBe('OFF');
    const format = JSON.parse((stage.AccessLogSetting as { Format: string }).Format);
    expect(format).toEqual({
      requestId: '$context.requestId',
      time: '$context.requestTimeEpoch',
      ip: '$context.identity.sourceIp',
      route: '$context.resourcePath',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      error: '$context.error.message',
      integrationError: '$context.integrationErrorMessage',
    });
    expect(Object.values(format)).not.toContain('$context.path');
    expect(stage.TracingEnabled).toBe(false);
  });

  it('sets the account-level logging role REST needs, and deletes that role with the stack (no orphan)', () => {
    const account = onlyResource(template, 'AWS::ApiGateway::Account').props;
    const roleId = refOf(account.CloudWatchRoleArn);
    const resources = template.toJSON().Resources;
    expect(resources[roleId]).toMatchObject({ Type: 'AWS::IAM::Role', DeletionPolicy: 'Delete' });
    for (const [id, resource] of Object.entries(resources as Record<string, { DeletionPolicy?: string }>))
      if (id === roleId || resources[id].Type === 'AWS::ApiGateway::Account')
        expect(resource.DeletionPolicy).not.toBe('Retain');

    const { template: without } = buildStack({ apiType: 'rest', apiGatewayCloudWatchRole: 'false' });
    without.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('gives every log group a retention: the functions and the access log (no execution log group left to API Gateway)', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup') as Resources);
    expect(groups).toHaveLength(4);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('alarms on the REST API 5xx metric', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
    });
  });
});

describe('app', () => {
  it('builds an environment-agnostic stack (no account or region lookups, so synth runs offline)', () => {
    const { stack } = buildStack();

    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
  });

  it('refuses to build the app when a context value is invalid, naming the key', () => {
    expect(() => createApp({ context: { maxReceiveCount: 'lots' } })).toThrow('context "maxReceiveCount"');
  });
});
