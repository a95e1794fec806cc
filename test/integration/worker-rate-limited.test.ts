import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { makeHandler } from '../../functions/worker/handler';
import { queuedMessageCount } from '../../scripts/cli/stats';
import { makeContext } from '../../scripts/local/api-gateway';
import { type Poller, type SqsHandler, startSqsPoller, toSqsRecord } from '../../scripts/local/sqs-poller';
import { samplePayload } from '../../scripts/samples/index';
import { toSendMessageInput } from '../../shared/queue/message';
import { waitFor } from '../e2e/helpers/local-process';
import { createTestQueues } from '../support/aws';
import { createWorkerWorld, type JsonObject, queuedWebhook, type WorkerWorld } from '../support/fake-worker';

jest.setTimeout(120_000);

describe('a record that waits for the ReCharge rate budget', () => {
  let world: WorkerWorld;
  let poller: Poller | undefined;
  beforeAll(async () => {
    world = await createWorkerWorld();
  });
  afterAll(async () => {
    await poller?.stop();
    await world.close();
  });

  it('is deferred until budget is expected and never dead-lettered, even past maxReceiveCount', async () => {
    // Redrive after 2 receives, and a visibility timeout far longer than the wait a 429 asks for: the
    // record only comes back in time if the worker defers it to when the budget is expected.
    const maxReceiveCount = 2;
    const queues = await createTestQueues(world.sqs, { visibilityTimeoutSeconds: 60, maxReceiveCount });
    const deps = world.deps({
      env: {
        QUEUE_URL: queues.queueUrl,
        DLQ_URL: queues.dlqUrl,
        QUEUE_MAX_RECEIVE_COUNT: String(maxReceiveCount),
      },
    });
    const handler = makeHandler(deps) as unknown as SqsHandler;
    // Warm up (first DynamoDB calls, JIT) on a queued order, which makes no ReCharge call, so that the
    // first attempt below is not cut short by a cold start instead of by the budget.
    const warm = samplePayload<JsonObject>('recharge', '2021-11-created-queued');
    warm.order.id = 880_000_000;
    const input = toSendMessageInput(queues.queueUrl, queuedWebhook('recharge', 'order/created', warm));
    await handler(
      {
        Records: [
          toSqsRecord(
            { MessageId: 'warm-up', Body: input.MessageBody, MessageAttributes: input.MessageAttributes },
            'arn:aws:sqs:us-east-1:000000000000:warm',
            'us-east-1',
          ),
        ],
      },
      makeContext('worker', 'warm-up', 3000),
    );
    const payload = samplePayload<JsonObject>('recharge', '2021-11-created-regular');
    payload.order.id = 880_000_001;
    await world.sqs.send(
      new SendMessageCommand(
        toSendMessageInput(queues.queueUrl, queuedWebhook('recharge', 'order/created', payload)),
      ),
    );
    // ReCharge throttles the write-back five times in a row, each time asking for 1 s.
    world.recharge.reset();
    world.recharge.setBehaviour({ mode: 429, times: 5, retryAfterSeconds: 1 });

    // Each invocation has 2 s of working time (3 s timeout less the 1 s margin): too short to wait 1 s
    // for the budget and still make the call, so every 429 ends the record's attempt.
    poller = await startSqsPoller({
      client: world.sqs,
      queueUrl: queues.queueUrl,
      handler,
      region: 'us-east-1',
      concurrency: 1,
      functionTimeoutMs: 3000,
      waitTimeSeconds: 1,
    });
    await waitFor(
      async () =>
        world.recharge.applied().length === 1 && (await queuedMessageCount(world.sqs, queues.queueUrl)) === 0,
      'the write-back to go through and the queue to empty',
      90_000,
    );
    await poller.stop();
    poller = undefined;

    const calls = world.recharge.requests.map((r) => `${r.path} ${r.status}`);
    expect(calls).toEqual([...Array(5).fill('/orders/880000001 429'), '/orders/880000001 200']);
    // Six attempts with a redrive limit of 2, and nothing in the dead-letter queue.
    expect(await queuedMessageCount(world.sqs, queues.dlqUrl)).toBe(0);
  });
});
