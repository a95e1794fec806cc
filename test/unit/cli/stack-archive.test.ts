import type { LocateDeps } from '../../../scripts/cli/stack';
import { locateStack } from '../../../scripts/cli/stack';

/** A CloudFormation stand-in at the SDK boundary: DescribeStacks answers these outputs. */
function deps(outputs: Record<string, string>, calls: string[] = []): LocateDeps {
  return {
    defaultRegion: async () => 'eu-west-1',
    cloudFormation: () => ({
      send: (async (command: { input: { StackName?: string } }) => {
        calls.push(command.input.StackName ?? '');
        return {
          Stacks: [
            {
              StackId: 'arn:aws:cloudformation:eu-west-1:000000000000:stack/OrderWebhooks/abc',
              Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({
                OutputKey,
                OutputValue,
              })),
            },
          ],
        };
      }) as never,
      destroy: () => undefined,
    }),
  };
}

const OUTPUTS = {
  QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/000000000000/q',
  DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/000000000000/dlq',
  OrdersTableName: 'OrderWebhooks-OrdersTable-X',
  ArchiveBucketName: 'orderwebhooks-archivebucket-x',
};

describe('--aws finds the archive bucket', () => {
  it('from the stack output ArchiveBucketName', async () => {
    const where = await locateStack({ overrides: {} }, deps(OUTPUTS));

    expect(where.archiveBucket).toBe('orderwebhooks-archivebucket-x');
  });

  it('ARCHIVE_BUCKET overrides the output', async () => {
    const where = await locateStack({ overrides: { archiveBucket: 'my-bucket' } }, deps(OUTPUTS));

    expect(where.archiveBucket).toBe('my-bucket');
    expect(where.description).toContain('ARCHIVE_BUCKET from the environment');
  });

  it('a stack deployed before the archive names the missing output', async () => {
    const { ArchiveBucketName: _, ...older } = OUTPUTS;
    const where = await locateStack({ overrides: {} }, deps(older));

    expect(where.archiveBucket).toBeUndefined();
    expect(where.description).toContain('outputs missing: ArchiveBucketName');
  });

  it('with the three queue/table variables set, no CloudFormation call is needed (bucket from ARCHIVE_BUCKET)', async () => {
    const calls: string[] = [];
    const where = await locateStack(
      {
        overrides: {
          queueUrl: OUTPUTS.QueueUrl,
          dlqUrl: OUTPUTS.DeadLetterQueueUrl,
          ordersTable: OUTPUTS.OrdersTableName,
          archiveBucket: 'my-bucket',
        },
      },
      deps(OUTPUTS, calls),
    );

    expect(calls).toEqual([]);
    expect(where.archiveBucket).toBe('my-bucket');
  });
});
