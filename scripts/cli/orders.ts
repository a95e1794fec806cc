import { parseArgs } from 'node:util';
import type { OrderRecord } from '../../shared/domain/order-record';
import { ORDER_STATUSES } from '../../shared/domain/state-machine';
import { listOrders } from '../../shared/order-system/ledger';
import { PROVIDERS, type Provider } from '../../shared/queue/message';
import { formatOrderDetail, listOrderEffects } from './order-effects';
import { findOrdersById, scanCostLine, tableSize } from './order-scan';
import {
  need,
  progress,
  progressDone,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  UsageError,
} from './target';

export const ORDERS_HELP = `Usage: order-webhooks orders [options]

Lists the orders in the built-in ledger (ORDERS_TABLE), newest first, with their status and the
external order id/number the worker created. A list reads the whole table (a Scan: with --aws its size
and read units are printed first); --id reads by key (one read per provider) and scans only when the
id is not a provider order id (an external id).

Options:
  --provider <p>       only this provider (${PROVIDERS.join(', ')})
  --id <id>            only the order with this provider order id or external id, with its
                       history and its write-backs and pushes (needs IDEMPOTENCY_TABLE with --aws)
  --status <s>         only this status (${ORDER_STATUSES.join(', ')})
  --limit <n>          at most n orders
  --json               full records as JSON
${TARGET_HELP}
  -h, --help`;

/** The table view's columns: header and value side by side, so they cannot drift apart. */
const ORDER_COLUMNS: [header: string, value: (o: OrderRecord) => string | number | undefined][] = [
  ['PROVIDER', (o) => o.provider],
  ['ORDER ID', (o) => o.providerOrderId],
  ['STATUS', (o) => o.status],
  ['PAYMENT', (o) => o.paymentStatus],
  ['FULFILMENT', (o) => o.fulfilmentStatus],
  ['SUBSCRIPTION', (o) => o.subscriptionStatus],
  ['EXTERNAL ID', (o) => o.externalId],
  ['NUMBER', (o) => o.externalNumber],
  ['UPDATED', (o) => o.updatedAt],
];

export const ORDER_HEADER = ORDER_COLUMNS.map(([header]) => header);

/** One line per order for the table view. */
export function orderRow(o: OrderRecord): string[] {
  return ORDER_COLUMNS.map(([, value]) => String(value(o) ?? '-'));
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export async function runOrders(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      provider: { type: 'string' },
      id: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(`${ORDERS_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.provider && !(PROVIDERS as readonly string[]).includes(values.provider))
    throw new UsageError(`unknown provider "${values.provider}": one of ${PROVIDERS.join(', ')}`);
  if (values.status && !(ORDER_STATUSES as readonly string[]).includes(values.status))
    throw new UsageError(`unknown status "${values.status}": one of ${ORDER_STATUSES.join(', ')}`);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError('--limit must be a positive integer');
  const target = await resolveTarget(values);
  const table = need(target.ordersTable, 'ORDERS_TABLE');
  const note = (line: string) => process.stderr.write(`${line}\n`);
  const onProgress = (scanned: number) => progress(`read ${scanned} items`);
  let orders: Awaited<ReturnType<typeof listOrders>>;
  if (values.id) {
    orders = await findOrdersById(target.dynamo, table, values.id, {
      provider: values.provider as Provider | undefined,
      onScan: target.kind === 'aws' ? note : undefined,
      onProgress,
    });
    if (values.status) orders = orders.filter((o) => o.status === values.status);
  } else {
    if (target.kind === 'aws') note(scanCostLine('listing orders', await tableSize(target.dynamo, table)));
    orders = await listOrders(target.dynamo, table, {
      provider: values.provider as Provider | undefined,
      status: values.status,
      onProgress,
    });
  }
  progressDone();
  if (limit) orders = orders.slice(0, limit);
  const effects = values.id ? orders.map((o) => listOrderEffects(o)) : undefined;
  if (values.json) {
    const out = effects ? orders.map((o, i) => ({ ...o, effects: effects[i] })) : orders;
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (orders.length === 0) {
    process.stdout.write('no orders\n');
    return values.id ? 1 : 0;
  }
  process.stdout.write(`${formatTable(ORDER_HEADER, orders.map(orderRow))}\n${orders.length} order(s)\n`);
  if (values.id)
    for (const [i, o] of orders.entries()) process.stdout.write(`${formatOrderDetail(o, effects?.[i])}\n`);
  return 0;
}
