import { existsSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STACK_NAME } from '../../shared/resources';
import { DEFAULT_DATA_DIR, STATE_FILE_NAME } from '../local/dev-defaults';
import { isAlive, readState } from '../local/state';
import { CliError } from './errors';
import { type AwsLocation, locateStack } from './stack';

export { CliError, UsageError } from './errors';

/** Where the CLI's commands act: a running local mode, or the deployed stack in AWS. */
export interface Target {
  kind: 'local' | 'aws';
  /** Base URL of the webhook API (local mode), if known. */
  apiUrl: string | undefined;
  region: string;
  /** AWS: the CloudFormation stack the names came from (undefined when all were given as variables). */
  stack?: string;
  queueUrl: string | undefined;
  dlqUrl: string | undefined;
  ordersTable: string | undefined;
  /** The audit archive bucket (local mode, or env ARCHIVE_BUCKET). */
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
  --aws                the deployed stack, with your AWS credentials: queue, dead-letter queue and
                       table come from the stack's CloudFormation outputs; env QUEUE_URL, DLQ_URL,
                       ORDERS_TABLE (and ARCHIVE_BUCKET for archive/replay) override them (with all three set, no CloudFormation call).
                       Chosen automatically when no local mode runs and one of these is given.
  --stack <name>       the stack's name (default ${STACK_NAME})
  --region <region>    the stack's region (default: AWS_REGION, else your profile's region)`;

/** The local mode's endpoints file per flags and environment. */
export function stateFilePath(values: { 'data-dir'?: string; 'state-file'?: string }): string {
  if (values['state-file']) return path.resolve(values['state-file']);
  return path.resolve(values['data-dir'] ?? process.env.LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR, STATE_FILE_NAME);
}

type TargetValues = {
  'data-dir'?: string;
  'state-file'?: string;
  aws?: boolean;
  stack?: string;
  region?: string;
};

/**
 * Resolves the target from flags, the local mode's endpoints file and the environment. In AWS,
 * prints the stack and region it will talk to (stderr, so `--json` output stays clean).
 */
export async function resolveTarget(
  values: TargetValues,
  options: { announce?: (line: string) => void } = {},
): Promise<Target> {
  const file = stateFilePath(values);
  const wantsAws = values.aws || values.stack !== undefined || values.region !== undefined;
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
      archiveBucket: state.archiveBucket,
      s3Endpoint: state.s3Endpoint,
      sqs: new SQSClient({ endpoint: state.sqsEndpoint, region: state.region, credentials }),
      dynamo: new DynamoDBClient({ endpoint: state.dynamodbEndpoint, region: state.region, credentials }),
    };
  }
  const env = process.env;
  const configured = env.QUEUE_URL || env.DLQ_URL || env.ORDERS_TABLE || env.ARCHIVE_BUCKET;
  if (!wantsAws && !configured) {
    const why = existsSync(file)
      ? `${file} belongs to a local mode that is no longer running`
      : `${file} not found`;
    throw new CliError(
      `no running local mode (${why}). Start it with \`npm start\`, pass --data-dir/--state-file, or use --aws for the deployed stack.`,
    );
  }
  const where: AwsLocation = await locateStack({
    stack: values.stack,
    region: values.region,
    overrides: { queueUrl: env.QUEUE_URL, dlqUrl: env.DLQ_URL, ordersTable: env.ORDERS_TABLE },
  });
  (options.announce ?? ((line) => process.stderr.write(`${line}\n`)))(where.description);
  return {
    kind: 'aws',
    apiUrl: env.WEBHOOK_API_URL || undefined,
    region: where.region,
    stack: where.stack,
    queueUrl: where.queueUrl,
    dlqUrl: where.dlqUrl,
    ordersTable: where.ordersTable,
    archiveBucket: env.ARCHIVE_BUCKET || undefined,
    s3Endpoint: undefined,
    sqs: new SQSClient({ region: where.region }),
    dynamo: new DynamoDBClient({ region: where.region }),
  };
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
