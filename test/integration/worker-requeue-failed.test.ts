import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { queuedMessageCount } from '../../scripts/cli/stats';
import { toSqsRecord } from '../../scripts/local/sqs-poller';
import { samplePayload } from '../../scripts/samples/index';
import { makeRecordDeferrer } from '../../shared/queue/defer';
import { toSendMessageInput } from '../../shared/queue/message';
import { processBatch } from '../../shared/worker/process-batch';
import { CONFIG_RETRY_SECONDS } from '../../shared/worker/process-record';
import { createTestQueues } from '../support/aws';
import {
  createWorkerWorld,
  drainQueue,
  type JsonObject,
  lambdaContext,
  queuedWebhook,
  type WorkerWorld,
} from '../support/fake-worker';

jest.setTimeout(60_000);

/**
 * A record that is only waiting (here: ReCharge refuses the token, a configuration error) is never
 * dead-lettered by the redrive policy because SQS refused to re-queue it: the re-queue starts one
 * receive before the limit, a failed one keeps the message, and if SQS refuses again at the last
 * receive the worker dead-letters it itself, with its failure attributes, so `dlq redrive` returns it.
 */
describe('a waiting record whose re-queue fails', () => {
  let world: WorkerWorld;
  beforeAll(async () => {
    world = await createWorkerWorld();
  });
  afterAll(async () => {
    world.recharge.setBehaviour({ mode: 'ok' });
    await world.close();
  });

  /** The worker's SQS client, with SendMessage to the main queue refused (SQS throttling it). */
  const refusingRequeue = (queueUrl: string, refused: string[]): SQSClient =>
    ({
      send: (command: unknown) => {
        if (command instanceof SendMessageCommand && command.input.QueueUrl === queueUrl) {
          refused.push(String(command.input.QueueUrl));
          return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
        }
        return world.sqs.send(command as SendMessageCommand);
      },
    }) as unknown as SQSClient;

  async function receive(queueUrl: string, visibility?: number): Promise<Message> {
    for (let i = 0; i < 20; i++) {
      const out = await world.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          WaitTimeSeconds: 1,
          ...(visibility !== undefined ? { VisibilityTimeout: visibility } : {}),
        }),
      );
      const message = out.Messages?.[0];
      if (message) return message;
    }
    throw new Error('no message received');
  }

  it('keeps the message at the receive before the limit and dead-letters it with its reason at the last', async () => {
    const maxReceiveCount = 3;
    const queues = await createTestQueues(world.sqs, { visibilityTimeoutSeconds: 30, maxReceiveCount });
    const refused: string[] = [];
    const deps = world.deps({
      env: {
        QUEUE_URL: queues.queueUrl,
        DLQ_URL: queues.dlqUrl,
        QUEUE_MAX_RECEIVE_COUNT: String(maxReceiveCount),
      },
    });
    deps.defer = makeRecordDeferrer(
      refusingRequeue(queues.queueUrl, refused),
      queues.queueUrl,
      maxReceiveCount,
    );
    world.recharge.setBehaviour({ mode: 401 });

    const payload = samplePayload<JsonObject>('recharge', '2021-11-created-regular');
    payload.order.id = 881_000_001;
    await world.sqs.send(
      new SendMessageCommand(
        toSendMessageInput(queues.queueUrl, queuedWebhook('recharge', 'order/created', payload)),
      ),
    );
    const arn = 'arn:aws:sqs:us-east-1:000000000000:webhooks';
    const run = async (message: Message) => {
      const record = toSqsRecord(message, arn, 'us-east-1');
      return (await processBatch([record], deps, lambdaContext())).results[0];
    };

    // Receive 1 of 3: the visibility is set to the config retry (no re-queue yet).
    const first = await receive(queues.queueUrl);
    expect(first.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(await run(first)).toMatchObject({ failed: true, retryAfterSeconds: CONFIG_RETRY_SECONDS });
    expect(refused).toEqual([]);

    // Receive 2 of 3 (made visible again by hand rather than waiting 5 minutes): the re-queue is
    // refused, the message is kept (still in the queue, not in the dead-letter queue).
    await world.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queues.queueUrl,
        ReceiptHandle: first.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = await receive(queues.queueUrl);
    expect(second.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(await run(second)).toMatchObject({ failed: true, outcome: 'transient-failure' });
    expect(refused).toHaveLength(1);
    expect(await queuedMessageCount(world.sqs, queues.queueUrl)).toBe(1);
    expect(await queuedMessageCount(world.sqs, queues.dlqUrl)).toBe(0);
    expect(deps.log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'record deferred',
        extra: expect.objectContaining({ how: 'kept' }),
      }),
    );

    // Receive 3 of 3: refused again. The worker dead-letters it with why, instead of leaving it to
    // the redrive policy (which would move it at the next receive with no failure attributes).
    await world.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queues.queueUrl,
        ReceiptHandle: second.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const third = await receive(queues.queueUrl);
    expect(third.Attributes?.ApproximateReceiveCount).toBe('3');
    expect(await run(third)).toMatchObject({ failed: false, outcome: 'dead-lettered' });
    expect(refused).toHaveLength(2);
    const [letter] = await drainQueue(world.sqs, queues.dlqUrl);
    expect(letter?.MessageAttributes).toMatchObject({
      failureClass: { StringValue: 'transient' },
      failureStep: { StringValue: 'requeue' },
      failureReason: { StringValue: 'waiting record could not be re-queued (ThrottlingException)' },
    });
    expect(letter?.Body).toBe(third.Body);
  });

  it('re-queues a fresh copy at the receive before the limit when SQS accepts it', async () => {
    const maxReceiveCount = 2;
    const queues = await createTestQueues(world.sqs, { visibilityTimeoutSeconds: 30, maxReceiveCount });
    const deps = world.deps({
      env: {
        QUEUE_URL: queues.queueUrl,
        DLQ_URL: queues.dlqUrl,
        QUEUE_MAX_RECEIVE_COUNT: String(maxReceiveCount),
      },
    });
    world.recharge.setBehaviour({ mode: 401 });
    const payload = samplePayload<JsonObject>('recharge', '2021-11-created-regular');
    payload.order.id = 881_000_011;
    await world.sqs.send(
      new SendMessageCommand(
        toSendMessageInput(queues.queueUrl, queuedWebhook('recharge', 'order/created', payload)),
      ),
    );
    const first = await receive(queues.queueUrl);
    const record = toSqsRecord(first, 'arn:aws:sqs:us-east-1:000000000000:webhooks', 'us-east-1');
    const [result] = (await processBatch([record], deps, lambdaContext())).results;
    // Reported done (the original is deleted by Lambda); a fresh copy waits in the queue.
    expect(result).toMatchObject({ failed: false, outcome: 'transient-failure' });
    expect(deps.log.lines).toContainEqual(
      expect.objectContaining({
        message: 'record deferred',
        extra: expect.objectContaining({ how: 'requeued' }),
      }),
    );
  });
});
