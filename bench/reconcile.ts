/**
 * Reconciliation pass cost: 10,000 ReCharge orders in the fake ReCharge (API 2021-11), 1 % of
 * them behind our records (never seen), the rest in sync. Measures ReCharge list calls (floor:
 * ceil(N / 250)), DynamoDB reads (BatchGetItem calls, floor ceil(N / 100)), SQS calls, wall time
 * with the fake answering at once, and the time the pass would take against ReCharge's real
 * 2 calls/s. ReCharge calls take their slots from the shared rate budget in DynamoDB, as deployed
 * (its rate set out of the fake's reach). Writes bench/out/reconcile.json.
 * Usage: `npm run bench:reconcile [-- --orders 10000 --behind-percent 1]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal, startSqsEmulator } from '../scripts/local/emulators';
import { FAKE_RECHARGE_TOKEN, type FakeOrder, startFakeRecharge } from '../scripts/local/fake-recharge';
import { ensureQueues, ensureTables } from '../scripts/local/resources';
import { samplePayload } from '../scripts/samples/index';
import { ledgerOrderId, ORDER_SK, orderItemPk, ordersDocumentClient } from '../shared/order-system/ledger';
import { rechargeTime } from '../shared/providers/recharge/order';
import { buildReconcileDeps } from '../shared/reconcile/deps';
import { runReconcilePass } from '../shared/reconcile/pass';
import { benchArg, benchAwsEnv } from './lib/cli';

benchAwsEnv();

const arg = (name: string, fallback: number) => Number(benchArg(name, String(fallback)));
const ORDERS = arg('orders', 10_000);
const BEHIND_PERCENT = arg('behind-percent', 1);
const silent = { debug() {}, info() {}, warn() {}, error() {} };
/** ReCharge's documented bucket. */
const RECHARGE_REAL = { capacity: 40, leakPerSecond: 2 };

/** Seconds `calls` calls take through a leaky bucket that starts empty (beyond the burst, 1/rate each). */
const rateLimitedSeconds = (calls: number, bucket: { capacity: number; leakPerSecond: number }) =>
  Math.max(0, calls - bucket.capacity) / bucket.leakPerSecond;

