import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DOCTOR_CHECKS, runDoctor } from '../../scripts/cli/doctor';
import { type FakeCloudFormation, startFakeCloudFormation } from '../support/fake-cloudformation';
import { type FakeCloudWatch, startFakeCloudWatch } from '../support/fake-cloudwatch';

/**
 * `order-webhooks doctor --aws` with the real CloudWatch client against a CloudWatch stand-in on
 * loopback: it lists the stack's alarms in ALARM with what they mean and what to do, and fails
 * clearly when DescribeAlarms is denied.
 */
const VARS = [
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_CLOUDWATCH',
  'AWS_ENDPOINT_URL_CLOUDFORMATION',
  'QUEUE_URL',
  'DLQ_URL',
  'ORDERS_TABLE',
  'LOCAL_DATA_DIR',
] as const;

const ALARMS = () => [
  { name: 'OrderWebhooks-MonitoringApi5xxA1B2C3D4-0A1B2C3D4E5F', state: 'OK' as const },
  {
    name: 'OrderWebhooks-MonitoringDeadLetterQueueNotEmpty9F8E7D6C-1B2C3D4E5F6A',
    state: 'ALARM' as const,
    description:
      'Webhooks failed permanently or exhausted their retries: inspect and redrive the dead-letter queue.',
    updated: '2026-12-01T09:30:00Z',
  },
  { name: 'OrderWebhooks-MonitoringWorkerErrors11223344-2C3D4E5F6A7B', state: 'INSUFFICIENT_DATA' as const },
  {
    name: 'OrderWebhooks-MonitoringWorkerConfigErrorAABBCCDD-3D4E5F6A7B8C',
    state: 'ALARM' as const,
    description:
      'The worker cannot work with its settings (e.g. ReCharge refused the API token with 401/403).',
  },
  // Another stack in the same account and region: not ours.
  { name: 'OrderWebhooksStaging-MonitoringApi5xxFFEEDDCC-4E5F6A7B8C9D', state: 'ALARM' as const },
];

describe('doctor --aws: alarms in ALARM', () => {
  let cloudWatch: FakeCloudWatch;
  let cfn: FakeCloudFormation;
  let dir: string;
  const saved: Partial<Record<(typeof VARS)[number], string>> = {};
  const check = DOCTOR_CHECKS.filter((c) => c.name === 'alarms in ALARM');

  async function doctor(args: string[] = []): Promise<{ code: number; out: string }> {
    let out = '';
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const announce = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      return { code: await runDoctor(['--aws', ...args], check), out };
    } finally {
      write.mockRestore();
      announce.mockRestore();
    }
  }

  beforeAll(async () => {
    cloudWatch = await startFakeCloudWatch();
    // --stack reads the stack's outputs: two more stacks in the same region.
    const outputs = {
      QueueUrl: 'https://sqs.eu-west-3.amazonaws.com/123456789012/s',
      DeadLetterQueueUrl: 'https://sqs.eu-west-3.amazonaws.com/123456789012/d',
      OrdersTableName: 't',
    };
    cfn = await startFakeCloudFormation([
      { name: 'OrderWebhooksStaging', region: 'eu-west-3', outputs },
      { name: 'OrderWebhooksEmpty', region: 'eu-west-3', outputs },
    ]);
    dir = mkdtempSync(path.join(tmpdir(), 'doctor-alarms-'));
    for (const name of VARS) saved[name] = process.env[name];
  });
  afterAll(async () => {
    for (const name of VARS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await cloudWatch.close();
    await cfn.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const name of VARS) delete process.env[name];
    process.env.AWS_CONFIG_FILE = path.join(dir, 'none');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'none');
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    process.env.AWS_ENDPOINT_URL_CLOUDWATCH = cloudWatch.url;
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cfn.url;
    // All three names given: no CloudFormation call; the region comes from the queue URL.
    process.env.QUEUE_URL = 'https://sqs.eu-west-3.amazonaws.com/123456789012/q';
    process.env.DLQ_URL = 'https://sqs.eu-west-3.amazonaws.com/123456789012/dlq';
    process.env.ORDERS_TABLE = 'orders';
    process.env.LOCAL_DATA_DIR = path.join(dir, 'no-local-mode');
    cloudWatch.alarms = ALARMS();
    cloudWatch.deny = false;
    cloudWatch.requests.length = 0;
  });

  it("lists each of the stack's alarms in ALARM with what it means, what to do and the runbook", async () => {
    const { code, out } = await doctor();

    expect(code).toBe(1);
    expect(out).toContain('[FAIL] alarms in ALARM: 2 of 4 alarms in ALARM:');
    expect(out).toContain(
      '- DeadLetterQueueNotEmpty since 2026-12-01T09:30:00.000Z: Webhooks failed permanently or exhausted their retries',
    );
    expect(out).toContain('do: `order-webhooks dlq list --aws` shows each failureReason');
    expect(out).toContain(
      '- WorkerConfigError since 2026-12-01T08:00:00.000Z: The worker cannot work with its settings',
    );
    expect(out).toContain('do: put a valid RECHARGE_API_TOKEN');
    expect(out).toContain(
      'fix: the runbook: docs/operations.md#runbook-what-each-alarm-means-and-what-to-do',
    );
    // Not another stack's alarm, nor ours in OK or INSUFFICIENT_DATA.
    expect(out).not.toMatch(/Staging|Api5xx|WorkerErrors/);
    // Every page read (the stand-in pages by 2), signed for the stack's region, by the stack's prefix.
    expect(cloudWatch.requests).toHaveLength(2);
    for (const request of cloudWatch.requests)
      expect(request).toMatchObject({
        target: 'GraniteServiceVersion20100801.DescribeAlarms',
        body: expect.objectContaining({ AlarmNamePrefix: 'OrderWebhooks-' }),
        signedRegion: 'eu-west-3',
      });
  });

  it('is ok when none of them is in ALARM', async () => {
    cloudWatch.alarms = ALARMS().map((a) => ({ ...a, state: a.name.includes('Staging') ? a.state : 'OK' }));

    const { code, out } = await doctor();

    expect(code).toBe(0);
    expect(out).toContain("[ok]   alarms in ALARM: none of the stack's 4 alarms is in ALARM");
  });

  it("reads another stack's alarms with --stack", async () => {
    const { code, out } = await doctor(['--stack', 'OrderWebhooksStaging']);

    expect(code).toBe(1);
    expect(out).toContain('1 of 1 alarms in ALARM:\n       - Api5xx');
    expect(cloudWatch.requests[0]?.body).toMatchObject({ AlarmNamePrefix: 'OrderWebhooksStaging-' });
  });

  it('warns when the stack has no alarm in that region (wrong stack name or region)', async () => {
    const { code, out } = await doctor(['--stack', 'OrderWebhooksEmpty']);

    expect(code).toBe(0);
    expect(out).toContain('[warn] alarms in ALARM: no alarm named OrderWebhooksEmpty-* in this region');
  });

  it('fails clearly, naming the permission, when DescribeAlarms is denied', async () => {
    cloudWatch.deny = true;

    const { code, out } = await doctor();

    expect(code).toBe(1);
    expect(out).toContain(
      '[FAIL] alarms in ALARM: CloudWatch refused DescribeAlarms (AccessDenied): the alarm states are unknown',
    );
    expect(out).toContain('fix: grant cloudwatch:DescribeAlarms');
  });
});
