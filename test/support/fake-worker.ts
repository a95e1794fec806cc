import { createHash, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import type { QueueUrls, TableNames } from '../../scripts/local/resources';
import { samplePayload } from '../../scripts/samples/index';
import type { Log } from '../../shared/logger';
import { ATTENTION_DIMENSION, METRIC } from '../../shared/metrics';
import { type Provider, type QueuedWebhook, toSendMessageInput } from '../../shared/queue/message';
import { type BuildWorkerDepsOptions, buildWorkerDeps } from '../../shared/worker/deps';
import type { MetricsSink, WorkerDeps } from '../../shared/worker/process-record';
import { createTestQueues, createTestTables, testDynamoClient, testSqsClient } from './aws';

/** Free-form sample JSON that tests edit in place. */
// biome-ignore lint/suspicious/noExplicitAny: sample payloads are arbitrary JSON edited by tests
export type JsonObject = Record<string, any>;

/** Narrows away undefined with a clear failure (instead of `!`). */
export function must<T>(value: T | undefined | null, what = 'value'): T {
  if (value === undefined || value === null) throw new Error(`expected ${what} to be present`);
  return value;
}

/** Log recorder: keeps test output clean and lets tests read what was logged. */
export function recordingLog(): Log & {
  lines: { level: string; message: string; extra?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push({ level, message, extra });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Metric recorder: counts per metric name, and NeedsAttention per reason (`attention`), nothing
 * printed.
 */
export function recordingMetrics(): MetricsSink & {
  counts: Record<string, number>;
  attention: Record<string, number>;
} {
  const counts: Record<string, number> = {};
  const attention: Record<string, number> = {};
  return {
    counts,
    attention,
    count(name, value = 1, dimensions) {
      counts[name] = (counts[name] ?? 0) + value;
      if (name === METRIC.needsAttention && dimensions?.[ATTENTION_DIMENSION])
        attention[dimensions[ATTENTION_DIMENSION]] =
          (attention[dimensions[ATTENTION_DIMENSION]] ?? 0) + value;
    },
  };
}

const TOPICS: Record<Provider, (payload: Record<string, unknown>, name: string) => string> = {
  recharge: (_p, name) => `order/${name.split('-')[2]}`,
  'wix-cashier-pay': (p) => String(p.type),
  sevi: () => 'order/payment',
};

/** A queued webhook as the ingest would produce it (delivery key stable for identical bodies). */
export function queuedWebhook(provider: Provider, topic: string, payload: unknown): QueuedWebhook {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return {
    provider,
    topic,
    deliveryKey: `${provider}:${createHash('sha256').update(topic).update('\n').update(body).digest('hex')}`,
    receivedAt: new Date().toISOString(),
    verification:
      provider === 'recharge'
        ? 'recharge-hmac-sha256-v1'
        : provider === 'sevi'
          ? 'sevi-token'
          : 'wix-path-token',
    body,
  };
}

/** A sample payload (deep copy), optionally modified, as a queued webhook. */
export function sampleWebhook(
  provider: Provider,
  name: string,
  modify?: (payload: JsonObject) => void,
): QueuedWebhook {
  const payload = samplePayload<JsonObject>(provider, name);
  modify?.(payload);
  return queuedWebhook(provider, TOPICS[provider](payload, name), payload);
}

/**
 * An SQS record exactly as Lambda hands it over: the ingest's SendMessage input converted to the
 * event source's camelCase attribute shape.
 */
export function sqsRecord(
  webhook: QueuedWebhook,
  queueUrl = 'https://sqs.us-east-1.amazonaws.com/1/q',
): SQSRecord {
  const input = toSendMessageInput(queueUrl, webhook);
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(input.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      stringValue: value.StringValue,
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: input.MessageBody ?? '',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes,
    md5OfBody: createHash('md5')
      .update(input.MessageBody ?? '')
      .digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:webhooks',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context with a real clock: `remainingMs` from now. */
export function lambdaContext(remainingMs = 60_000): Context {
  const end = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:worker',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/worker',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Sends webhooks through the emulator queue with the ingest's contract and receives them as SQS records. */
export async function throughQueue(
  sqs: SQSClient,
  queueUrl: string,
  webhooks: QueuedWebhook[],
): Promise<SQSRecord[]> {
  for (const webhook of webhooks)
    await sqs.send(new SendMessageCommand(toSendMessageInput(queueUrl, webhook)));
  return receiveRecords(sqs, queueUrl, webhooks.length);
}

/** Receives (and deletes) up to `count` messages as Lambda SQS records, waiting briefly for them. */
export async function receiveRecords(sqs: SQSClient, queueUrl: string, count: number): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  for (let i = 0; i < 10 && records.length < count; i++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    for (const m of out.Messages ?? []) {
      const messageAttributes: SQSRecord['messageAttributes'] = {};
      for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
        messageAttributes[name] = {
          dataType: value.DataType ?? 'String',
          stringValue: value.StringValue,
          stringListValues: [],
          binaryListValues: [],
        };
      }
      records.push({
        messageId: m.MessageId ?? randomUUID(),
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
          SenderId: m.Attributes?.SenderId ?? 'AIDA',
          ApproximateFirstReceiveTimestamp:
            m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        },
        messageAttributes,
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:webhooks',
        awsRegion: 'us-east-1',
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return records;
}

/** Receives everything currently in a queue (e.g. the DLQ), with attributes. */
export async function drainQueue(sqs: SQSClient, queueUrl: string) {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      WaitTimeSeconds: 1,
    }),
  );
  return out.Messages ?? [];
}

export interface WorkerWorld {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  tables: TableNames;
  queues: QueueUrls;
  recharge: FakeRecharge;
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  deps(
    options?: Omit<BuildWorkerDepsOptions, 'env' | 'dynamo' | 'sqs'> & { env?: Record<string, string> },
  ): WorkerDeps & { log: ReturnType<typeof recordingLog>; metrics: ReturnType<typeof recordingMetrics> };
  close(): Promise<void>;
}

/** Fresh tables, queues and a fake ReCharge for one suite, wired into worker deps. */
export async function createWorkerWorld(): Promise<WorkerWorld> {
  const dynamo = testDynamoClient();
  const sqs = testSqsClient();
  const [tables, queues, recharge] = await Promise.all([
    createTestTables(dynamo),
    createTestQueues(sqs),
    startFakeRecharge(),
  ]);
  // The worker's own clients, apart from the ones tests use to arrange and inspect: with
  // AWS_CALL_RECORD_FILE set (jest globalSetup) they record its calls for the IAM contract check.
  const workerDynamo = testDynamoClient();
  const workerSqs = testSqsClient();
  const env = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    AWS_CALL_RECORD_FILE: process.env.AWS_CALL_RECORD_FILE,
    AWS_REGION: 'us-east-1',
    QUEUE_URL: queues.queueUrl,
    DLQ_URL: queues.dlqUrl,
    IDEMPOTENCY_TABLE: tables.idempotency,
    ORDERS_TABLE: tables.orders,
    RECHARGE_API_URL: recharge.url,
    RECHARGE_API_VERSION: '2021-11',
    RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
    RECHARGE_TIMEOUT_MS: '1000',
    ...overrides,
  });
  return {
    dynamo,
    sqs,
    tables,
    queues,
    recharge,
    env,
    deps(options = {}) {
      const log = recordingLog();
      const metrics = recordingMetrics();
      const { env: envOverrides, ...rest } = options;
      const deps = buildWorkerDeps({
        safetyMarginMs: 1000,
        ...rest,
        env: env(envOverrides),
        dynamo: workerDynamo,
        sqs: workerSqs,
        log,
        metrics,
      });
      return { ...deps, log, metrics };
    },
    close: () => recharge.close(),
  };
}
