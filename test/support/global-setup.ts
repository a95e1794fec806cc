import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDynamoDbLocal, startSqsEmulator } from '../../scripts/local/emulators';

/**
 * Starts one DynamoDB Local and one SQS emulator for the whole run; suites create their own
 * uniquely named tables and queues on them (see test/support/aws.ts). Endpoints reach the test
 * workers through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startSqsEmulator()]);
  process.env.TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TEST_SQS_ENDPOINT = sqs.endpoint;
  // Every AWS call the functions make during this run, checked against the stack's IAM policies
  // by test/infra/iam-contract.test.ts and, once all suites are done, by the globalTeardown.
  const recordDir = mkdtempSync(path.join(tmpdir(), 'aws-calls-'));
  process.env.AWS_CALL_RECORD_FILE = path.join(recordDir, 'calls.jsonl');
  writeFileSync(process.env.AWS_CALL_RECORD_FILE, '');
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  // The SDK warns once per process that Node 20 support ends in 2027; Lambda runs Node 22+.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  (globalThis as { __emulators__?: unknown }).__emulators__ = [dynamo, sqs];
}
