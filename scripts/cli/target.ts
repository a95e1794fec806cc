import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { nearestName } from '../../shared/nearest-name';
import { STACK_NAME } from '../../shared/resources';
import { DEFAULT_DATA_DIR, IN_MEMORY_STATE_FILE_NAME, STATE_FILE_NAME } from '../local/dev-defaults';
import { isAlive, readState } from '../local/state';
import { type AwsIdentity, awsIdentity, type IdentityDeps, identityLine } from './aws-errors';
import { CliError, UsageError } from './errors';
import { type AwsLocation, defaultStackName, locateRegion, locateStack, STACK_NAME_VAR } from './stack';

export { CliError, UsageError } from './errors';

/** Where the CLI's commands act: a running local mode, or the deployed stack in AWS. */
export interface Target {
  kind: 'local' | 'aws';
  /** Base URL of the webhook API (local mode), if known. */
  apiUrl: string | undefined;
  region: string;
  /** AWS: the CloudFormation stack the names came from (undefined when all were given as variables). */
  stack?: string;
  /** AWS: the account the credentials belong to (STS GetCallerIdentity), printed first. */
  account?: string;
  queueUrl: string | undefined;
  dlqUrl: string | undefined;
  ordersTable: string | undefined;
  idempotencyTable: string | undefined;
  /** AWS: the stack's credentials secret (SecretArn output, SECRET_ARN overrides); undefined locally. */
  secretArn?: string;
  /** AWS: the API credentials secret (ApiSecretArn, API_SECRET_ARN overrides); undefined locally or in a one-secret stack. */
  apiSecretArn?: string;
  /** The audit archive bucket (local mode, or the stack's ArchiveBucketName; env ARCHIVE_BUCKET overrides). */
  archiveBucket: string | undefined;
  /** The emulator's S3 endpoint in the local mode; undefined in AWS. */
  s3Endpoint: string | undefined;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
}

/** Options shared by the commands that look at the queues or the ledger. */
export const TARGET_OPTIONS = {
  'data-dir': { type: 'string' },
  'state-file': { type: 'string' },
  aws: { type: 'boolean' },
  stack: { type: 'string' },
  region: { type: 'string' },
} as const;

export const TARGET_HELP = `Target (default: the running local mode found in .local/endpoints.json):
  --data-dir <dir>     the local mode's data folder (env LOCAL_DATA_DIR)
  --state-file <file>  the local mode's endpoints file
  --aws                the deployed stack, with your AWS credentials: queue, dead-letter queue,
                       table and archive bucket come from the stack's CloudFormation outputs; env
                       QUEUE_URL, DLQ_URL, ORDERS_TABLE, ARCHIVE_BUCKET override them (with the first
                       three set, no CloudFormation call). Those variables alone never choose AWS:
                       only --aws (or ORDER_WEBHOOKS_TARGET=aws) does. Every AWS run prints the
                       account and region first.
  --stack <name>       the stack's name (default: env ${STACK_NAME_VAR}, else "stackName" in cdk.json,
                       else ${STACK_NAME})
  --region <region>    the stack's region (default: AWS_REGION, else your profile's region)`;

/**
 * The local mode's endpoints file per flags and environment. By default the project's `.local`
 * (the nearest folder up from `cwd` with a package.json), so the CLI works from a subfolder.
 */
export function stateFilePath(
  values: { 'data-dir'?: string; 'state-file'?: string },
  cwd = process.cwd(),
): string {
  if (values['state-file']) return path.resolve(cwd, values['state-file']);
  const given = values['data-dir'] ?? process.env.LOCAL_DATA_DIR;
  const dir = given ? path.resolve(cwd, given) : path.join(projectRoot(cwd), DEFAULT_DATA_DIR);
  const own = path.join(dir, STATE_FILE_NAME);
  // The folder's own run first; else an --in-memory run started beside it.
  const inMemory = path.join(dir, IN_MEMORY_STATE_FILE_NAME);
  if (!runningFrom(own) && runningFrom(inMemory)) return inMemory;
  return own;
}

/** True when `file` is the endpoints file of a live local mode. */
function runningFrom(file: string): boolean {
  const state = readState(file);
  return state !== undefined && isAlive(state.pid);
}

/** The nearest folder from `cwd` up that holds a package.json; `cwd` itself when none does. */
export function projectRoot(cwd: string): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}

type TargetValues = {
  'data-dir'?: string;
  'state-file'?: string;
  aws?: boolean;
  stack?: string;
  region?: string;
};

/**
 * `--aws` first of all: the region and the account the credentials belong to, printed before
 * anything else is done (one STS call, free, no permission needed). Missing, expired or rejected
 * credentials and an unreachable AWS end here as a CliError of one line.
 */
export async function announceAwsIdentity(
  values: Pick<TargetValues, 'region'>,
  options: { announce?: (line: string) => void; identityDeps?: IdentityDeps } = {},
): Promise<AwsIdentity> {
  const env = process.env;
  const region = await locateRegion({
    region: values.region,
    overrides: { queueUrl: env.QUEUE_URL, dlqUrl: env.DLQ_URL },
  });
  const identity = await awsIdentity(region, options.identityDeps);
  (options.announce ?? ((line) => process.stderr.write(`${line}\n`)))(identityLine(identity));
  return identity;
}

