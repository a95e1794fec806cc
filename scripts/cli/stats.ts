import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { countOrders, scanCostLine, tableSize } from './order-scan';
import { formatTable } from './orders';
import {
  need,
  progress,
  progressDone,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  UsageError,
} from './target';

export const STATS_HELP = `Usage: order-webhooks stats [options]

Queue depth (visible), in flight (being processed), delayed, dead-letter queue depth, and the number
of orders in the ledger by provider and status.

With --aws the order counts by status and provider need a Scan of the whole orders table, so they are
left out unless asked for: by default the table's item count (DynamoDB's figure, refreshed about every
six hours) is shown instead.

Options:
  --count-orders       with --aws: count the orders by status and provider (a Scan; its size and read
                       units are printed first, its progress on a terminal)
  --json               machine-readable output
${TARGET_HELP}
  -h, --help`;

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface Stats {
  queue: QueueDepth;
  dlq: QueueDepth;
  orders: {
    total: number;
    byStatus: Record<string, number>;
    byProvider: Record<string, number>;
    /** `total` is the table's item count from DescribeTable (not counted, no Scan; byStatus/byProvider empty). */
    approximate?: boolean;
  };
}

/** Approximate counts, as SQS reports them. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** Every message the queue holds: waiting, in flight and delayed. */
export async function queuedMessageCount(sqs: SQSClient, queueUrl: string): Promise<number> {
  const d = await queueDepth(sqs, queueUrl);
  return d.visible + d.inFlight + d.delayed;
}

export async function runStats(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'count-orders': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(`${STATS_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const target = await resolveTarget(values);
  const table = need(target.ordersTable, 'ORDERS_TABLE');
  const [queue, dlq] = await Promise.all([
    queueDepth(target.sqs, need(target.queueUrl, 'QUEUE_URL')),
    queueDepth(target.sqs, need(target.dlqUrl, 'DLQ_URL')),
  ]);
  let orders: Stats['orders'];
  if (target.kind === 'aws' && !values['count-orders']) {
    const size = await tableSize(target.dynamo, table);
    orders = { total: size?.items ?? 0, byStatus: {}, byProvider: {}, approximate: true };
    if (!values.json)
      process.stderr.write(
        `order counts by status and provider: --count-orders (${scanCostLine('it', size)})\n`,
      );
  } else {
    if (target.kind === 'aws')
      process.stderr.write(`${scanCostLine('--count-orders', await tableSize(target.dynamo, table))}\n`);
    orders = await countOrders(target.dynamo, table, (n) => progress(`read ${n} items`));
    progressDone();
  }
  const { byStatus, byProvider } = orders;
  const stats: Stats = { queue, dlq, orders };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
    return 0;
  }
  const q = (d: QueueDepth) => [String(d.visible), String(d.inFlight), String(d.delayed)];
  process.stdout.write(
    `${formatTable(
      ['QUEUE', 'WAITING', 'IN FLIGHT', 'DELAYED'],
      [
        ['main', ...q(queue)],
        ['dead-letter', ...q(dlq)],
      ],
    )}\n\n`,
  );
  if (orders.approximate) {
    process.stdout.write(
      `ORDERS TABLE  about ${orders.total} items (DynamoDB's count, refreshed about every 6 h)\n`,
    );
    return 0;
  }
  const statusRows = Object.entries(byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => [s, String(n)]);
  process.stdout.write(
    `${formatTable(['ORDER STATUS', 'COUNT'], [...statusRows, ['total', String(orders.total)]])}\n\n`,
  );
  const providerRows = Object.entries(byProvider)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, n]) => [p, String(n)]);
  process.stdout.write(
    `${formatTable(['PROVIDER', 'ORDERS'], [...providerRows, ['total', String(orders.total)]])}\n`,
  );
  return 0;
}
