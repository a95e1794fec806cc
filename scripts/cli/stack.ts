import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { STACK_NAME } from '../../shared/resources';
import { plainAwsError } from './aws-errors';
import { CliError } from './errors';

/** The variable that names the stack when `--stack` is not given (several stacks per account). */
export const STACK_NAME_VAR = 'ORDER_WEBHOOKS_STACK';

/**
 * The stack the CLI looks for: `--stack`, else ORDER_WEBHOOKS_STACK, else the `stackName` the
 * project deploys with (cdk.json context), else the default name.
 */
export function defaultStackName(env: NodeJS.ProcessEnv = process.env, projectRoot?: string): string {
  const fromEnv = env[STACK_NAME_VAR]?.trim();
  if (fromEnv) return fromEnv;
  return (projectRoot && contextStackName(projectRoot)) || STACK_NAME;
}

/** The `stackName` under "context" in the project's cdk.json, if set. */
function contextStackName(root: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')) as {
      context?: { stackName?: unknown };
    };
    const name = json.context?.stackName;
    return typeof name === 'string' && name.trim() ? name.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Stack outputs the CLI reads (named in infra/order-webhooks-stack.ts), by target field. */
export const STACK_OUTPUTS = {
  queueUrl: 'QueueUrl',
  dlqUrl: 'DeadLetterQueueUrl',
  ordersTable: 'OrdersTableName',
  archiveBucket: 'ArchiveBucketName',
  idempotencyTable: 'IdempotencyTableName',
  secretArn: 'SecretArn',
  apiSecretArn: 'ApiSecretArn',
  apiUrl: 'WebhookBaseUrl',
} as const;

/** Environment variables that override the stack's outputs, by target field. */
const OVERRIDE_VARS = {
  queueUrl: 'QUEUE_URL',
  dlqUrl: 'DLQ_URL',
  ordersTable: 'ORDERS_TABLE',
  archiveBucket: 'ARCHIVE_BUCKET',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  secretArn: 'SECRET_ARN',
  apiSecretArn: 'API_SECRET_ARN',
  apiUrl: 'WEBHOOK_API_URL',
} as const;

type Field = keyof typeof STACK_OUTPUTS;

/** Where `--aws` commands act: the region, the stack and the resource names. */
export interface AwsLocation {
  region: string;
  /** Undefined when every name came from the environment (no CloudFormation call). */
  stack: string | undefined;
  queueUrl: string | undefined;
  dlqUrl: string | undefined;
  ordersTable: string | undefined;
  /** The audit archive (ArchiveBucketName); only `archive` and `replay` need it. */
  archiveBucket: string | undefined;
  /** The rate budget's table (IdempotencyTableName): reconcile, recharge-webhooks and doctor need it. */
  idempotencyTable: string | undefined;
  /** The webhook secret (SecretArn; in a one-secret stack, every credential): doctor reads it. */
  secretArn: string | undefined;
  /** The API credentials secret (ApiSecretArn): reconcile, recharge-webhooks and doctor read it. */
  apiSecretArn: string | undefined;
  /** The base ReCharge calls (WebhookBaseUrl: the custom domain, publicBaseUrl or the stage URL). */
  apiUrl: string | undefined;
  /** One line for the operator: stack, region, and which names came from where. */
  description: string;
  /** The AWS account the resources belong to: from the stack's ARN, else from a queue URL. */
  account?: string | undefined;
}

export interface LocateInput {
  /** `--stack`: always looked up, even when the environment names everything. */
  stack?: string;
  /** The stack looked up when `--stack` is not given (default: defaultStackName()). */
  defaultStack?: string;
  region?: string;
  overrides: Partial<Record<Field, string | undefined>>;
}

export interface LocateDeps {
  /** The SDK's region chain: AWS_REGION, then the profile's `region` (AWS_PROFILE, AWS_CONFIG_FILE). */
  defaultRegion: () => Promise<string | undefined>;
  cloudFormation: (region: string) => Pick<CloudFormationClient, 'send' | 'destroy'>;
}

/** The region a client built without one would use, or undefined when the chain has none. */
export async function sdkDefaultRegion(): Promise<string | undefined> {
  const client = new CloudFormationClient({});
  try {
    return await client.config.region();
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

export const DEFAULT_LOCATE_DEPS: LocateDeps = {
  defaultRegion: sdkDefaultRegion,
  cloudFormation: (region) => new CloudFormationClient({ region }),
};

/** The region in an SQS queue URL (`https://sqs.<region>.amazonaws.com/...` or the legacy host). */
export function regionOfQueueUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const match =
    /^https?:\/\/(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com)\//.exec(
      url,
    );
  return match?.[1] ?? match?.[2];
}

