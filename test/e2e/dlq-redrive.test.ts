import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { redriveOneByOne } from '../../scripts/cli/dlq';
import { LOCAL_SCAN } from '../../scripts/cli/dlq-scan';
import { ATTR } from '../../shared/queue/message';
import { createTestQueues, testSqsClient } from '../support/aws';

/** `dlq redrive` on the emulator: what goes back to the main queue, and what stays. */
describe('dlq redrive, message by message', () => {
  let sqs: SQSClient;
  beforeAll(() => {
    sqs = testSqsClient();
  });
  afterAll(() => sqs.destroy());

  const s = (value: string) => ({ DataType: 'String', StringValue: value });

  async function drain(url: string) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    return out.Messages ?? [];
  }

  it('moves the body and the original attributes back, without the failure attributes, and empties the DLQ', async () => {
    const { queueUrl, dlqUrl } = await createTestQueues(sqs);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: '{"order":{"id":1}}',
        MessageAttributes: {
          [ATTR.provider]: s('recharge'),
          [ATTR.topic]: s('order/created'),
          [ATTR.deliveryKey]: s('recharge:abc'),
          [ATTR.receivedAt]: s('2026-01-01T00:00:00.000Z'),
          [ATTR.verification]: s('recharge-hmac-sha256-v1'),
          [ATTR.failureClass]: s('permanent'),
          [ATTR.failureReason]: s('recharge answered 404'),
          [ATTR.failureStep]: s('recharge-put-order'),
          [ATTR.failedAt]: s('2026-01-01T00:00:01.000Z'),
        },
      }),
    );
    const result = await redriveOneByOne(sqs, dlqUrl, queueUrl, undefined, LOCAL_SCAN);
    expect(result).toMatchObject({ moved: 1, remaining: 0, scan: { seen: 1 } });
    const [moved, ...others] = await drain(queueUrl);
    expect(others).toHaveLength(0);
    expect(moved?.Body).toBe('{"order":{"id":1}}');
    expect(Object.keys(moved?.MessageAttributes ?? {}).sort()).toEqual(
      [ATTR.deliveryKey, ATTR.provider, ATTR.receivedAt, ATTR.topic, ATTR.verification].sort(),
    );
    expect(moved?.MessageAttributes?.[ATTR.deliveryKey]?.StringValue).toBe('recharge:abc');
    expect(await drain(dlqUrl)).toHaveLength(0);
  });

  it('moves only the requested ids and leaves the others in the DLQ', async () => {
    const { queueUrl, dlqUrl } = await createTestQueues(sqs);
    const ids: string[] = [];
    for (const body of ['a', 'b', 'c'])
      ids.push(
        (await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body }))).MessageId as string,
      );
    const result = await redriveOneByOne(sqs, dlqUrl, queueUrl, new Set([ids[1] as string]), LOCAL_SCAN);
    expect(result.moved).toBe(1);
    expect((await drain(queueUrl)).map((m) => m.Body)).toEqual(['b']);
    expect((await drain(dlqUrl)).map((m) => m.Body).sort()).toEqual(['a', 'c']);
  });

  it('deletes nothing from the DLQ when the main queue refuses the message', async () => {
    const { dlqUrl } = await createTestQueues(sqs);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'keep me' }));
    const missingQueue = `${dlqUrl.replace(/-dlq$/, '')}-does-not-exist`;
    await expect(redriveOneByOne(sqs, dlqUrl, missingQueue, undefined, LOCAL_SCAN)).rejects.toThrow();
    expect((await drain(dlqUrl)).map((m) => m.Body)).toEqual(['keep me']);
  });
});
