import { peekAll, toDlqEntry } from '../../../scripts/cli/dlq';
import { AWS_SCAN } from '../../../scripts/cli/dlq-scan';
import { ATTR } from '../../../shared/queue/message';
import { AwsLikeSqs } from '../../support/aws-like-sqs';

const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks-dlq';
const s = (v: string) => ({ DataType: 'String', StringValue: v });
const original = {
  [ATTR.provider]: s('recharge'),
  [ATTR.topic]: s('order/created'),
  [ATTR.deliveryKey]: s('recharge:abc'),
};
const oldFailure = {
  [ATTR.failureClass]: s('permanent'),
  [ATTR.failureReason]: s('recharge answered 404'),
  [ATTR.failureStep]: s('recharge-put-order'),
  [ATTR.failedAt]: s('2026-01-01T00:00:00.000Z'),
};

describe('dlq list: the reason shown is the latest failure', () => {
  it('shows a message the worker dead-lettered with the reason it gave', async () => {
    const sqs = new AwsLikeSqs();
    sqs.add(DLQ, '{}', { ...original, ...oldFailure });

    const [entry] = (await peekAll(sqs, DLQ, 10, { ...AWS_SCAN, now: sqs.now })).messages.map(toDlqEntry);

    expect(entry).toMatchObject({ failureClass: 'permanent', failureReason: 'recharge answered 404' });
    expect(entry?.earlierFailure).toBeUndefined();
  });

  it('does not show the reason of a failure before a redrive as the reason SQS moved it again', async () => {
    // Redriven by a move task (which keeps every attribute), then failed transiently until SQS
    // moved it after maxReceiveCount: SQS marks such a message with DeadLetterQueueSourceArn.
    const sqs = new AwsLikeSqs();
    sqs.add(
      DLQ,
      '{}',
      { ...original, ...oldFailure },
      { DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:webhooks' },
    );

    const [entry] = (await peekAll(sqs, DLQ, 10, { ...AWS_SCAN, now: sqs.now })).messages.map(toDlqEntry);

    expect(entry?.failureReason).toMatch(/moved by SQS after repeated failed deliveries/);
    expect(entry?.failureClass).toBeUndefined();
    expect(entry?.failedAt).toBeUndefined();
    expect(entry?.earlierFailure).toEqual({
      failureClass: 'permanent',
      failureReason: 'recharge answered 404',
      failureStep: 'recharge-put-order',
      failedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('explains a message SQS moved without any failure attributes', () => {
    const entry = toDlqEntry({
      MessageId: 'm1',
      MessageAttributes: original,
      Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:webhooks' },
    });

    expect(entry.failureReason).toMatch(/maxReceiveCount/);
    expect(entry.earlierFailure).toBeUndefined();
  });
});
