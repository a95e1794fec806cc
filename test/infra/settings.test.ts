import { Match } from 'aws-cdk-lib/assertions';
import { parseStackSettings, SettingsError } from '../../infra/settings';
import { QUEUE_DEFAULTS } from '../../shared/resources';
import { buildStack } from './build-stack';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('stack settings from CDK context', () => {
  it('applies the documented defaults when no context is given', () => {
    const settings = parseStackSettings(from({}));

    expect(settings).toMatchObject({
      maxReceiveCount: QUEUE_DEFAULTS.maxReceiveCount,
      batchSize: 10,
      maxBatchingWindowSeconds: 5,
      maxConcurrency: 2,
      tracing: false,
      ordersTableDeletionProtection: true,
      orderSystem: 'ledger',
      rechargeApiVersion: '2021-11',
      logRetentionDays: 30,
      apiType: 'http',
    });
    expect(settings.wafWebAclArn).toBeUndefined();
  });

  it('coerces -c key=value strings into numbers and booleans', () => {
    const settings = parseStackSettings(
      from({ throttlingRateLimit: '25', tracing: 'true', ordersTableDeletionProtection: 'false' }),
    );

    expect(settings.throttlingRateLimit).toBe(25);
    expect(settings.tracing).toBe(true);
    expect(settings.ordersTableDeletionProtection).toBe(false);
  });

  it.each([
    ['maxReceiveCount', { maxReceiveCount: 'five' }],
    ['maxConcurrency', { maxConcurrency: 1 }],
    ['tracing', { tracing: 'yes' }],
    ['logRetentionDays', { logRetentionDays: 8 }],
    ['apiType', { apiType: 'websocket' }],
    ['existingArchiveBucketName', { existingArchiveBucketName: 'Not_A_Bucket' }],
    ['alarmEmail', { alarmEmail: 'not-an-email' }],
    ['existingSecretArn', { existingSecretArn: 'arn:aws:s3:::bucket' }],
    ['rechargeApiVersion', { rechargeApiVersion: '2020-01' }],
  ])('rejects a bad %s with an error naming the key', (key, values) => {
    expect(() => parseStackSettings(from(values))).toThrow(SettingsError);
    expect(() => parseStackSettings(from(values))).toThrow(`context "${key}"`);
  });

  it('requires a batching window for batches above 10 records', () => {
    expect(() => parseStackSettings(from({ batchSize: 100, maxBatchingWindowSeconds: 0 }))).toThrow(
      'context "maxBatchingWindowSeconds"',
    );
    expect(parseStackSettings(from({ batchSize: 100, maxBatchingWindowSeconds: 5 })).batchSize).toBe(100);
  });

  it('requires orderSystemUrl for the http order system', () => {
    expect(() => parseStackSettings(from({ orderSystem: 'http' }))).toThrow('context "orderSystemUrl"');
  });

  it('refuses http:// for the ReCharge API and the order system (the token and orders would travel in clear)', () => {
    for (const url of ['http://api.rechargeapps.com', 'http://127.0.0.1:8080'])
      expect(() => parseStackSettings(from({ rechargeApiUrl: url }))).toThrow('context "rechargeApiUrl"');
    expect(() =>
      parseStackSettings(from({ orderSystem: 'http', orderSystemUrl: 'http://orders.example.com/api' })),
    ).toThrow('context "orderSystemUrl"');
    expect(
      parseStackSettings(from({ orderSystem: 'http', orderSystemUrl: 'https://orders.example.com/api' }))
        .orderSystemUrl,
    ).toBe('https://orders.example.com/api');
  });

  it('takes the KMS key of an existing secret, and only together with that secret', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hooks-AbCdEf';
    expect(
      parseStackSettings(from({ existingSecretArn: secret, existingSecretKmsKeyArn: key })),
    ).toMatchObject({
      existingSecretKmsKeyArn: key,
    });
    expect(() => parseStackSettings(from({ existingSecretKmsKeyArn: key }))).toThrow(
      'context "existingSecretKmsKeyArn"',
    );
    expect(() =>
      parseStackSettings(from({ existingSecretArn: secret, existingSecretKmsKeyArn: 'alias/hooks' })),
    ).toThrow('context "existingSecretKmsKeyArn"');
  });

  it('requires domainName and certificateArn together', () => {
    expect(() => parseStackSettings(from({ domainName: 'hooks.example.com' }))).toThrow(
      'context "certificateArn"',
    );
  });
});

describe('idempotency lease versus worker timeout', () => {
  it('defaults to a lease longer than the worker timeout', () => {
    const settings = parseStackSettings(from({}));
    expect(settings.idempotencyLeaseSeconds).toBeGreaterThan(settings.workerTimeoutSeconds);
  });

  it.each([
    [{ idempotencyLeaseSeconds: 60 }],
    [{ idempotencyLeaseSeconds: 30 }],
    [{ workerTimeoutSeconds: 300 }],
    [{ workerTimeoutSeconds: '120', idempotencyLeaseSeconds: '90' }],
  ])('refuses a lease not longer than the worker timeout, naming both settings (%j)', (values) => {
    expect(() => parseStackSettings(from(values))).toThrow(SettingsError);
    expect(() => parseStackSettings(from(values))).toThrow(
      /context "idempotencyLeaseSeconds": idempotencyLeaseSeconds \(\d+\) must be greater than workerTimeoutSeconds/,
    );
  });

  it('accepts a longer worker timeout together with a longer lease', () => {
    const settings = parseStackSettings(from({ workerTimeoutSeconds: 300, idempotencyLeaseSeconds: 600 }));
    expect(settings).toMatchObject({ workerTimeoutSeconds: 300, idempotencyLeaseSeconds: 600 });
  });
});

describe('rechargeRequireTimestamp', () => {
  it('is off by default and reaches the ingest as RECHARGE_REQUIRE_TIMESTAMP when set', () => {
    expect(parseStackSettings(from({})).rechargeRequireTimestamp).toBe(false);
    expect(parseStackSettings(from({ rechargeRequireTimestamp: 'true' })).rechargeRequireTimestamp).toBe(
      true,
    );
    const { template } = buildStack({ rechargeRequireTimestamp: 'true' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^order-webhooks ingest'),
      Environment: { Variables: Match.objectLike({ RECHARGE_REQUIRE_TIMESTAMP: 'true' }) },
    });
  });
});

describe('API type settings', () => {
  it('refuses a WAF web ACL with the HTTP API (it cannot have one), naming the key and the way out', () => {
    const waf = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y';
    expect(() => parseStackSettings(from({ wafWebAclArn: waf }))).toThrow(
      /context "wafWebAclArn": needs apiType "rest"/,
    );
    expect(parseStackSettings(from({ wafWebAclArn: waf, apiType: 'rest' })).wafWebAclArn).toBe(waf);
  });
});
