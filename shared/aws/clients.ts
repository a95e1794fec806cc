import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsCallRecord, recordAwsCalls } from './call-recorder';

export interface FunctionAwsEnv {
  AWS_REGION: string;
  DYNAMODB_ENDPOINT?: string;
  SQS_ENDPOINT?: string;
  AWS_CALL_RECORD_FILE?: string;
}

/**
 * A function's DynamoDB and SQS clients, built once per cold start (or the ones a test passes in),
 * on the emulators' endpoints when set, and recorded for the IAM contract test when
 * AWS_CALL_RECORD_FILE is set. `bindings`: the variables that name the function's resources.
 */
export function functionAwsClients(
  env: FunctionAwsEnv,
  fn: AwsCallRecord['fn'],
  bindings: Record<string, string | undefined>,
  given: { dynamo?: DynamoDBClient; sqs?: SQSClient } = {},
): { dynamo: DynamoDBClient; sqs: SQSClient } {
  const region = env.AWS_REGION;
  const dynamo =
    given.dynamo ??
    new DynamoDBClient({ region, ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}) });
  const sqs =
    given.sqs ?? new SQSClient({ region, ...(env.SQS_ENDPOINT ? { endpoint: env.SQS_ENDPOINT } : {}) });
  recordAwsCalls(dynamo, fn, bindings, env.AWS_CALL_RECORD_FILE);
  recordAwsCalls(sqs, fn, bindings, env.AWS_CALL_RECORD_FILE);
  return { dynamo, sqs };
}
