/**
 * Worker throughput: records per second through the worker handler against DynamoDB Local with the
 * fake ReCharge answering at once, batches of 10, and DynamoDB calls per record (counted by SDK
 * middleware). Compared with a floor: the same DynamoDB calls per record, made directly (same
 * command mix, same concurrency, same run). Usage: `npm run bench:worker [-- --records 500 --rounds 3]`.
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { makeHandler } from '../functions/worker/handler';
import { startDynamoDbLocal } from '../scripts/local/emulators';
import { FAKE_RECHARGE_TOKEN, startFakeRecharge } from '../scripts/local/fake-recharge';
import { ensureTables } from '../scripts/local/resources';
import { samplePayload } from '../scripts/samples/index';
import { LedgerOrderSystem } from '../shared/order-system/ledger';
import { toSendMessageInput } from '../shared/queue/message';
import { MemoryRateBudget } from '../shared/recharge-api/rate-budget';
import { buildWorkerDeps } from '../shared/worker/deps';
import { benchArg, benchAwsEnv } from './lib/cli';

benchAwsEnv();

const arg = (name: string, fallback: number) => Number(benchArg(name, String(fallback)));
const RECORDS = arg('records', 500);
const BATCH = 10;
const CONCURRENCY = 5;
const ROUNDS = arg('rounds', 3);

interface Captured {
  name: string;
  input: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: replayed inputs are captured raw request objects
const COMMANDS: Record<string, new (input: any) => any> = {
  GetItemCommand,
  QueryCommand,
  PutItemCommand,
  UpdateItemCommand,
  DeleteItemCommand,
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const noMetrics = { count() {} };

function record(orderId: number): SQSRecord {
  const payload = samplePayload<{ order: { id: number; charge: { id: number } } }>(
    'recharge',
    '2021-11-created-regular',
  );
  payload.order.id = orderId;
  payload.order.charge.id = orderId + 1;
  const body = JSON.stringify(payload);
  const input = toSendMessageInput('bench', {
    provider: 'recharge',
    topic: 'order/created',
    deliveryKey: `recharge:bench:${orderId}`,
    receivedAt: new Date().toISOString(),
    verification: 'recharge-hmac-sha256-v1',
    body,
  });
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [k, v] of Object.entries(input.MessageAttributes ?? {}))
    messageAttributes[k] = {
      dataType: 'String',
      stringValue: v.StringValue,
      stringListValues: [],
      binaryListValues: [],
    };
  return {
    messageId: randomUUID(),
    receiptHandle: 'r',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
    awsRegion: 'us-east-1',
  };
}

const context = {
  getRemainingTimeInMillis: () => 60_000,
} as unknown as import('aws-lambda').Context;

async function main() {
  const dynamo = await startDynamoDbLocal();
  const recharge = await startFakeRecharge();
  try {
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1' });
    const calls: Captured[] = [];
    // At the build step the request is serialised: its JSON body is the raw low-level input.
    client.middlewareStack.add(
      (next, ctx) => async (args) => {
        const body = (args.request as { body?: unknown }).body;
        const text =
          typeof body === 'string'
            ? body
            : ArrayBuffer.isView(body)
              ? new TextDecoder().decode(body as Uint8Array)
              : String(body);
        calls.push({ name: String(ctx.commandName), input: JSON.parse(text) });
        return next(args);
      },
      { step: 'build', name: 'countCalls' },
    );
    const tables = { idempotency: `bench-idem-${Date.now()}`, orders: `bench-orders-${Date.now()}` };
    await ensureTables(client, tables);
    const deps = buildWorkerDeps({
      env: {
        AWS_REGION: 'us-east-1',
        QUEUE_URL: 'bench',
        DLQ_URL: 'bench-dlq',
        IDEMPOTENCY_TABLE: tables.idempotency,
        ORDERS_TABLE: tables.orders,
        RECHARGE_API_URL: recharge.url,
        RECHARGE_API_VERSION: '2021-11',
        RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
      },
      dynamo: client,
      log: silent,
      metrics: noMetrics,
      concurrency: CONCURRENCY,
      // The fake does not enforce ReCharge's 2/s bucket; the real limit would make this a rate-limit benchmark.
      rechargeBudget: new MemoryRateBudget({ capacity: 1e9, perSecond: 1e9 }),
    });
    const handler = makeHandler(deps);
    // The same handler without the ledger's gathering wait (creates that reach the counter together
    // share one write; a create waits up to COUNTER_GATHER_MS for others): the wait is not work, and
    // this row shows the handler's own time apart from it.
    const ungathered = makeHandler({
      ...deps,
      orderSystem: new LedgerOrderSystem(client, tables.orders, 1001, undefined, 0),
    });
    const base = 100_000_000 + Math.floor(Math.random() * 1e6) * 1000;

    // Warm up (JIT, connections, table first writes), then capture one record's exact requests.
    for (let i = 0; i < 3; i++) await handler({ Records: [record(base - 10 - i * 10)] }, context);
    const sampleId = base - 100;
    calls.length = 0;
    await handler({ Records: [record(sampleId)] }, context);
    const sequence = [...calls];

    const runHandler = async (make: (i: number) => SQSRecord, run = handler) => {
      calls.length = 0;
      const started = performance.now();
      for (let b = 0; b < RECORDS / BATCH; b++) {
        const batch = Array.from({ length: BATCH }, (_, j) => make(b * BATCH + j));
        const out = await run({ Records: batch }, context);
        if (out.batchItemFailures.length) throw new Error(`${out.batchItemFailures.length} records failed`);
      }
      const seconds = (performance.now() - started) / 1000;
      return { rps: RECORDS / seconds, callsPerRecord: calls.length / RECORDS };
    };

    /**
     * The floor: the very requests one record made (captured above), replayed directly with the
     * record's ids swapped for fresh ones, same batch shape and concurrency. Only our code's time
     * (and the one ReCharge HTTP call) separates the handler from this.
     */
    const runFloor = async (perRecord: Captured[], sameKeys: boolean, offset: number) => {
      const templates = perRecord.map((c) => ({ name: c.name, json: JSON.stringify(c.input) }));
      const one = async (orderId: number) => {
        for (const { name, json } of templates) {
          const text = sameKeys ? json : json.replaceAll(String(sampleId), String(orderId));
          const Command = COMMANDS[name];
          if (!Command) throw new Error(`no raw command for ${name}`);
          try {
            await client.send(new Command(JSON.parse(text)));
          } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
        }
      };
      const floorBase = base + 500_000_000 + offset;
      const started = performance.now();
      for (let b = 0; b < RECORDS / BATCH; b++) {
        const ids = Array.from({ length: BATCH }, (_, j) => floorBase + (b * BATCH + j) * 10);
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            for (let id = ids.shift(); id; id = ids.shift()) await one(id);
          }),
        );
      }
      return RECORDS / ((performance.now() - started) / 1000);
    };

    calls.length = 0;
    await handler({ Records: [record(sampleId)] }, context);
    const dupSequence = [...calls];

    // JIT warm-up of both sides (Node and DynamoDB Local's JVM), discarded.
    const warm = base + 900_000_000;
    await runHandler((i) => record(warm + i * 10));
    await runFloor(sequence, false, 900_000_000);

    // Alternate handler and floor rounds so drift in machine load hits both; report medians.
    const rounds = {
      fresh: [] as number[],
      freshUngathered: [] as number[],
      freshFloor: [] as number[],
      dups: [] as number[],
      dupFloor: [] as number[],
    };
    let callsPerNew = 0;
    let callsPerUngathered = 0;
    let callsPerDup = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const offset = (round + 1) * 10_000_000;
      const fresh = await runHandler((i) => record(base + offset + i * 10));
      rounds.fresh.push(fresh.rps);
      callsPerNew = fresh.callsPerRecord;
      const alone = await runHandler((i) => record(base + offset + 5_000_000 + i * 10), ungathered);
      rounds.freshUngathered.push(alone.rps);
      callsPerUngathered = alone.callsPerRecord;
      rounds.freshFloor.push(await runFloor(sequence, false, offset));
      const dups = await runHandler((i) => record(base + offset + i * 10));
      rounds.dups.push(dups.rps);
      callsPerDup = dups.callsPerRecord;
      rounds.dupFloor.push(await runFloor(dupSequence, true, offset));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const fresh = { rps: median(rounds.fresh), callsPerRecord: callsPerNew };
    const freshFloor = median(rounds.freshFloor);
    const dups = { rps: median(rounds.dups), callsPerRecord: callsPerDup };
    const dupFloor = median(rounds.dupFloor);

    const rechargePuts = recharge.requests.filter((r) => r.method === 'PUT').length;
    const line = (name: string, rps: number, cpr: number, floor: number) =>
      `${name.padEnd(34)} ${rps.toFixed(0).padStart(6)} rec/s  ${cpr.toFixed(2).padStart(5)} DynamoDB calls/rec  floor ${floor
        .toFixed(0)
        .padStart(6)} rec/s  ratio floor/handler ${(floor / rps).toFixed(2)}x`;
    console.log(
      `worker bench: ${RECORDS} records x ${ROUNDS} rounds (median), batches of ${BATCH}, concurrency ${CONCURRENCY}, DynamoDB Local, fake ReCharge`,
    );
    console.log(`per new order: ${sequence.map((c) => c.name.replace('Command', '')).join(' > ')}`);
    console.log(line('new orders (create + ReCharge PUT)', fresh.rps, fresh.callsPerRecord, freshFloor));
    console.log(
      line('  the same, no gathering wait', median(rounds.freshUngathered), callsPerUngathered, freshFloor),
    );
    console.log(line('duplicate redeliveries', dups.rps, dups.callsPerRecord, dupFloor));
    const distinct = 4 + RECORDS * (2 * ROUNDS + 1);
    console.log(
      `ReCharge PUTs: ${rechargePuts} for ${distinct} distinct orders (duplicate redeliveries made none)`,
    );
  } finally {
    await recharge.close();
    await dynamo.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
