import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  ensureBucket,
  ensureQueues,
  ensureTables,
  type QueueUrls,
  type TableNames,
} from '../../scripts/local/resources';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function endpoint(name: 'TEST_DYNAMODB_ENDPOINT' | 'TEST_SQS_ENDPOINT'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the jest globalSetup starts the emulators`);
  return value;
}

/** Clients for the emulators started by the jest globalSetup. */
export function testDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: endpoint('TEST_DYNAMODB_ENDPOINT'),
    region: 'us-east-1',
    credentials,
  });
}

export function testSqsClient(): SQSClient {
  return new SQSClient({ endpoint: endpoint('TEST_SQS_ENDPOINT'), region: 'us-east-1', credentials });
}

/** Fresh, uniquely named tables for one suite. */
export async function createTestTables(client: DynamoDBClient): Promise<TableNames> {
  const suffix = randomUUID().slice(0, 8);
  const names = { idempotency: `idempotency-${suffix}`, orders: `orders-${suffix}` };
  await ensureTables(client, names);
  return names;
}

/** A fresh, uniquely named queue with its dead-letter queue for one suite. */
export async function createTestQueues(
  client: SQSClient,
  options?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number },
): Promise<QueueUrls> {
  return ensureQueues(client, `webhooks-${randomUUID().slice(0, 8)}`, options);
}

/** An S3 client for the emulator (fauxqs serves S3 on its SQS endpoint; path-style). */
export function testS3Client(): S3Client {
  return new S3Client({
    endpoint: endpoint('TEST_SQS_ENDPOINT'),
    forcePathStyle: true,
    region: 'us-east-1',
    credentials,
  });
}

/** A fresh, uniquely named archive bucket for one suite; env for the handlers that use it. */
export async function createTestBucket(
  client: S3Client,
): Promise<{ bucket: string; env: { ARCHIVE_BUCKET: string; S3_ENDPOINT: string } }> {
  const bucket = `archive-${randomUUID().slice(0, 8)}`;
  await ensureBucket(client, bucket);
  return { bucket, env: { ARCHIVE_BUCKET: bucket, S3_ENDPOINT: endpoint('TEST_SQS_ENDPOINT') } };
}
