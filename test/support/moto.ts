import { type ChildProcess, spawn } from 'node:child_process';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** The account moto answers for (its default). */
export const MOTO_ACCOUNT = '123456789012';

/** Credentials moto accepts while it does not check IAM (any pair does). */
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface Moto {
  endpoint: string;
  /**
   * Variables that point the SDK's STS, CloudFormation, CloudWatch and Secrets Manager clients at
   * this moto (the SDK reads AWS_ENDPOINT_URL_<SERVICE> when it builds a client).
   */
  env: Record<string, string>;
  /**
   * IAM checks on (every later call needs moto-IAM credentials and a policy allowing it) or off;
   * for the denied-access and rejected-credentials paths.
   */
  enforceIam(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;

/**
 * Starts moto (`python3 -m moto.server`, a maintained AWS emulator) on a free loopback port for one
 * suite, waits until it answers, and stops it on `stop()`. Fails with how to install it when the
 * machine has no moto.
 */
export async function startMoto(): Promise<Moto> {
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`moto did not start within ${START_TIMEOUT_MS / 1000} s`),
      START_TIMEOUT_MS,
    );
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new Error(
          `${why}. The --aws tests need moto: \`pip install 'moto[server]'\` (python3 -m moto.server). Output:\n${output.slice(-2000)}`,
        ),
      );
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.on('error', (error) => fail(`cannot run python3 (${error.message})`));
    child.on('exit', (code) => fail(`moto exited with code ${code} before it was ready`));
  });
  child.removeAllListeners('exit');
  // A suite that dies before its afterAll must not leave moto running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(endpoint, child);
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_STS: endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    },
    enforceIam: async (on) => {
      // moto's own switch: after this many unauthenticated calls, IAM is enforced ("inf": never).
      const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
      if (!res.ok) throw new Error(`moto reset-auth answered ${res.status}`);
    },
    stop: () => stopChild(child),
  };
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stopChild(child);
      throw new Error(`moto at ${endpoint} did not answer within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A CloudFormation stack in moto with these outputs (a one-resource template): what the CLI's
 * stack discovery reads. Returns its StackId.
 */
export async function createMotoStack(
  moto: Moto,
  region: string,
  name: string,
  outputs: Record<string, string>,
): Promise<string> {
  const cfn = new CloudFormationClient({ endpoint: moto.endpoint, region, credentials });
  try {
    const template = {
      Resources: { Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
      Outputs: Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { Value: value }])),
    };
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
    const out = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    return out.Stacks?.[0]?.StackId ?? '';
  } finally {
    cfn.destroy();
  }
}

export interface MotoAlarm {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  description?: string;
}

/** CloudWatch metric alarms in moto, each put in its state. */
export async function putMotoAlarms(moto: Moto, region: string, alarms: MotoAlarm[]): Promise<void> {
  const cw = new CloudWatchClient({ endpoint: moto.endpoint, region, credentials });
  try {
    for (const alarm of alarms) {
      await cw.send(
        new PutMetricAlarmCommand({
          AlarmName: alarm.name,
          AlarmDescription: alarm.description,
          Namespace: 'OrderWebhooks',
          MetricName: 'RecordProcessed',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
      if (alarm.state !== 'INSUFFICIENT_DATA')
        await cw.send(
          new SetAlarmStateCommand({ AlarmName: alarm.name, StateValue: alarm.state, StateReason: 'test' }),
        );
    }
  } finally {
    cw.destroy();
  }
}

/** A Secrets Manager secret in moto; returns its ARN. A second call with the same name sets a new value. */
export async function putMotoSecret(
  moto: Moto,
  region: string,
  name: string,
  value: string,
): Promise<string> {
  const sm = new SecretsManagerClient({ endpoint: moto.endpoint, region, credentials });
  try {
    try {
      return (await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN ?? '';
    } catch (error) {
      if ((error as Error).name !== 'ResourceExistsException') throw error;
      return (await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }))).ARN ?? '';
    }
  } finally {
    sm.destroy();
  }
}

/** One IAM Query API call to moto (it routes by the credential scope; signatures are not checked). */
async function iamCall(moto: Moto, params: Record<string, string>): Promise<string> {
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto IAM ${params.Action}: ${res.status} ${text}`);
  return text;
}

/**
 * An IAM user in moto with an inline policy of these statements and an access key: the
 * credentials an operator with exactly these rights would have (call before `enforceIam(true)`).
 */
export async function motoIamUser(
  moto: Moto,
  name: string,
  statements: { Effect: 'Allow' | 'Deny'; Action: string | string[]; Resource: string }[],
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  await iamCall(moto, { Action: 'CreateUser', UserName: name });
  await iamCall(moto, {
    Action: 'PutUserPolicy',
    UserName: name,
    PolicyName: `${name}-policy`,
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
  });
  const xml = await iamCall(moto, { Action: 'CreateAccessKey', UserName: name });
  const accessKeyId = /<AccessKeyId>([^<]+)</.exec(xml)?.[1];
  const secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(xml)?.[1];
  if (!accessKeyId || !secretAccessKey) throw new Error(`moto IAM CreateAccessKey: unexpected answer ${xml}`);
  return { accessKeyId, secretAccessKey };
}

export interface MotoSecrets {
  /** Stores `value` under `name` (created, or a new version) in us-east-1; returns the secret's ARN. */
  put(name: string, value: string): Promise<string>;
  /** The same in another region. */
  putIn(region: string, name: string, value: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Secrets Manager for the functions' secret reads: moto, wired in through
 * AWS_ENDPOINT_URL_SECRETS_MANAGER (which the SDK reads when it builds a client) until `close()`.
 */
export async function startMotoSecrets(): Promise<MotoSecrets> {
  const moto = await startMoto();
  const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = moto.endpoint;
  return {
    put: (name, value) => putMotoSecret(moto, 'us-east-1', name, value),
    putIn: (region, name, value) => putMotoSecret(moto, region, name, value),
    close: async () => {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
      await moto.stop();
    },
  };
}

/** Data points of one of the functions' metrics (namespace OrderWebhooks, dimension `service`) in moto. */
export async function putMotoMetric(
  moto: Moto,
  region: string,
  metric: {
    namespace: string;
    name: string;
    dimensions: Record<string, string>;
    points: { at: Date; value: number }[];
  },
): Promise<void> {
  const cw = new CloudWatchClient({ endpoint: moto.endpoint, region, credentials });
  try {
    await cw.send(
      new PutMetricDataCommand({
        Namespace: metric.namespace,
        MetricData: metric.points.map((p) => ({
          MetricName: metric.name,
          Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
          Timestamp: p.at,
          Value: p.value,
          Unit: 'Count',
        })),
      }),
    );
  } finally {
    cw.destroy();
  }
}
