import { appendFileSync } from 'node:fs';

/**
 * Test-only record of the AWS calls a function makes, for the IAM contract test
 * (test/infra/iam-contract.test.ts): the emulators enforce no IAM, so a call without a grant
 * would pass every other test. Off unless AWS_CALL_RECORD_FILE is set; then each call appends one
 * JSON line. Production never sets it, so the middleware is never added (zero cost).
 */
export interface AwsCallRecord {
  /** The function making the call. */
  fn: 'ingest' | 'worker' | 'reconcile';
  /** IAM action, e.g. `dynamodb:GetItem`. */
  action: string;
  /**
   * The environment variable that names the resource (`IDEMPOTENCY_TABLE`, `QUEUE_URL`,
   * `SECRET_ARN`...): the stack binds each variable to one resource, which is how the test finds
   * its logical id. `unknown:<name>` when the resource is none of the function's.
   */
  binding: string;
  /**
   * DynamoDB single-item calls: the item's partition key, checked against a statement's
   * `dynamodb:LeadingKeys` condition (the reconciler may touch only its watermark and budget items).
   */
  pk?: string;
  /** S3 object calls: the object key, checked against the statement's key prefix (`claim/*`). */
  objectKey?: string;
}

/** One metered call (the cost benchmark, bench/cost.ts): the request, and its answer or error. */
export interface AwsCallMeterEvent {
  fn: AwsCallRecord['fn'];
  /** Service and command, e.g. `dynamodb:PutItem`, `sqs:SendMessageBatch` (not the IAM action). */
  call: string;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  error?: unknown;
}

let meter: ((event: AwsCallMeterEvent) => void) | undefined;

/**
 * Benchmark-only: every client passed to recordAwsCalls from now on also reports each call to
 * `onCall`, and DynamoDB calls ask for their consumed capacity (what DynamoDB bills). Never set in
 * a function, so production clients get no middleware from it.
 */
export function setAwsCallMeter(onCall: ((event: AwsCallMeterEvent) => void) | undefined): void {
  meter = onCall;
}

/** Anything with a middleware stack (every AWS SDK v3 client). */
interface SdkClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: object,
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; override: boolean },
    ): void;
  };
}

const SERVICE_PREFIX: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  SQSClient: 'sqs',
  SecretsManagerClient: 'secretsmanager',
  S3Client: 's3',
};

/** SQS batch APIs are authorised as their single-message action (there is no SendMessageBatch action). */
const IAM_ACTION: Record<string, string> = {
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};

/** The resource a command names: table (also of a one-table batch), queue URL, secret id or bucket. */
function resourceOf(input: unknown): string | undefined {
  const i = (input ?? {}) as Record<string, unknown>;
  const batchTable =
    i.RequestItems && typeof i.RequestItems === 'object' ? Object.keys(i.RequestItems)[0] : undefined;
  const value = i.TableName ?? i.QueueUrl ?? i.SecretId ?? i.Bucket ?? batchTable;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The partition key of a single-item DynamoDB call or of a Query of one partition (`pk = :x`),
 * marshalled or plain, or the S3 object key.
 */
function keyFacts(input: unknown): Pick<AwsCallRecord, 'pk' | 'objectKey'> {
  const i = (input ?? {}) as {
    Key?: unknown;
    Item?: unknown;
    KeyConditionExpression?: unknown;
    ExpressionAttributeValues?: Record<string, unknown>;
  };
  if (typeof i.Key === 'string') return { objectKey: i.Key };
  const queried =
    typeof i.KeyConditionExpression === 'string' && /^pk = (:\w+)$/.exec(i.KeyConditionExpression);
  const item = (queried ? { pk: i.ExpressionAttributeValues?.[queried[1] as string] } : (i.Key ?? i.Item)) as
    | { pk?: unknown }
    | undefined;
  const pk = item?.pk as { S?: unknown } | string | undefined;
  const value = typeof pk === 'string' ? pk : pk?.S;
  return typeof value === 'string' ? { pk: value } : {};
}

/**
 * When `file` is set, records every call `client` makes as `fn`, naming the resource by the
 * environment variable that holds it (`bindings`: variable name -> its value). Returns the client.
 */
export function recordAwsCalls<C>(
  client: C,
  fn: AwsCallRecord['fn'],
  bindings: Record<string, string | undefined>,
  file: string | undefined,
): C {
  const metered = meter;
  if (metered) meterCalls(client, fn, metered);
  if (!file) return client;
  const byValue = new Map<string, string>();
  for (const [name, value] of Object.entries(bindings)) if (value) byValue.set(value, name);
  (client as unknown as SdkClient).middlewareStack.add(
    (next, context) => async (args) => {
      const { clientName, commandName } = context as { clientName?: string; commandName?: string };
      const service = SERVICE_PREFIX[clientName ?? ''] ?? String(clientName);
      const resource = resourceOf(args.input);
      const action = `${service}:${String(commandName).replace(/Command$/, '')}`;
      const record: AwsCallRecord = {
        fn,
        action: IAM_ACTION[action] ?? action,
        binding: (resource && byValue.get(resource)) ?? `unknown:${resource ?? '(none)'}`,
        ...keyFacts(args.input),
      };
      appendFileSync(file, `${JSON.stringify(record)}\n`);
      return next(args);
    },
    // `override`: recording one client twice (deps built again around it) adds no second line.
    { step: 'initialize', name: 'iamContractRecorder', override: true },
  );
  return client;
}

function meterCalls(client: unknown, fn: AwsCallRecord['fn'], onCall: (event: AwsCallMeterEvent) => void) {
  (client as SdkClient).middlewareStack.add(
    (next, context) => async (args) => {
      const { clientName, commandName } = context as { clientName?: string; commandName?: string };
      const call = `${SERVICE_PREFIX[clientName ?? ''] ?? String(clientName)}:${String(commandName).replace(/Command$/, '')}`;
      const input = (args.input ?? {}) as Record<string, unknown>;
      if (clientName === 'DynamoDBClient') input.ReturnConsumedCapacity = 'TOTAL';
      try {
        const result = (await next(args)) as { output?: Record<string, unknown> };
        onCall({ fn, call, input, output: result.output ?? {} });
        return result;
      } catch (error) {
        onCall({ fn, call, input, error });
        throw error;
      }
    },
    { step: 'initialize', name: 'costMeter', override: true },
  );
}
