import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { findMessage, peekAll, redriveOneByOne } from '../../../scripts/cli/dlq';
import { AWS_SCAN, describeScan } from '../../../scripts/cli/dlq-scan';
import { ATTR } from '../../../shared/queue/message';
import { AwsLikeSqs } from '../../support/aws-like-sqs';

const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks-dlq';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks';

function filled(sqs: AwsLikeSqs, count: number): string[] {
  return Array.from({ length: count }, (_, i) => sqs.add(DLQ, `body-${i}`));
}

/** The scan's settings in AWS, on the fake's virtual clock. */
const aws = (sqs: AwsLikeSqs) => ({ ...AWS_SCAN, now: sqs.now });

describe('DLQ scans against a queue that answers as SQS documents', () => {
  it('lists every message although short polls answer empty while messages wait', async () => {
    const sqs = new AwsLikeSqs({ perReceive: 3 });
    const ids = filled(sqs, 25);

    const { messages, scan } = await peekAll(sqs, DLQ, 1000, aws(sqs));

    expect(messages.map((m) => m.MessageId).sort()).toEqual([...ids].sort());
    expect(scan).toMatchObject({
      seen: 25,
      atStart: { visible: 25, inFlight: 0 },
      stoppedBy: 'queue-counts',
    });
    // Listing consumes nothing: everything is visible again afterwards.
    expect(sqs.visible(DLQ).sort()).toEqual([...ids].sort());
  });

  it('finds a message for `show` although the first answers are empty', async () => {
    const sqs = new AwsLikeSqs({ perReceive: 2 });
    const ids = filled(sqs, 12);

    const { message } = await findMessage(sqs, DLQ, ids[11] as string, aws(sqs));

    expect(message?.Body).toBe('body-11');
    expect(sqs.visible(DLQ)).toHaveLength(12);
  });

  it('releases the rest of an answer when it stops at the message it looked for', async () => {
    const sqs = new AwsLikeSqs({ perReceive: 10 });
    const ids = filled(sqs, 10);

    await findMessage(sqs, DLQ, ids[0] as string, aws(sqs));

    expect(sqs.visible(DLQ)).toHaveLength(10);
  });

  it('redrives a requested id that only a later receive returns, and counts the others once', async () => {
    const sqs = new AwsLikeSqs({ perReceive: 3 });
    const ids = filled(sqs, 20);

    const result = await redriveOneByOne(sqs, DLQ, QUEUE, new Set([ids[19] as string]), aws(sqs));

    expect(result).toMatchObject({ moved: 1 });
    expect(sqs.sent.map((s) => s.body)).toEqual(['body-19']);
    expect(sqs.visible(DLQ)).toHaveLength(19);
  });

  it('keeps what it saw hidden for a scan far longer than one visibility timeout, so nothing is seen twice', async () => {
    // 40 messages, 1 per receive, 10 s per receive: a 400 s scan against a 120 s hold.
    const sqs = new AwsLikeSqs({ perReceive: 1, receiveMs: 10_000 });
    const ids = filled(sqs, 40);

    const result = await redriveOneByOne(sqs, DLQ, QUEUE, new Set([ids[39] as string]), aws(sqs));

    expect(sqs.now() - 1_000_000).toBeGreaterThan(3 * AWS_SCAN.holdSeconds * 1000);
    expect(result).toMatchObject({ moved: 1, remaining: 39 });
    expect(result.scan.seen).toBe(40);
    expect([...sqs.receives.values()].every((n) => n === 1)).toBe(true);
    expect(sqs.visible(DLQ)).toHaveLength(39);
  });

  it('moves every message in a one-by-one redrive, not only those the first receives returned', async () => {
    const sqs = new AwsLikeSqs({ perReceive: 4 });
    filled(sqs, 30);

    const result = await redriveOneByOne(sqs, DLQ, QUEUE, undefined, aws(sqs));

    expect(result).toMatchObject({ moved: 30, remaining: 0 });
    expect(sqs.sent).toHaveLength(30);
    expect(sqs.visible(DLQ)).toHaveLength(0);
  });

  it('ends after consecutive empty long polls when the queue count lags behind', async () => {
    const sqs = new AwsLikeSqs({ perReceive: 10, countLag: 50 });
    filled(sqs, 5);

    const { messages, scan } = await peekAll(sqs, DLQ, 1000, aws(sqs));

    expect(messages).toHaveLength(5);
    expect(scan.stoppedBy).toBe('empty-polls');
    expect(sqs.calls.filter((c) => c === 'ReceiveMessageCommand')).toHaveLength(1 + AWS_SCAN.maxEmptyPolls);
  });

  it('says how many it saw, and that messages held by another reader were not among them', async () => {
    const other = new AwsLikeSqs();
    other.add(DLQ, 'held elsewhere');
    other.add(DLQ, 'free');
    // Another reader holds one message while this scan runs.
    await other.send(
      new ReceiveMessageCommand({
        QueueUrl: DLQ,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 20,
        VisibilityTimeout: 3600,
      }),
    );

    const { messages, scan } = await peekAll(other, DLQ, 1000, aws(other));

    expect(messages.map((m) => m.Body)).toEqual(['free']);
    expect(describeScan(scan)).toMatch(
      /scanned 1 message\(s\); at the start the queue reported 1 waiting and 1 in flight/,
    );
    expect(describeScan(scan)).toMatch(/held by another reader/);
  });

  it('keeps the failure attributes out of a redriven copy', async () => {
    const sqs = new AwsLikeSqs();
    const s = (v: string) => ({ DataType: 'String', StringValue: v });
    sqs.add(DLQ, '{}', {
      [ATTR.provider]: s('recharge'),
      [ATTR.failureClass]: s('permanent'),
      [ATTR.failureReason]: s('recharge answered 404'),
      [ATTR.failureStep]: s('recharge-put-order'),
      [ATTR.failedAt]: s('2026-01-01T00:00:00.000Z'),
    });

    await redriveOneByOne(sqs, DLQ, QUEUE, undefined, aws(sqs));

    expect(Object.keys(sqs.sent[0]?.attributes ?? {})).toEqual([ATTR.provider]);
  });
});
