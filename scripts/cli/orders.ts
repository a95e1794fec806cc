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
  type Target,
  UsageError,
} from './target';

/**
 * The status shown for an order that has none yet (a placeholder: an event recorded before the order
 * itself arrived). `stats` counts such orders under it and `orders --status unknown` lists them.
 */
export const NO_STATUS = 'unknown';
export const statusOf = (o: Pick<OrderRecord, 'status'>): string => o.status ?? NO_STATUS;
const STATUS_FILTERS: readonly string[] = [...ORDER_STATUSES, NO_STATUS];

export const ORDERS_HELP = `Usage: order-webhooks orders [options]

Lists the orders in the built-in ledger (ORDERS_TABLE), newest first, with their status and the
external order id/number the worker created. A list reads the whole table (a Scan: with --aws its size
and read units are printed first); --id reads by key (one read per provider) and scans only when the
id is not a provider order id (an external id).

Options:
  --provider <p>       only this provider (${PROVIDERS.join(', ')})
  --id <id>            only the order with this provider order id, external id or number, with its
                       history and its write-backs and pushes (needs IDEMPOTENCY_TABLE with --aws)
  --status <s>         only this status (${STATUS_FILTERS.join(', ')}; ${NO_STATUS}: no status yet)
  --limit <n>          at most n orders
  --json               full records as JSON
${TARGET_HELP}
  -h, --help`;

/** The table view's columns: header and value side by side, so they cannot drift apart. */
const ORDER_COLUMNS: [header: string, value: (o: OrderRecord) => string | number | undefined][] = [
  ['PROVIDER', (o) => o.provider],
  ['ORDER ID', (o) => o.providerOrderId],
  ['STATUS', statusOf],
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

export interface OrderSearch {
  provider?: Provider | undefined;
  status?: string | undefined;
  /** A provider order id, an external order id or an external order number. */
  id?: string | undefined;
  limit?: number | undefined;
}

/**
 * The ledger's orders matching `filter`, newest first (`orders` and the console read this way). An id
 * is looked up by key first (one Query of the order's partition per provider); only an external id or number needs a scan,
 * and in AWS `note` is told what a scan costs before it starts.
 */
export async function findOrders(
  target: Target,
  filter: OrderSearch,
  report: { note?: (line: string) => void; onProgress?: (scanned: number) => void } = {},
): Promise<OrderRecord[]> {
  const table = need(target.ordersTable, 'ORDERS_TABLE');
  const noStatus = filter.status === NO_STATUS;
  const id = filter.id?.trim();
  let orders: OrderRecord[];
  if (id) {
    orders = await findOrdersById(target.dynamo, table, id, {
      provider: filter.provider,
      onScan: target.kind === 'aws' ? report.note : undefined,
      onProgress: report.onProgress,
    });
    if (filter.status) orders = orders.filter((o) => statusOf(o) === filter.status);
  } else {
    if (target.kind === 'aws' && report.note)
      report.note(scanCostLine('listing orders', await tableSize(target.dynamo, table)));
    orders = await listOrders(target.dynamo, table, {
      provider: filter.provider,
      status: noStatus ? undefined : filter.status,
      onProgress: report.onProgress,
    });
    if (noStatus) orders = orders.filter((o) => o.status === undefined);
  }
  return filter.limit ? orders.slice(0, filter.limit) : orders;
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
  if (values.status && !STATUS_FILTERS.includes(values.status))
    throw new UsageError(`unknown status "${values.status}": one of ${STATUS_FILTERS.join(', ')}`);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError('--limit must be a positive integer');
  const target = await resolveTarget(values);
  const orders = await findOrders(
    target,
    { provider: values.provider as Provider | undefined, status: values.status, id: values.id, limit },
    {
      note: (line) => process.stderr.write(`${line}\n`),
      onProgress: (scanned) => progress(`read ${scanned} items`),
    },
  );
  progressDone();
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
