import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QUEUE_DEFAULTS, TABLE_KEYS } from '../../shared/resources';

export interface TableNames {
  idempotency: string;
  orders: string;
}

/** Creates the stack's tables (same key schema as the CDK stack) if they do not exist yet. */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  const create = async (input: ConstructorParameters<typeof CreateTableCommand>[0]) => {
    try {
      await client.send(new CreateTableCommand(input));
      return true;
    } catch (error) {
      if (error instanceof ResourceInUseException) return false;
      throw error;
    }
  };
  const createdIdempotency = await create({
    TableName: names.idempotency,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: TABLE_KEYS.idempotency.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: TABLE_KEYS.idempotency.partitionKey, KeyType: 'HASH' }],
  });
  if (createdIdempotency) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: names.idempotency,
        TimeToLiveSpecification: { AttributeName: TABLE_KEYS.idempotency.ttlAttribute, Enabled: true },
      }),
    );
  }
  await create({
    TableName: names.orders,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.orders.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_KEYS.orders.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.orders.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.orders.sortKey, KeyType: 'RANGE' },
    ],
  });
}

export interface QueueUrls {
  queueUrl: string;
  dlqUrl: string;
}

/**
 * Creates the main queue and its dead-letter queue with the stack's redrive policy and visibility
 * timeout. Idempotent: SQS returns the existing queue for the same name and attributes.
 */
export async function ensureQueues(
  client: SQSClient,
  name: string,
  options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {},
): Promise<QueueUrls> {
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq`,
      Attributes: { MessageRetentionPeriod: String(QUEUE_DEFAULTS.dlqRetentionDays * 86_400) },
    }),
  );
  const dlqUrl = dlq.QueueUrl as string;
  const dlqArn = (
    await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn as string;
  const visibility =
    options.visibilityTimeoutSeconds ??
    QUEUE_DEFAULTS.workerTimeoutSeconds * QUEUE_DEFAULTS.visibilityTimeoutMultiplier;
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibility),
        MaximumMessageSize: String(QUEUE_DEFAULTS.maximumMessageSizeBytes),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl as string, dlqUrl };
}

/** Creates the archive bucket (the stack's ArchiveBucket) if it does not exist yet. Idempotent. */
export async function ensureBucket(client: S3Client, name: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    const code = (error as Error).name;
    if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
  }
}
