import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { makeHandler } from '../../functions/worker/handler';
import { buildWorkerDeps } from '../../shared/worker/deps';
import {
  createWorkerWorld,
  drainQueue,
  lambdaContext,
  recordingLog,
  recordingMetrics,
  sampleWebhook,
  sqsEvent,
  sqsRecord,
  type WorkerWorld,
} from '../support/fake-worker';

/** Accepts TCP connections and never answers: a hung DynamoDB or SQS endpoint. */
async function startSilentServer(): Promise<{
  url: string;
  connections: () => number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let world: WorkerWorld;
let silent: Awaited<ReturnType<typeof startSilentServer>>;
beforeAll(async () => {
  [world, silent] = await Promise.all([createWorkerWorld(), startSilentServer()]);
});
afterAll(async () => {
  await Promise.all([world.close(), silent.close()]);
});

/** Worker deps whose clients are built from the environment (as in Lambda), endpoints overridden. */
function depsWith(endpoints: { DYNAMODB_ENDPOINT?: string; SQS_ENDPOINT?: string }) {
  const log = recordingLog();
  const deps = buildWorkerDeps({
    env: {
      ...world.env(),
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      DYNAMODB_ENDPOINT: process.env.TEST_DYNAMODB_ENDPOINT,
      SQS_ENDPOINT: process.env.TEST_SQS_ENDPOINT,
      ...endpoints,
    },
    log,
    metrics: recordingMetrics(),
    safetyMarginMs: 500,
  });
  return { deps, log };
}

const wixPending = () =>
  sampleWebhook('wix-cashier-pay', 'transaction-pending', (p) => {
    p.transactionEvent.orderId = randomUUID();
  });

describe('worker AWS calls are bounded by the invocation deadline', () => {
  it('reports a record whose DynamoDB call hangs as a transient failure, in time for the batch answer', async () => {
    const { deps, log } = depsWith({ DYNAMODB_ENDPOINT: silent.url });
    const record = sqsRecord(wixPending());

    const result = await makeHandler(deps)(sqsEvent([record]), lambdaContext(2500));

    expect(silent.connections()).toBeGreaterThan(0);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: 'record handled',
        extra: expect.objectContaining({
          outcome: 'transient-failure',
          reason: expect.stringContaining('no time left in this invocation'),
        }),
      }),
    );
  });

  it('keeps a permanent failure in the queue when the dead-letter send hangs, and answers for the batch', async () => {
    const { deps, log } = depsWith({ SQS_ENDPOINT: silent.url });
    const broken = { ...sqsRecord(wixPending()), body: 'not json' };

    const result = await makeHandler(deps)(sqsEvent([broken]), lambdaContext(2500));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: broken.messageId }]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        extra: expect.objectContaining({
          outcome: 'transient-failure',
          dlqError: expect.stringContaining('no time left in this invocation'),
        }),
      }),
    );
  });

  it('still answers for the rest of the batch: the dead-lettered record is done, the hung one is retried', async () => {
    const { deps } = depsWith({ DYNAMODB_ENDPOINT: silent.url });
    const broken = { ...sqsRecord(wixPending()), body: 'not json' };
    const hung = sqsRecord(wixPending());

    const result = await makeHandler(deps)(sqsEvent([broken, hung]), lambdaContext(2500));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: hung.messageId }]);
    const dead = await drainQueue(world.sqs, world.queues.dlqUrl);
    expect(dead.map((m) => m.Body)).toContain('not json');
  });
});
