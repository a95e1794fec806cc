import { parseArgs } from 'node:util';
import type { ArchivedWebhook, ArchiveEntry, ArchiveQuery } from '../../shared/archive/archive';
import { makeS3Archive, type S3Archive } from '../../shared/archive/s3-archive';
import { OrderStore } from '../../shared/order-system/ledger';
import { PROVIDERS, type Provider } from '../../shared/queue/message';
import { formatTable } from './orders';
import {
  CliError,
  need,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  type Target,
  UsageError,
} from './target';

export const ARCHIVE_HELP = `Usage: order-webhooks archive <list|show> [options]

The audit archive: every verified webhook as received (body bytes and what was verified).

  list                 archived webhooks of one provider, oldest first (by the time each was
                       received): received time, topic, order id, delivery key, size. Every receipt
                       is an entry: a delivery received again is listed again, with its own time
  show [<key>]         one webhook: metadata, then the body (JSON pretty-printed); the key from
                       \`list\`, or --provider with --delivery

Options:
  --provider <p>       ${PROVIDERS.join(', ')} (required, except for show <key>)
  --from <iso>         received at or after (default: 24 hours before --to)
  --to <iso>           received before (default: now)
  --order <id>         only this provider order: the deliveries its history names (any time)
                       and every receipt of the last 24 hours; with --from/--to, every
                       receipt in that range (repeats and failed ones too)
  --delivery <key>     only this delivery key (in the time range: default the last 24 hours)
  --max <n>            list: at most n entries (default 500)
  --json               machine-readable output
${TARGET_HELP}
  -h, --help`;

/** Filter options shared by `archive` and `replay`. */
export const QUERY_OPTIONS = {
  provider: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  order: { type: 'string' },
  delivery: { type: 'string' },
} as const;

function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new UsageError(`${flag} must be an ISO-8601 time, e.g. 2026-12-03T00:00Z`);
  return time;
}

/** The archive query from the shared flags; --provider is required. */
export function queryFrom(values: {
  provider?: string;
  from?: string;
  to?: string;
  order?: string;
  delivery?: string;
}): ArchiveQuery {
  if (!values.provider) throw new UsageError('--provider is required');
  if (!(PROVIDERS as readonly string[]).includes(values.provider))
    throw new UsageError(`unknown provider "${values.provider}": one of ${PROVIDERS.join(', ')}`);
  const from = parseTime(values.from, '--from');
  const to = parseTime(values.to, '--to');
  if (from && to && from >= to) throw new UsageError('--from must be before --to');
  return {
    provider: values.provider as Provider,
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(values.order ? { orderId: values.order } : {}),
    ...(values.delivery ? { deliveryKey: values.delivery } : {}),
  };
}

/**
 * The archive of the target: the local mode's emulator bucket, or ARCHIVE_BUCKET in AWS. An order
 * query without a time range reads the objects the order's history names (orders table).
 */
export function archiveOf(target: Target): S3Archive {
  const bucket = need(target.archiveBucket, 'ARCHIVE_BUCKET');
  const table = target.ordersTable;
  return makeS3Archive({
    bucket,
    region: target.region,
    endpoint: target.s3Endpoint,
    ...(target.kind === 'local' ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    ...(table
      ? {
          orderRefs: async (provider: Provider, orderId: string) => {
            const stored = await new OrderStore(target.dynamo, table).get({ provider, orderId });
            return (stored?.history ?? []).flatMap((h) => (h.archive ? [h.archive] : []));
          },
        }
      : {}),
  });
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}

export interface ListedWebhook extends ArchiveEntry {
  topic: string;
  orderId: string | undefined;
  receivedAt: string;
  /** The verification scheme that passed at the ingest. */
  verification: string;
  bytes: number;
}

export async function describeEntries(
  archive: S3Archive,
  entries: readonly ArchiveEntry[],
): Promise<ListedWebhook[]> {
  return mapLimit(entries, 8, async (entry) => {
    const head = await archive.head(entry.key);
    return {
      ...entry,
      topic: head.topic,
      orderId: head.orderId,
      receivedAt: head.receivedAt,
      verification: head.verification,
      bytes: head.bytes,
    };
  });
}

export function listTable(rows: readonly ListedWebhook[]): string {
  return formatTable(
    ['RECEIVED', 'TOPIC', 'ORDER', 'DELIVERY KEY', 'BYTES'],
    rows.map((r) => [r.receivedAt || r.hour, r.topic, r.orderId ?? '-', r.deliveryKey, String(r.bytes)]),
  );
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** One archived webhook as `archive show` finds it: by key, or the last one of a delivery key. */
export async function showArchived(
  archive: S3Archive,
  by: { key: string } | { query: ArchiveQuery },
): Promise<{ key: string; webhook: ArchivedWebhook; received: number }> {
  let key: string;
  let received = 1;
  if ('key' in by) key = by.key;
  else {
    const found = await archive.list(by.query);
    if (found.length === 0)
      throw new CliError(`no archived webhook with delivery key ${by.query.deliveryKey ?? '(none given)'}`);
    key = (found.at(-1) as ArchiveEntry).key;
    received = found.length;
  }
  try {
    return { key, webhook: await archive.get(key), received };
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') throw new CliError(`no archived webhook at ${key}`);
    throw error;
  }
}

export async function runArchive(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...QUERY_OPTIONS,
      max: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  const [sub, ...rest] = positionals;
  if (values.help || !sub) {
    process.stdout.write(`${ARCHIVE_HELP}\n`);
    return values.help ? 0 : 2;
  }
  if (sub === 'list') {
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const query = queryFrom(values);
    const max = values.max === undefined ? 500 : Number(values.max);
    if (!Number.isInteger(max) || max < 1) throw new UsageError('--max must be a positive integer');
    const archive = archiveOf(await resolveTarget(values));
    const entries = await archive.list(query);
    const rows = await describeEntries(archive, entries.slice(0, max));
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write('no archived webhooks match\n');
      return 0;
    }
    const more = entries.length > rows.length ? ` (of ${entries.length}; raise --max)` : '';
    process.stdout.write(`${listTable(rows)}\n${rows.length} webhook(s)${more}\n`);
    return 0;
  }
  if (sub === 'show') {
    if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
    if (!rest[0] && !values.delivery)
      throw new UsageError('show needs a key (from `archive list`) or --provider and --delivery');
    const archive = archiveOf(await resolveTarget(values));
    const { key, webhook, received } = await showArchived(
      archive,
      rest[0] ? { key: rest[0] } : { query: queryFrom(values) },
    );
    if (received > 1)
      process.stderr.write(`note: received ${received} times; showing the last (see \`archive list\`)\n`);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ key, ...webhook }, null, 2)}\n`);
      return 0;
    }
    const { body, ...meta } = webhook;
    const lines = [
      `key: ${key}`,
      ...Object.entries(meta).map(([k, v]) => `${k}: ${v}`),
      `bytes: ${Buffer.byteLength(body)}`,
      '',
      pretty(body),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  throw new UsageError(`unknown subcommand "${sub}": list or show`);
}
