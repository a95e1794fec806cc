import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DOCTOR_CHECKS, runDoctor } from '../../scripts/cli/doctor';
import {
  createMotoStack,
  type Moto,
  motoIamUser,
  putMotoAlarms,
  putMotoMetric,
  putMotoSecret,
  startMoto,
} from '../support/moto';

jest.setTimeout(60_000);

/**
 * `order-webhooks doctor --aws` with the real CloudWatch client against moto: it lists the stack's
 * alarms in ALARM with what they mean and what to do, and fails clearly when DescribeAlarms is
 * denied.
 */
/** Runs these doctor checks with --aws (and `args`), capturing what doctor prints. */
async function runChecks(checks: typeof DOCTOR_CHECKS, args: string[]) {
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const quiet = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await runDoctor(['--aws', ...args], checks), out };
  } finally {
    write.mockRestore();
    quiet.mockRestore();
  }
}

const VARS = [
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_CLOUDWATCH',
  'AWS_ENDPOINT_URL_CLOUDFORMATION',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'ORDER_WEBHOOKS_STACK',
  'SECRET_ARN',
  'QUEUE_URL',
  'DLQ_URL',
  'ORDERS_TABLE',
  'LOCAL_DATA_DIR',
] as const;

const DLQ_DESCRIPTION =
  'Webhooks failed permanently or exhausted their retries: inspect and redrive the dead-letter queue.';
const ALARMS = [
  { name: 'OrderWebhooks-MonitoringApi5xxA1B2C3D4-0A1B2C3D4E5F', state: 'OK' as const },
  {
    name: 'OrderWebhooks-MonitoringDeadLetterQueueNotEmpty9F8E7D6C-1B2C3D4E5F6A',
    state: 'ALARM' as const,
    description: DLQ_DESCRIPTION,
  },
  { name: 'OrderWebhooks-MonitoringWorkerErrors11223344-2C3D4E5F6A7B', state: 'INSUFFICIENT_DATA' as const },
  {
    name: 'OrderWebhooks-MonitoringNeedsAttentionAABBCCDD-3D4E5F6A7B8C',
    state: 'ALARM' as const,
    description: 'Something only a person can settle. Run `order-webhooks doctor --aws`.',
  },
  // Another stack in the same account and region: not ours.
  { name: 'OrderWebhooksStaging-MonitoringApi5xxFFEEDDCC-4E5F6A7B8C9D', state: 'ALARM' as const },
  // A stack whose alarms are all fine.
  { name: 'OrderWebhooksCalm-MonitoringApi5xxFFEEDDCC-5F6A7B8C9D0E', state: 'OK' as const },
];

