import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { listOrders } from '../../shared/order-system/ledger';
import { formatTable, statusOf } from './orders';
import { need, resolveTarget, TARGET_HELP, TARGET_OPTIONS, UsageError } from './target';

export const STATS_HELP = `Usage: order-webhooks stats [options]

Queue depth (visible), in flight (being processed), delayed, dead-letter queue depth, and the number
of orders in the ledger by provider and status.

Options:
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
  orders: { total: number; byStatus: Record<string, number>; byProvider: Record<string, number> };
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
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...TARGET_OPTIONS },
  });
  if (values.help) {
    process.stdout.write(`${STATS_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const target = await resolveTarget(values);
  const [queue, dlq, orders] = await Promise.all([
    queueDepth(target.sqs, need(target.queueUrl, 'QUEUE_URL')),
    queueDepth(target.sqs, need(target.dlqUrl, 'DLQ_URL')),
    listOrders(target.dynamo, need(target.ordersTable, 'ORDERS_TABLE')),
  ]);
  const byStatus: Record<string, number> = {};
  const byProvider: Record<string, number> = {};
  for (const o of orders) {
    const status = statusOf(o);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    byProvider[o.provider] = (byProvider[o.provider] ?? 0) + 1;
  }
  const stats: Stats = { queue, dlq, orders: { total: orders.length, byStatus, byProvider } };
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
  const statusRows = Object.entries(byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => [s, String(n)]);
  process.stdout.write(
    `${formatTable(['ORDER STATUS', 'COUNT'], [...statusRows, ['total', String(orders.length)]])}\n\n`,
  );
  const providerRows = Object.entries(byProvider)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, n]) => [p, String(n)]);
  process.stdout.write(
    `${formatTable(['PROVIDER', 'ORDERS'], [...providerRows, ['total', String(orders.length)]])}\n`,
  );
  return 0;
}
