import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveTarget } from '../../scripts/cli/target';
import { STACK_NAME } from '../../shared/resources';
import { type FakeCloudFormation, startFakeCloudFormation } from '../support/fake-cloudformation';

/**
 * `--aws` with the real SDK clients: the region comes from the user's AWS profile (a config file
 * in a temp folder), the names from the stack's outputs served by a CloudFormation stand-in.
 */
const OUTPUTS = (region: string, prefix: string) => ({
  QueueUrl: `https://sqs.${region}.amazonaws.com/123456789012/${prefix}-Queue`,
  DeadLetterQueueUrl: `https://sqs.${region}.amazonaws.com/123456789012/${prefix}-DeadLetterQueue`,
  OrdersTableName: `${prefix}-OrdersTable`,
  ArchiveBucketName: `${prefix.toLowerCase()}-archivebucket`,
  IdempotencyTableName: `${prefix}-IdempotencyTable`,
  SecretArn: `arn:aws:secretsmanager:${region}:123456789012:secret:${prefix}-secret-AbCdEf`,
  ApiSecretArn: `arn:aws:secretsmanager:${region}:123456789012:secret:${prefix}-api-secret-AbCdEf`,
  WebhookBaseUrl: `https://${prefix}.example.com/`,
  DashboardUrl: 'https://example.invalid',
});

const VARS = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_CLOUDFORMATION',
  'QUEUE_URL',
  'DLQ_URL',
  'ORDERS_TABLE',
  'ARCHIVE_BUCKET',
  'IDEMPOTENCY_TABLE',
  'SECRET_ARN',
  'WEBHOOK_API_URL',
  'LOCAL_DATA_DIR',
] as const;

describe('the CLI finds the deployed stack (--aws)', () => {
  let cfn: FakeCloudFormation;
  let dir: string;
  const saved: Partial<Record<(typeof VARS)[number], string>> = {};
  const announced: string[] = [];
  const announce = (line: string) => announced.push(line);

  beforeAll(async () => {
    cfn = await startFakeCloudFormation([
      { name: STACK_NAME, region: 'eu-west-3', outputs: OUTPUTS('eu-west-3', 'prod') },
      { name: 'OrderWebhooksStaging', region: 'us-west-2', outputs: OUTPUTS('us-west-2', 'staging') },
    ]);
    dir = mkdtempSync(path.join(tmpdir(), 'cli-aws-'));
    writeFileSync(
      path.join(dir, 'config'),
      '[default]\nregion = ap-south-1\n\n[profile ops]\nregion = eu-west-3\n',
    );
    writeFileSync(path.join(dir, 'empty-config'), '');
    writeFileSync(
      path.join(dir, 'credentials'),
      '[default]\naws_access_key_id = test\naws_secret_access_key = test\n\n[ops]\naws_access_key_id = test\naws_secret_access_key = test\n',
    );
    for (const name of VARS) saved[name] = process.env[name];
  });
  afterAll(async () => {
    for (const name of VARS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await cfn.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const name of VARS) delete process.env[name];
    // An operator's shell: a named profile with its region, no AWS_REGION exported.
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_PROFILE = 'ops';
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cfn.url;
    process.env.LOCAL_DATA_DIR = path.join(dir, 'no-local-mode');
    cfn.requests.length = 0;
    announced.length = 0;
  });

  it("uses the profile's region and reads the queue, dead-letter queue and table from the stack's outputs", async () => {
    const target = await resolveTarget({ aws: true }, { announce });

    expect(target).toMatchObject({
      kind: 'aws',
      region: 'eu-west-3',
      stack: STACK_NAME,
      queueUrl: OUTPUTS('eu-west-3', 'prod').QueueUrl,
      dlqUrl: OUTPUTS('eu-west-3', 'prod').DeadLetterQueueUrl,
      ordersTable: 'prod-OrdersTable',
      archiveBucket: 'prod-archivebucket',
      // What reconcile, recharge-webhooks and doctor need besides: no variable to export by hand.
      idempotencyTable: 'prod-IdempotencyTable',
      secretArn: OUTPUTS('eu-west-3', 'prod').SecretArn,
      apiUrl: 'https://prod.example.com/',
    });
    // The SQS and DynamoDB clients sign for the stack's region, not us-east-1.
    expect(await target.sqs.config.region()).toBe('eu-west-3');
    expect(await target.dynamo.config.region()).toBe('eu-west-3');
    expect(cfn.requests).toEqual([
      {
        params: expect.objectContaining({ Action: 'DescribeStacks', StackName: STACK_NAME }),
        signedRegion: 'eu-west-3',
      },
    ]);
    expect(announced).toEqual([
      `aws: stack ${STACK_NAME} in eu-west-3; account 123456789012, region eu-west-3`,
    ]);
  });

  it('takes another stack and region from --stack and --region', async () => {
    const target = await resolveTarget({ stack: 'OrderWebhooksStaging', region: 'us-west-2' }, { announce });

    expect(target).toMatchObject({ kind: 'aws', region: 'us-west-2', ordersTable: 'staging-OrdersTable' });
    expect(await target.sqs.config.region()).toBe('us-west-2');
    expect(announced).toEqual([
      'aws: stack OrderWebhooksStaging in us-west-2; account 123456789012, region us-west-2',
    ]);
  });

  it('lets an environment variable override one output and says so', async () => {
    process.env.ORDERS_TABLE = 'restored-OrdersTable';

    const target = await resolveTarget({ aws: true }, { announce });

    expect(target).toMatchObject({
      ordersTable: 'restored-OrdersTable',
      queueUrl: OUTPUTS('eu-west-3', 'prod').QueueUrl,
    });
    expect(announced).toEqual([
      `aws: stack ${STACK_NAME} in eu-west-3; ORDERS_TABLE from the environment; account 123456789012, region eu-west-3`,
    ]);
  });

  it('makes no CloudFormation call when all three names are set, and signs for the queue URL region', async () => {
    process.env.QUEUE_URL = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/q';
    process.env.DLQ_URL = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/dlq';
    process.env.ORDERS_TABLE = 'orders';

    const target = await resolveTarget({ aws: true }, { announce });

    expect(target).toMatchObject({ kind: 'aws', region: 'ap-southeast-2', stack: undefined });
    expect(await target.sqs.config.region()).toBe('ap-southeast-2');
    expect(cfn.requests).toHaveLength(0);
    expect(announced[0]).toMatch(
      /region ap-southeast-2; QUEUE_URL, DLQ_URL, ORDERS_TABLE from the environment/,
    );
  });

  it('names the region it looked in when the stack is not there', async () => {
    process.env.AWS_PROFILE = 'default';

    await expect(resolveTarget({ aws: true }, { announce })).rejects.toThrow(
      `stack "${STACK_NAME}" not found in ap-south-1: pass --region <the region it was deployed to>`,
    );
  });

  it('asks for a region when neither the environment nor the profile has one', async () => {
    process.env.AWS_CONFIG_FILE = path.join(dir, 'empty-config');
    delete process.env.AWS_PROFILE;

    await expect(resolveTarget({ aws: true }, { announce })).rejects.toThrow(/no AWS region: pass --region/);
    expect(cfn.requests).toHaveLength(0);
  });
});