describe('doctor --aws: alarms in ALARM', () => {
  let moto: Moto;
  let dir: string;
  const saved: Partial<Record<(typeof VARS)[number], string>> = {};
  const check = DOCTOR_CHECKS.filter((c) => c.name === 'alarms in ALARM');

  const doctor = (args: string[] = []) => runChecks(check, args);

  beforeAll(async () => {
    moto = await startMoto();
    await putMotoAlarms(moto, 'eu-west-3', ALARMS);
    // --stack reads the stack's outputs: more stacks in the same region.
    const outputs = (name: string) => ({
      QueueUrl: `https://sqs.eu-west-3.amazonaws.com/123456789012/${name}-Queue`,
      DeadLetterQueueUrl: 'https://sqs.eu-west-3.amazonaws.com/123456789012/d',
      OrdersTableName: 't',
    });
    for (const name of ['OrderWebhooksStaging', 'OrderWebhooksEmpty', 'OrderWebhooksCalm'])
      await createMotoStack(moto, 'eu-west-3', name, outputs(name));
    dir = mkdtempSync(path.join(tmpdir(), 'doctor-alarms-'));
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
    process.env.AWS_CONFIG_FILE = path.join(dir, 'none');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'none');
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    Object.assign(process.env, moto.env);
    // All three names given: no CloudFormation call; the region comes from the queue URL.
    process.env.QUEUE_URL = 'https://sqs.eu-west-3.amazonaws.com/123456789012/q';
    process.env.DLQ_URL = 'https://sqs.eu-west-3.amazonaws.com/123456789012/dlq';
    process.env.ORDERS_TABLE = 'orders';
    process.env.LOCAL_DATA_DIR = path.join(dir, 'no-local-mode');
  });

  it("lists each of the stack's alarms in ALARM with what it means, what to do and the runbook", async () => {
    const { code, out } = await doctor();

    expect(code).toBe(1);
    expect(out).toContain('[ok]   AWS access: account 123456789012');
    expect(out).toContain('[FAIL] alarms in ALARM: 2 of 4 alarms in ALARM:');
    expect(out).toMatch(
      /- DeadLetterQueueNotEmpty since \d{4}-\d\d-\d\dT[\d:.]+Z: Webhooks failed permanently or exhausted their retries/,
    );
    expect(out).toContain('do: `order-webhooks dlq list --aws` shows each failureReason');
    expect(out).toMatch(/- NeedsAttention since [\dT:.Z-]+: Something only a person can settle/);
    expect(out).toContain('do: the `needs attention` line of this doctor names each reason');
    expect(out).toContain(
      'fix: the runbook: docs/operations.md#runbook-what-each-alarm-means-and-what-to-do',
    );
    // Not another stack's alarm, nor ours in OK or INSUFFICIENT_DATA.
    expect(out).not.toMatch(/Staging|Calm|- Api5xx|- WorkerErrors/);
  });

  it('is ok when none of them is in ALARM', async () => {
    const { code, out } = await doctor(['--stack', 'OrderWebhooksCalm']);

    expect(code).toBe(0);
    expect(out).toContain("[ok]   alarms in ALARM: none of the stack's 1 alarms is in ALARM");
  });

  it("reads another stack's alarms with --stack", async () => {
    const { code, out } = await doctor(['--stack', 'OrderWebhooksStaging']);

    expect(code).toBe(1);
    expect(out).toContain('[ok]   stack found: stack OrderWebhooksStaging in eu-west-3');
    expect(out).toContain('1 of 1 alarms in ALARM:\n       - Api5xx');
  });

  it('warns when the stack has no alarm in that region (wrong stack name or region)', async () => {
    const { code, out } = await doctor(['--stack', 'OrderWebhooksEmpty']);

    expect(code).toBe(0);
    expect(out).toContain('[warn] alarms in ALARM: no alarm named OrderWebhooksEmpty-* in this region');
  });

  it('reports a stack that is not in the region as a failed check and carries on', async () => {
    const { code, out } = await doctor(['--stack', 'OrderWebhooksGone']);

    expect(code).toBe(1);
    expect(out).toContain('[FAIL] stack found: stack "OrderWebhooksGone" not found in eu-west-3');
    expect(out).toContain('fix: pass --region <the region it was deployed to> and/or --stack <its name>');
    // The alarm check still ran (by the stack's name prefix).
    expect(out).toContain('[warn] alarms in ALARM: no alarm named OrderWebhooksGone-* in this region');
  });

  it('reports missing credentials as a failed check with the fix, and skips what needs AWS', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;

    const { code, out } = await doctor();

    expect(code).toBe(1);
    expect(out).toContain('[FAIL] AWS access: no AWS credentials found\n       fix: run `aws configure`');
    expect(out).toContain('[skip] alarms in ALARM: needs AWS access');
    expect(out).not.toMatch(/CredentialsProviderError|Could not load/);
  });

  it('reports a missing region as a failed check with the fix', async () => {
    delete process.env.QUEUE_URL;
    delete process.env.DLQ_URL;

    const { code, out } = await doctor();

    expect(code).toBe(1);
    expect(out).toContain(
      '[FAIL] AWS access: no AWS region\n       fix: pass --region <region the stack was deployed to>',
    );
  });

  it('reports an unreachable endpoint as a failed check with the fix', async () => {
    process.env.AWS_ENDPOINT_URL_STS = 'http://127.0.0.1:9';

    const { code, out } = await doctor();

    expect(code).toBe(1);
    expect(out).toMatch(
      /\[FAIL\] AWS access: cannot reach AWS .*\(ECONNREFUSED\)\n {7}fix: check the region name/,
    );
  });

  describe("credential keys present, from the stack's secret", () => {
    const secretCheck = DOCTOR_CHECKS.filter((c) => c.name === 'credential keys present');
    const run = () => runChecks(secretCheck, []);

    it('names the keys the secret lacks, never a value', async () => {
      process.env.SECRET_ARN = await putMotoSecret(
        moto,
        'eu-west-3',
        'doctor-partial',
        JSON.stringify({ RECHARGE_API_TOKEN: 'rc_live_token_for_doctor_0001' }),
      );

      const { code, out } = await run();

      expect(code).toBe(1);
      expect(out).toContain(
        '[FAIL] credential keys present: missing: RECHARGE_WEBHOOK_SECRETS (ReCharge webhooks)',
      );
      expect(out).not.toContain('rc_live_token_for_doctor_0001');
    });

    it('fails with the fix when the secret is not there', async () => {
      process.env.SECRET_ARN = 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:gone-AbCdEf';

      const { code, out } = await run();

      expect(code).toBe(1);
      expect(out).toContain('[FAIL] credential keys present: cannot read the credentials');
      expect(out).toContain('fix: check SECRET_ARN (output SecretArn)');
    });
  });

  describe("worker last succeeded, from SQS's own metric (no table read)", () => {
    const worker = DOCTOR_CHECKS.filter((c) => c.name === 'worker last succeeded');
    const run = (args: string[]) => runChecks(worker, args);

    beforeAll(async () => {
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3600 * 1000);
      // The default stack's main queue (QUEUE_URL in this suite): records handled and deleted.
      await putMotoMetric(moto, 'eu-west-3', {
        namespace: 'AWS/SQS',
        name: 'NumberOfMessagesDeleted',
        dimensions: { QueueName: 'q' },
        points: [
          { at: hoursAgo(30), value: 4 },
          { at: hoursAgo(2), value: 3 },
        ],
      });
    });

    it("reads the stack's main queue's NumberOfMessagesDeleted", async () => {
      const { code, out } = await run([]);

      expect(code).toBe(0);
      expect(out).toMatch(
        /\[ok\] {3}worker last succeeded: 7 record\(s\) processed in the last 72 h, the latest in the hour from /,
      );
    });

    // The default stack's worker processed records 2 h ago: another stack does not count them.
    it("warns for a stack whose worker processed nothing lately, and not from another stack's metric", async () => {
      // The staging stack's own queue, from its outputs.
      for (const name of ['QUEUE_URL', 'DLQ_URL', 'ORDERS_TABLE']) delete process.env[name];
      const { code, out } = await run(['--stack', 'OrderWebhooksStaging', '--region', 'eu-west-3']);

      expect(code).toBe(0);
      expect(out).toContain(
        '[warn] worker last succeeded: the worker processed no record in the last 72 h (AWS/SQS NumberOfMessagesDeleted, queue OrderWebhooksStaging-Queue)',
      );
    });
  });

  describe('needs attention, from the reasons NeedsAttention carries', () => {
    const attention = DOCTOR_CHECKS.filter((c) => c.name === 'needs attention');
    const run = (args: string[]) => runChecks(attention, args);

    beforeAll(async () => {
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3600 * 1000);
      // What the functions publish: the alarm's series (service) and one per reason (service, reason).
      const publish = (service: string, reason: string | undefined, points: { at: Date; value: number }[]) =>
        putMotoMetric(moto, 'eu-west-3', {
          namespace: 'OrderWebhooks',
          name: 'NeedsAttention',
          dimensions: reason ? { service, reason } : { service },
          points,
        });
      await publish('order-webhooks', undefined, [{ at: hoursAgo(3), value: 3 }]);
      await publish('order-webhooks', 'subscription-missing', [
        { at: hoursAgo(5), value: 1 },
        { at: hoursAgo(3), value: 1 },
      ]);
      await publish('order-webhooks', 'worker-config-error', [{ at: hoursAgo(3), value: 1 }]);
      // Older than the window, and another stack's.
      await publish('order-webhooks', 'write-back-stopped', [{ at: hoursAgo(100), value: 1 }]);
      await publish('OrderWebhooksStaging', 'reconcile-orders-behind', [{ at: hoursAgo(1), value: 4 }]);
    });

    it("names each reason of the last 72 h with how often, when and what to do (the stack's own only)", async () => {
      const { code, out } = await run([]);

      expect(code).toBe(0);
      expect(out).toContain('[warn] needs attention: 2 reason(s) in the last 72 h:');
      expect(out).toMatch(/- worker-config-error: 1 in the last 72 h, the latest in the hour from \d{4}-/);
      expect(out).toContain('do: put a valid RECHARGE_API_TOKEN');
      expect(out).toMatch(/- subscription-missing: 2 in the last 72 h/);
      expect(out).toContain('do: `order-webhooks recharge-webhooks check --aws`');
      expect(out).not.toMatch(/write-back-stopped|reconcile-orders-behind/);
      expect(out).toContain('fix: the log lines with `needsAttention` carry the details');
    });

    it("reads another stack's service with --stack, and is ok when nothing needed a person", async () => {
      for (const name of ['QUEUE_URL', 'DLQ_URL', 'ORDERS_TABLE']) delete process.env[name];
      const staging = await run(['--stack', 'OrderWebhooksStaging', '--region', 'eu-west-3']);
      const calm = await run(['--stack', 'OrderWebhooksCalm', '--region', 'eu-west-3']);

      expect(staging.out).toMatch(/- reconcile-orders-behind: 4 in the last 72 h/);
      expect(staging.out).not.toContain('subscription-missing');
      expect(calm.code).toBe(0);
      expect(calm.out).toContain(
        '[ok]   needs attention: nothing needed a person in the last 72 h (NeedsAttention, service OrderWebhooksCalm)',
      );
    });
  });

  // moto checks IAM on CloudFormation's and STS's query protocol, not on CloudWatch's JSON protocol:
  // the denied path is shown on the stack lookup.
  describe('with IAM enforced', () => {
    let ops: { accessKeyId: string; secretAccessKey: string };
    beforeAll(async () => {
      ops = await motoIamUser(moto, 'ops-no-stacks', [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: 'cloudformation:DescribeStacks', Resource: '*' },
      ]);
      await moto.enforceIam(true);
    });
    afterAll(() => moto.enforceIam(false));

    it('reports a denied stack lookup as a failed check naming the permission, and carries on', async () => {
      process.env.AWS_ACCESS_KEY_ID = ops.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = ops.secretAccessKey;

      const { code, out } = await doctor(['--stack', 'OrderWebhooksStaging']);

      expect(code).toBe(1);
      expect(out).toContain(
        '[ok]   AWS access: account 123456789012 (arn:aws:iam::123456789012:user/ops-no-stacks), region eu-west-3',
      );
      expect(out).toContain(
        '[FAIL] stack found: AWS denied cloudformation:DescribeStacks in eu-west-3 (AccessDenied)\n       fix: grant it',
      );
      // The next check ran.
      expect(out).toContain('[FAIL] alarms in ALARM: 1 of 1 alarms in ALARM');
    });
  });
});
