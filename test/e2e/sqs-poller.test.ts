import { createHash } from 'node:crypto';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { type Poller, type SqsHandler, startSqsPoller } from '../../scripts/local/sqs-poller';
import { createTestQueues, testSqsClient } from '../support/aws';
import { waitFor } from './helpers/local-process';

/** The local poller must behave like Lambda's SQS event source towards the worker handler. */
describe('local SQS event-source poller', () => {
  let sqs: SQSClient;
  let poller: Poller | undefined;
  beforeAll(() => {
    sqs = testSqsClient();
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });
  afterAll(() => sqs.destroy());

  async function depth(url: string): Promise<number> {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(out.Attributes?.ApproximateNumberOfMessages) +
      Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible)
    );
  }

  it('hands over real-shaped SQS records and a Lambda context, and deletes what succeeded', async () => {
    const { queueUrl } = await createTestQueues(sqs, { visibilityTimeoutSeconds: 2 });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: { provider: { DataType: 'String', StringValue: 'sevi' } },
      }),
    );
    const seen: { record: SQSRecord; remaining: number; fn: string }[] = [];
    poller = await startSqsPoller({
      client: sqs,
      queueUrl,
      region: 'us-east-1',
      waitTimeSeconds: 1,
      functionTimeoutMs: 30_000,
      handler: async (event, context) => {
        for (const record of event.Records)
          seen.push({ record, remaining: context.getRemainingTimeInMillis(), fn: context.functionName });
        return { batchItemFailures: [] };
      },
    });
    await waitFor(() => seen.length === 1, 'one record');
    await waitFor(async () => (await depth(queueUrl)) === 0, 'the record deleted');
    const { record, remaining, fn } = seen[0] as (typeof seen)[number];
    expect(record).toMatchObject({
      body: '{"hello":"world"}',
      eventSource: 'aws:sqs',
      awsRegion: 'us-east-1',
      messageAttributes: {
        provider: { stringValue: 'sevi', dataType: 'String', stringListValues: [], binaryListValues: [] },
      },
    });
    expect(record.eventSourceARN).toMatch(/^arn:aws:sqs:/);
    expect(record.md5OfBody).toBe(createHash('md5').update('{"hello":"world"}').digest('hex'));
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    expect(record.receiptHandle).not.toBe('');
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(30_000);
    expect(fn).toBe('worker');
  });

  it('redelivers only the records named in batchItemFailures, and a thrown error retries the whole batch', async () => {
    const { queueUrl } = await createTestQueues(sqs, { visibilityTimeoutSeconds: 1 });
    for (const body of ['ok-1', 'fail-once', 'throw-once'])
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const deliveries: Record<string, number> = {};
    let thrown = false;
    const handler: SqsHandler = async (event: SQSEvent) => {
      for (const r of event.Records) deliveries[r.body] = (deliveries[r.body] ?? 0) + 1;
      if (!thrown && event.Records.some((r) => r.body === 'throw-once')) {
        thrown = true;
        throw new Error('boom');
      }
      return {
        batchItemFailures: event.Records.filter(
          (r) => r.body === 'fail-once' && r.attributes.ApproximateReceiveCount === '1',
        ).map((r) => ({ itemIdentifier: r.messageId })),
      };
    };
    poller = await startSqsPoller({
      client: sqs,
      queueUrl,
      region: 'us-east-1',
      waitTimeSeconds: 1,
      batchSize: 1,
      handler,
    });
    await waitFor(async () => (await depth(queueUrl)) === 0, 'the queue drained', 30_000);
    expect(deliveries).toEqual({ 'ok-1': 1, 'fail-once': 2, 'throw-once': 2 });
  });

  it('stop() lets a running batch finish and acknowledges it', async () => {
    const { queueUrl } = await createTestQueues(sqs, { visibilityTimeoutSeconds: 30 });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'slow' }));
    let started = false;
    let finished = false;
    poller = await startSqsPoller({
      client: sqs,
      queueUrl,
      region: 'us-east-1',
      waitTimeSeconds: 1,
      handler: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 500));
        finished = true;
        return { batchItemFailures: [] };
      },
    });
    await waitFor(() => started, 'the batch to start');
    await poller.stop();
    poller = undefined;
    expect(finished).toBe(true);
    expect(await depth(queueUrl)).toBe(0);
  });
});