async function main() {
  const [dynamo, sqsEmulator] = await Promise.all([startDynamoDbLocal(), startSqsEmulator()]);
  const recharge = await startFakeRecharge();
  try {
    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
    const sqs = new SQSClient({ endpoint: sqsEmulator.endpoint, region: 'us-east-1', credentials });
    const tables = { idempotency: `bench-idem-${Date.now()}`, orders: `bench-orders-${Date.now()}` };
    await ensureTables(client, tables);
    const { queueUrl } = await ensureQueues(sqs, `bench-reconcile-${Date.now()}`);

    // Arrange: N orders in the fake; all but 1 % already in our ledger, in sync (ids written back).
    const template = samplePayload<{ order: FakeOrder }>('recharge', '2021-11-created-regular').order;
    const updatedAt = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19);
    const behindEvery = Math.round(100 / BEHIND_PERCENT);
    const doc = ordersDocumentClient(client);
    let items: Record<string, unknown>[] = [];
    const flush = async () => {
      for (let i = 0; i < items.length; i += 25)
        await doc.send(
          new BatchWriteCommand({
            RequestItems: {
              [tables.orders]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
            },
          }),
        );
      items = [];
    };
    let expectedBehind = 0;
    for (let i = 0; i < ORDERS; i++) {
      const id = String(600_000_000 + i);
      const externalId = ledgerOrderId({ provider: 'recharge', orderId: id });
      const order = {
        ...structuredClone(template),
        id: Number(id),
        updated_at: updatedAt,
        external_order_id: { ecommerce: externalId },
        external_order_number: { ecommerce: String(1001 + i) },
      };
      recharge.orders.set(id, order);
      if (i % behindEvery === 0) {
        expectedBehind += 1;
        continue;
      }
      items.push({
        pk: orderItemPk({ provider: 'recharge', orderId: id }),
        sk: ORDER_SK,
        entity: 'order',
        provider: 'recharge',
        providerOrderId: id,
        status: 'paid',
        providerStatus: 'success',
        sourceUpdatedAt: rechargeTime(updatedAt),
        externalId,
        externalNumber: String(1001 + i),
        version: 1,
      });
      if (items.length >= 1000) await flush();
    }
    await flush();

    const calls = { recharge: 0, dynamodb: 0, sqs: 0 };
    // Every DynamoDB call of the pass by kind: the batch reads, and the shared rate budget's
    // UpdateItem per ReCharge call, the watermark's GetItem and UpdateItem.
    const dynamoCalls: Record<string, number> = {};
    let counting = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String((context as { commandName?: string }).commandName).replace(/Command$/, '');
        if (counting) dynamoCalls[name] = (dynamoCalls[name] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'benchCallCounter' },
    );
    const deps = buildReconcileDeps({
      env: {
        AWS_REGION: 'us-east-1',
        QUEUE_URL: queueUrl,
        ORDERS_TABLE: tables.orders,
        IDEMPOTENCY_TABLE: tables.idempotency,
        RECHARGE_API_URL: recharge.url,
        RECHARGE_API_VERSION: '2021-11',
        RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
        // The shared budget as deployed (its item in the idempotency table, one UpdateItem per
        // ReCharge call), with a rate the fake never reaches: the wall time measures our work, and
        // ReCharge's real 2 calls/s is projected below rather than waited for.
        RECHARGE_RATE_CAPACITY: '1000000',
        RECHARGE_RATE_PER_SECOND: '1000000',
      },
      dynamo: client,
      sqs,
      log: silent,
      metrics: { count() {} },
      onCall: (backend) => {
        calls[backend] += 1;
      },
    });
    counting = true;
    const started = performance.now();
    const result = await runReconcilePass(deps.ports, {
      deadline: Date.now() + 600_000,
      overlapSeconds: 3600,
      lookbackSeconds: 259_200,
    });
    const wallSeconds = (performance.now() - started) / 1000;
    if (result.outcome !== 'completed' || result.behind !== expectedBehind || result.listed !== ORDERS)
      throw new Error(`unexpected pass result: ${JSON.stringify({ ...result, behindOrders: undefined })}`);

    const listFloor = Math.ceil(ORDERS / 250);
    const out = {
      orders: ORDERS,
      behind: result.behind,
      enqueued: result.enqueued,
      rechargeListCalls: calls.recharge,
      rechargeListCallsFloor: listFloor,
      dynamodbBatchGetCalls: calls.dynamodb,
      dynamodbBatchGetCallsFloor: Math.ceil(ORDERS / 100),
      dynamodbCallsByKind: dynamoCalls,
      sqsSendMessageBatchCalls: calls.sqs,
      wallSeconds: Number(wallSeconds.toFixed(2)),
      projectedSecondsAtRecharge2PerSecond: Number(
        (wallSeconds + rateLimitedSeconds(calls.recharge, RECHARGE_REAL)).toFixed(1),
      ),
      // The bucket already drained by the workers (a renewal day): every call waits its 0.5 s.
      projectedSecondsAtRecharge2PerSecondNoBurst: Number((wallSeconds + calls.recharge / 2).toFixed(1)),
      node: process.version,
    };
    const dir = path.join(__dirname, 'out');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'reconcile.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(
      `reconcile bench: ${ORDERS} orders in the fake ReCharge (2021-11), ${BEHIND_PERCENT} % behind`,
    );
    console.log(`  ReCharge list calls   ${out.rechargeListCalls} (floor ceil(N/250) = ${listFloor})`);
    console.log(
      `  DynamoDB BatchGetItem ${out.dynamodbBatchGetCalls} (floor ceil(N/100) = ${out.dynamodbBatchGetCallsFloor})`,
    );
    console.log(
      `  DynamoDB, all calls   ${Object.entries(dynamoCalls)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ')} (UpdateItem: the rate budget's, one per ReCharge call, and the watermark's)`,
    );
    console.log(`  SQS SendMessageBatch  ${out.sqsSendMessageBatchCalls} for ${out.enqueued} orders behind`);
    console.log(`  wall time             ${out.wallSeconds} s (fake answering at once)`);
    console.log(
      `  projected at ReCharge's 2 calls/s (40 burst): ${out.projectedSecondsAtRecharge2PerSecond} s`,
    );
    console.log(
      `  projected at 2 calls/s with the bucket already full (no burst): ${out.projectedSecondsAtRecharge2PerSecondNoBurst} s`,
    );
    console.log('  -> bench/out/reconcile.json');
  } finally {
    await recharge.close();
    await Promise.all([dynamo.stop(), sqsEmulator.stop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