/**
 * Resolves the target from flags, the local mode's endpoints file and the environment. In AWS,
 * prints the account and region, then the stack it will talk to (stderr, so `--json` output stays
 * clean).
 */
export async function resolveTarget(
  values: TargetValues,
  options: { announce?: (line: string) => void; identityDeps?: IdentityDeps } = {},
): Promise<Target> {
  const file = stateFilePath(values);
  // AWS only when asked by name: variables such as QUEUE_URL left in a shell must not turn a local
  // command into one that acts on an account.
  const wantsAws =
    values.aws ||
    values.stack !== undefined ||
    values.region !== undefined ||
    process.env.ORDER_WEBHOOKS_TARGET === 'aws';
  const state = wantsAws ? undefined : readState(file);
  if (state && isAlive(state.pid)) {
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    return {
      kind: 'local',
      apiUrl: state.apiUrl,
      region: state.region,
      queueUrl: state.queueUrl,
      dlqUrl: state.dlqUrl,
      ordersTable: state.ordersTable,
      idempotencyTable: state.idempotencyTable,
      archiveBucket: state.archiveBucket,
      s3Endpoint: state.s3Endpoint,
      sqs: new SQSClient({ endpoint: state.sqsEndpoint, region: state.region, credentials }),
      dynamo: new DynamoDBClient({ endpoint: state.dynamodbEndpoint, region: state.region, credentials }),
    };
  }
  const env = process.env;
  if (!wantsAws) {
    const why = existsSync(file)
      ? `${file} belongs to a local mode that is no longer running`
      : `${file} not found`;
    const ignored = ['QUEUE_URL', 'DLQ_URL', 'ORDERS_TABLE', 'ARCHIVE_BUCKET'].filter((name) => env[name]);
    throw new CliError(
      `no running local mode (${why}). Start it with \`npm start\`, pass --data-dir/--state-file, or use --aws for the deployed stack${ignored.length > 0 ? ` (${ignored.join(', ')} ${ignored.length > 1 ? 'are' : 'is'} set, but only --aws acts on AWS)` : ''}.`,
    );
  }
  const identity = await announceAwsIdentity(values, options);
  const where: AwsLocation = await locateStack({
    stack: values.stack,
    defaultStack: defaultStackName(env, projectRoot(process.cwd())),
    region: identity.region,
    overrides: {
      queueUrl: env.QUEUE_URL,
      dlqUrl: env.DLQ_URL,
      ordersTable: env.ORDERS_TABLE,
      archiveBucket: env.ARCHIVE_BUCKET,
      idempotencyTable: env.IDEMPOTENCY_TABLE,
      secretArn: env.SECRET_ARN,
      apiSecretArn: env.API_SECRET_ARN,
      apiUrl: env.WEBHOOK_API_URL,
    },
  });
  (options.announce ?? ((line) => process.stderr.write(`${line}\n`)))(where.description);
  return {
    kind: 'aws',
    apiUrl: where.apiUrl,
    region: where.region,
    stack: where.stack,
    account: identity.account ?? where.account,
    queueUrl: where.queueUrl,
    dlqUrl: where.dlqUrl,
    ordersTable: where.ordersTable,
    idempotencyTable: where.idempotencyTable,
    secretArn: where.secretArn,
    ...(where.apiSecretArn ? { apiSecretArn: where.apiSecretArn } : {}),
    archiveBucket: where.archiveBucket,
    s3Endpoint: undefined,
    sqs: new SQSClient({ region: where.region }),
    dynamo: new DynamoDBClient({ region: where.region }),
  };
}

/**
 * Asks before a command changes something in AWS (redrive, replay): `--yes` skips the question;
 * without a terminal to ask, it refuses. The local mode never asks. Resolves false on "no".
 */
export async function confirmAws(target: Target, yes: boolean | undefined, action: string): Promise<boolean> {
  if (target.kind !== 'aws' || yes) return true;
  const where = `account ${target.account ?? 'unknown'}, region ${target.region}`;
  if (!process.stdin.isTTY)
    throw new UsageError(
      `${action} in AWS (${where}) needs confirmation and there is no terminal to ask: pass --yes`,
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${action} in AWS (${where})? [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Reads a required target field, naming the variable to set when it is missing. */
export function need(value: string | undefined, name: string): string {
  if (!value)
    throw new CliError(
      `${name} is not known: deploy the stack with its outputs, set ${name}, or run the local mode`,
    );
  return value;
}

/** Progress on a terminal only: one self-overwriting line on stderr. */
export function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}

/** parseArgs' own wording ("To specify a positional argument starting with a '-'...") in ours. */
export function usageMessage(error: Error & { code?: string }, help: string): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const known = [...new Set(help.match(/--[a-z][a-z-]*/g) ?? [])];
    const nearest = nearestName(option, known);
    return `unknown option ${option}${nearest ? `; did you mean ${nearest}?` : ''}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) return `${option} needs a value`;
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return `unexpected argument ${/'([^']*)'/.exec(error.message)?.[1] ?? ''}`.trim();
  return error.message;
}
