import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createTestQueues, createTestTables, testDynamoClient, testSqsClient } from '../support/aws';

describe('local emulators', () => {
  it('creates the stack tables on DynamoDB Local', async () => {
    const client = testDynamoClient();
    const names = await createTestTables(client);
    const tables = await client.send(new ListTablesCommand({}));
    expect(tables.TableNames).toEqual(expect.arrayContaining([names.idempotency, names.orders]));
  });

  it('round-trips a message with attributes through the SQS emulator', async () => {
    const client = testSqsClient();
    const { queueUrl } = await createTestQueues(client);
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"a":1}',
        MessageAttributes: { provider: { DataType: 'String', StringValue: 'sevi' } },
      }),
    );
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(received.Messages?.[0]?.Body).toBe('{"a":1}');
    expect(received.Messages?.[0]?.MessageAttributes?.provider?.StringValue).toBe('sevi');
  });
});
