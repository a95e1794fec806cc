import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveTarget } from '../../scripts/cli/target';
import { STACK_NAME } from '../../shared/resources';
import { createMotoStack, MOTO_ACCOUNT, type Moto, motoIamUser, startMoto } from '../support/moto';

jest.setTimeout(60_000);

/**
 * `--aws` with the real SDK clients: the region comes from the user's AWS profile (a config file
 * in a temp folder), the account from STS and the names from the stack's outputs, both served by
 * moto (each region its own CloudFormation, as in AWS).
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
  'AWS_ENDPOINT_URL_STS',
  'ORDER_WEBHOOKS_STACK',
  'QUEUE_URL',
  'DLQ_URL',
  'ORDERS_TABLE',
  'ARCHIVE_BUCKET',
  'IDEMPOTENCY_TABLE',
  'SECRET_ARN',
  'WEBHOOK_API_URL',
  'LOCAL_DATA_DIR',
] as const;

/** Nothing listens here: a call to it fails at once (ECONNREFUSED). */
const CLOSED = 'http://127.0.0.1:9';
const IDENTITY = (region: string) =>
  `aws: account ${MOTO_ACCOUNT} (arn:aws:sts::${MOTO_ACCOUNT}:user/moto), region ${region}`;

describe('the CLI finds the deployed stack (--aws)', () => {
  let moto: Moto;
  let dir: string;
  const saved: Partial<Record<(typeof VARS)[number], string>> = {};
  const announced: string[] = [];
  const announce = (line: string) => announced.push(line);

  beforeAll(async () => {
    moto = await startMoto();
    await createMotoStack(moto, 'eu-west-3', STACK_NAME, OUTPUTS('eu-west-3', 'prod'));
    await createMotoStack(moto, 'us-west-2', 'OrderWebhooksStaging', OUTPUTS('us-west-2', 'staging'));
    await createMotoStack(moto, 'eu-west-3', 'OrderWebhooksStaging', OUTPUTS('eu-west-3', 'staging'));
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
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const name of VARS) delete process.env[name];
    // An operator's shell: a named profile with its region, no AWS_REGION exported.
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_PROFILE = 'ops';
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    Object.assign(process.env, moto.env);
    process.env.LOCAL_DATA_DIR = path.join(dir, 'no-local-mode');
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
    // The account and region first, then the stack (found in eu-west-3 only: the call was signed there).
    expect(target.account).toBe(MOTO_ACCOUNT);
    expect(announced).toEqual([IDENTITY('eu-west-3'), `aws: stack ${STACK_NAME} in eu-west-3`]);
  });

  it('takes another stack and region from --stack and --region', async () => {
    const target = await resolveTarget({ stack: 'OrderWebhooksStaging', region: 'us-west-2' }, { announce });

    expect(target).toMatchObject({ kind: 'aws', region: 'us-west-2', ordersTable: 'staging-OrdersTable' });
    expect(await target.sqs.config.region()).toBe('us-west-2');
    expect(announced).toEqual([IDENTITY('us-west-2'), 'aws: stack OrderWebhooksStaging in us-west-2']);
  });

  it('takes the stack name from ORDER_WEBHOOKS_STACK (staging and production side by side)', async () => {
    process.env.ORDER_WEBHOOKS_STACK = 'OrderWebhooksStaging';

    const target = await resolveTarget({ aws: true }, { announce });

    expect(target).toMatchObject({ region: 'eu-west-3', stack: 'OrderWebhooksStaging' });
    expect(target.queueUrl).toBe(OUTPUTS('eu-west-3', 'staging').QueueUrl);
  });

  it('takes the stack name from the stackName the project deploys with (cdk.json)', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'cli-project-'));
    writeFileSync(path.join(project, 'package.json'), '{}');
    writeFileSync(
      path.join(project, 'cdk.json'),
      JSON.stringify({ context: { stackName: 'OrderWebhooksStaging' } }),
    );
    const cwd = process.cwd();
    process.chdir(project);
    try {
      const target = await resolveTarget({ aws: true }, { announce });
      expect(target).toMatchObject({ stack: 'OrderWebhooksStaging', ordersTable: 'staging-OrdersTable' });
    } finally {
      process.chdir(cwd);
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('lets an environment variable override one output and says so', async () => {
    process.env.ORDERS_TABLE = 'restored-OrdersTable';

    const target = await resolveTarget({ aws: true }, { announce });

    expect(target).toMatchObject({
      ordersTable: 'restored-OrdersTable',
      queueUrl: OUTPUTS('eu-west-3', 'prod').QueueUrl,
    });
    expect(announced).toEqual([
      IDENTITY('eu-west-3'),
      `aws: stack ${STACK_NAME} in eu-west-3; ORDERS_TABLE from the environment`,
    ]);
  });

  it('makes no CloudFormation call when all three names are set, and signs for the queue URL region', async () => {
    process.env.QUEUE_URL = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/q';
    process.env.DLQ_URL = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/dlq';
    process.env.ORDERS_TABLE = 'orders';
    // A CloudFormation call would fail here.
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = CLOSED;

    const target = await resolveTarget({ aws: true }, { announce });

    expect(target).toMatchObject({ kind: 'aws', region: 'ap-southeast-2', stack: undefined });
    expect(await target.sqs.config.region()).toBe('ap-southeast-2');
    expect(announced[0]).toBe(IDENTITY('ap-southeast-2'));
    expect(announced[1]).toMatch(
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
    expect(announced).toEqual([]);
  });

  describe('says in one line what to do when AWS cannot be used', () => {
    const failure = async (values: { aws: true; region?: string } = { aws: true }) => {
      const error = await resolveTarget(values, { announce }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.name).toBe('CliError');
      expect(error?.message).not.toContain('\n');
      return error?.message ?? '';
    };

    it('no credentials anywhere', async () => {
      process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'empty-config');
      process.env.AWS_PROFILE = 'ops';

      const message = await failure();
      expect(message).toMatch(/^no AWS credentials found: run `aws configure`/);
      expect(message).not.toMatch(/CredentialsProviderError|Could not load/);
      expect(announced).toEqual([]);
    });

    it('an endpoint that cannot be reached', async () => {
      process.env.AWS_ENDPOINT_URL_STS = CLOSED;

      const message = await failure();
      expect(message).toMatch(
        /^cannot reach AWS .*in eu-west-3 \(ECONNREFUSED\): check the region name \(--region\)/,
      );
    });

    describe('with IAM enforced', () => {
      let ops: { accessKeyId: string; secretAccessKey: string };
      beforeAll(async () => {
        // An operator allowed everything but CloudFormation.
        ops = await motoIamUser(moto, 'ops', [
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Deny', Action: 'cloudformation:*', Resource: '*' },
        ]);
        await moto.enforceIam(true);
      });
      afterAll(() => moto.enforceIam(false));

      it('credentials AWS does not know', async () => {
        delete process.env.AWS_PROFILE;
        process.env.AWS_ACCESS_KEY_ID = 'AKIAUNKNOWN000000000';
        process.env.AWS_SECRET_ACCESS_KEY = 'nope';

        expect(await failure({ aws: true, region: 'eu-west-3' })).toMatch(
          /^AWS does not accept these credentials \(InvalidClientTokenId\)/,
        );
      });

      it('access denied to the stack lookup, with the way around it', async () => {
        delete process.env.AWS_PROFILE;
        process.env.AWS_ACCESS_KEY_ID = ops.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = ops.secretAccessKey;

        expect(await failure({ aws: true, region: 'eu-west-3' })).toMatch(
          /^AWS denied cloudformation:DescribeStacks in eu-west-3 \(AccessDenied\): grant it .*; or set QUEUE_URL, DLQ_URL and ORDERS_TABLE/,
        );
        // The account and region were printed before.
        expect(announced).toEqual([
          `aws: account ${MOTO_ACCOUNT} (arn:aws:iam::${MOTO_ACCOUNT}:user/ops), region eu-west-3`,
        ]);
      });
    });
  });
});
