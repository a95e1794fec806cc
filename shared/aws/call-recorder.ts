import { appendFileSync } from 'node:fs';

/**
 * Test-only record of the AWS calls a function makes, for the IAM contract test
 * (test/infra/iam-contract.test.ts): the emulators enforce no IAM, so a call without a grant
 * would pass every other test. Off unless AWS_CALL_RECORD_FILE is set; then each call appends one
 * JSON line. Production never sets it, so the middleware is never added (zero cost).
 */
export interface AwsCallRecord {
  /** The function making the call. */
  fn: 'ingest' | 'worker';
  /** IAM action, e.g. `dynamodb:GetItem`. */
  action: string;
  /**
   * The environment variable that names the resource (`IDEMPOTENCY_TABLE`, `QUEUE_URL`,
   * `SECRET_ARN`...): the stack binds each variable to one resource, which is how the test finds
   * its logical id. `unknown:<name>` when the resource is none of the function's.
   */
  binding: string;
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
};

/** The resource a command names: table, queue URL or secret id. */
function resourceOf(input: unknown): string | undefined {
  const i = (input ?? {}) as Record<string, unknown>;
  const value = i.TableName ?? i.QueueUrl ?? i.SecretId;
  return typeof value === 'string' ? value : undefined;
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
  if (!file) return client;
  const byValue = new Map<string, string>();
  for (const [name, value] of Object.entries(bindings)) if (value) byValue.set(value, name);
  (client as unknown as SdkClient).middlewareStack.add(
    (next, context) => async (args) => {
      const { clientName, commandName } = context as { clientName?: string; commandName?: string };
      const service = SERVICE_PREFIX[clientName ?? ''] ?? String(clientName);
      const resource = resourceOf(args.input);
      const record: AwsCallRecord = {
        fn,
        action: `${service}:${String(commandName).replace(/Command$/, '')}`,
        binding: (resource && byValue.get(resource)) ?? `unknown:${resource ?? '(none)'}`,
      };
      appendFileSync(file, `${JSON.stringify(record)}\n`);
      return next(args);
    },
    // `override`: recording one client twice (deps built again around it) adds no second line.
    { step: 'initialize', name: 'iamContractRecorder', override: true },
  );
  return client;
}