/** The account in an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export function accountOfQueueUrl(url: string | undefined): string | undefined {
  return url ? /^https?:\/\/[^/]+\/(\d{12})\//.exec(url)?.[1] : undefined;
}

/**
 * The region `--aws` works in: `--region`, else the region of a queue URL given in the environment,
 * else the SDK's chain (AWS_REGION, then the profile's region).
 */
export async function locateRegion(
  input: Pick<LocateInput, 'region' | 'overrides'>,
  deps: Pick<LocateDeps, 'defaultRegion'> = DEFAULT_LOCATE_DEPS,
): Promise<string> {
  const region =
    input.region?.trim() ||
    regionOfQueueUrl(input.overrides.queueUrl?.trim() || input.overrides.dlqUrl?.trim()) ||
    (await deps.defaultRegion());
  if (!region)
    throw new CliError(
      'no AWS region: pass --region <region the stack was deployed to>, set AWS_REGION, or set `region` in your AWS profile (aws configure)',
    );
  return region;
}

/**
 * Finds the deployed stack. Region: `--region`, else the region of a queue URL given in the
 * environment, else the SDK's chain (AWS_REGION, then the profile's region). Names: the stack's
 * CloudFormation outputs, each overridden by its variable; with all three variables set no
 * CloudFormation call is made (an operator without cloudformation:DescribeStacks can still work).
 */
export async function locateStack(
  input: LocateInput,
  deps: LocateDeps = DEFAULT_LOCATE_DEPS,
): Promise<AwsLocation> {
  const overrides: Partial<Record<Field, string>> = {};
  for (const field of Object.keys(STACK_OUTPUTS) as Field[]) {
    const value = input.overrides[field]?.trim();
    if (value) overrides[field] = value;
  }
  const fromEnv = (Object.keys(overrides) as Field[]).map((f) => OVERRIDE_VARS[f]);
  const region = await locateRegion(input, deps);
  // The archive bucket is not required for the shortcut: only archive/replay need it, and they say so.
  if (overrides.queueUrl && overrides.dlqUrl && overrides.ordersTable && input.stack === undefined)
    return {
      region,
      stack: undefined,
      queueUrl: overrides.queueUrl,
      dlqUrl: overrides.dlqUrl,
      ordersTable: overrides.ordersTable,
      archiveBucket: overrides.archiveBucket,
      idempotencyTable: overrides.idempotencyTable,
      secretArn: overrides.secretArn,
      apiSecretArn: overrides.apiSecretArn,
      apiUrl: overrides.apiUrl,
      account: accountOfQueueUrl(overrides.queueUrl) ?? accountOfQueueUrl(overrides.dlqUrl),
      description: `aws: region ${region}; ${fromEnv.join(', ')} from the environment (no stack lookup)`,
    };

  const stackName = input.stack ?? input.defaultStack ?? defaultStackName();
  const cfn = deps.cloudFormation(region);
  let outputs: Record<string, string>;
  let deployedRegion = region;
  let account: string | undefined;
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    if (!stack) throw new CliError(`stack "${stackName}" not found in ${region}`);
    outputs = Object.fromEntries(
      (stack.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
    // arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>
    deployedRegion = stack.StackId?.split(':')[3] || region;
    account = stack.StackId?.split(':')[4] || undefined;
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/i.test((error as Error).message))
      throw new CliError(
        `stack "${stackName}" not found in ${region}: pass --region <the region it was deployed to> and/or --stack <its name>`,
      );
    const plain = plainAwsError(error, { region, action: 'cloudformation:DescribeStacks' });
    if (plain)
      throw new CliError(
        /^AWS denied/.test(plain)
          ? `${plain}; or set QUEUE_URL, DLQ_URL and ORDERS_TABLE to skip the stack lookup`
          : plain,
      );
    throw error;
  } finally {
    cfn.destroy();
  }
  const names = {} as Record<Field, string | undefined>;
  for (const field of Object.keys(STACK_OUTPUTS) as Field[])
    names[field] = overrides[field] ?? outputs[STACK_OUTPUTS[field]];
  const missing = (Object.keys(STACK_OUTPUTS) as Field[])
    .filter((f) => !names[f])
    .map((f) => STACK_OUTPUTS[f]);
  return {
    region: deployedRegion,
    stack: stackName,
    ...names,
    account: account ?? accountOfQueueUrl(names.queueUrl),
    description: [
      `aws: stack ${stackName} in ${deployedRegion}`,
      fromEnv.length > 0 ? `${fromEnv.join(', ')} from the environment` : '',
      missing.length > 0 ? `outputs missing: ${missing.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  };
}
