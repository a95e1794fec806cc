import type { Provider, QueuedWebhook, VerificationScheme } from '../queue/message';

/**
 * The audit archive: every verified webhook as received, in one S3 bucket of the stack.
 *
 *   raw/<provider>/<yyyy>/<mm>/<dd>/<hh>/<deliveryKey>.json   the body bytes exactly as received;
 *                                                          what we verified in the object metadata
 *   index/order/<provider>/<orderId>/<yyyy>/<mm>/<dd>/<hh>/<deliveryKey>.json   empty: by order
 *   index/delivery/<provider>/<deliveryKey>/<yyyy>/<mm>/<dd>/<hh>                empty: by delivery
 *   claim/<provider>/<yyyy>/<mm>/<dd>/<uuid>               claim-check bodies (shared/archive/claim-check.ts)
 *
 * The index objects are zero-byte keys that name their raw object, so "everything about order X" or
 * "delivery K" is one ListObjectsV2 by prefix (S3 cannot list by metadata). Hours are UTC, of the
 * time the ingest accepted the webhook. Never a secret: no headers, no path (the Wix token), no
 * signature, only the name of the scheme that passed.
 */

/** What is archived about one webhook, besides its body. */
export interface ArchiveMetadata {
  provider: Provider;
  topic: string;
  deliveryKey: string;
  receivedAt: string;
  verification: VerificationScheme;
  requestId?: string;
  /** The provider's order id, when the payload names one (the worker knows it after parsing). */
  orderId?: string;
}

export interface ArchivedWebhook extends ArchiveMetadata {
  /** The provider's body, as received. */
  body: string;
}

/** Writes archive objects; every write is idempotent (same webhook, same keys, same bytes). */
export interface ArchiveWriter {
  put(webhook: ArchivedWebhook): Promise<void>;
}

/** One raw object found by a listing. */
export interface ArchiveEntry {
  key: string;
  provider: Provider;
  deliveryKey: string;
  /** Start of the UTC hour the webhook was received in (from the key). */
  hour: string;
}

export interface ArchiveQuery {
  provider: Provider;
  /** Inclusive, compared by the hour in the key. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  orderId?: string;
  deliveryKey?: string;
}

/** Reads the archive (the CLI: list, show, replay). */
export interface ArchiveReader {
  list(query: ArchiveQuery): Promise<ArchiveEntry[]>;
  /** Metadata and size without the body. */
  head(key: string): Promise<ArchiveMetadata & { bytes: number }>;
  get(key: string): Promise<ArchivedWebhook>;
}

/** Keeps key segments to safe characters; delivery keys (`provider:hex`) and numeric ids pass unchanged. */
export function keySegment(value: string): string {
  return value.replace(/[^A-Za-z0-9._:-]/g, (c) => encodeURIComponent(c)) || '_';
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `yyyy/mm/dd/hh` (UTC) of an ISO time; throws on an unparsable time. */
export function hourPath(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) throw new Error('archive: unparsable time');
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}`;
}

export const RAW_PREFIX = 'raw/';
export const INDEX_PREFIX = 'index/';
export const CLAIM_PREFIX = 'claim/';

export function rawKey(meta: Pick<ArchiveMetadata, 'provider' | 'receivedAt' | 'deliveryKey'>): string {
  return `${RAW_PREFIX}${meta.provider}/${hourPath(meta.receivedAt)}/${keySegment(meta.deliveryKey)}.json`;
}

export function orderIndexPrefix(provider: Provider, orderId: string): string {
  return `${INDEX_PREFIX}order/${provider}/${keySegment(orderId)}/`;
}

export function deliveryIndexPrefix(provider: Provider, deliveryKey: string): string {
  return `${INDEX_PREFIX}delivery/${provider}/${keySegment(deliveryKey)}/`;
}

/** The index keys written beside a raw object. */
export function indexKeys(meta: ArchiveMetadata): string[] {
  const hour = hourPath(meta.receivedAt);
  const keys = [`${deliveryIndexPrefix(meta.provider, meta.deliveryKey)}${hour}`];
  if (meta.orderId)
    keys.push(`${orderIndexPrefix(meta.provider, meta.orderId)}${hour}/${keySegment(meta.deliveryKey)}.json`);
  return keys;
}

const HOUR_RE = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})$/;

function hourStart(path: string): string | undefined {
  const m = HOUR_RE.exec(path);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:00:00.000Z` : undefined;
}

/** Parses a raw key back into its parts; undefined for anything else. */
export function parseRawKey(key: string): ArchiveEntry | undefined {
  const m = /^raw\/([^/]+)\/(\d{4}\/\d{2}\/\d{2}\/\d{2})\/([^/]+)\.json$/.exec(key);
  const hour = m && hourStart(m[2] as string);
  if (!m || !hour) return undefined;
  return {
    key,
    provider: m[1] as Provider,
    deliveryKey: decodeURIComponent(m[3] as string),
    hour,
  };
}

/** The raw key an index key names (order or delivery index); undefined for anything else. */
export function rawKeyOfIndex(key: string): string | undefined {
  const order = /^index\/order\/([^/]+)\/[^/]+\/(\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.json)$/.exec(key);
  if (order) return `${RAW_PREFIX}${order[1]}/${order[2]}`;
  const delivery = /^index\/delivery\/([^/]+)\/([^/]+)\/(\d{4}\/\d{2}\/\d{2}\/\d{2})$/.exec(key);
  if (delivery) return `${RAW_PREFIX}${delivery[1]}/${delivery[3]}/${delivery[2]}.json`;
  return undefined;
}

/** Day prefixes (`raw/<provider>/yyyy/mm/dd/`) covering [from, to). */
export function dayPrefixes(provider: Provider, from: Date, to: Date): string[] {
  const prefixes: string[] = [];
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (; day < to; day.setUTCDate(day.getUTCDate() + 1))
    prefixes.push(`${RAW_PREFIX}${provider}/${hourPath(day).slice(0, 10)}/`);
  return prefixes;
}

/** True when the entry's hour lies in the query's range (hours are the key's granularity). */
export function inRange(entry: ArchiveEntry, query: Pick<ArchiveQuery, 'from' | 'to'>): boolean {
  const hour = Date.parse(entry.hour);
  const from = query.from ? Math.floor(query.from.getTime() / 3_600_000) * 3_600_000 : -Infinity;
  return hour >= from && (!query.to || hour < query.to.getTime());
}

/** S3 user metadata (x-amz-meta-*) for a webhook: lower-case names, URI-encoded values (ASCII only). */
export function toObjectMetadata(meta: ArchiveMetadata): Record<string, string> {
  const out: Record<string, string> = {
    provider: meta.provider,
    topic: meta.topic,
    'delivery-key': meta.deliveryKey,
    'received-at': meta.receivedAt,
    verification: meta.verification,
  };
  if (meta.requestId) out['request-id'] = meta.requestId;
  if (meta.orderId) out['order-id'] = meta.orderId;
  for (const [name, value] of Object.entries(out)) out[name] = encodeURIComponent(value);
  return out;
}

/** Reads toObjectMetadata's shape back. */
export function fromObjectMetadata(metadata: Record<string, string> | undefined): ArchiveMetadata {
  const m: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {}))
    m[name.toLowerCase()] = decodeURIComponent(value);
  return {
    provider: m.provider as Provider,
    topic: m.topic ?? '',
    deliveryKey: m['delivery-key'] ?? '',
    receivedAt: m['received-at'] ?? '',
    verification: m.verification as VerificationScheme,
    ...(m['request-id'] ? { requestId: m['request-id'] } : {}),
    ...(m['order-id'] ? { orderId: m['order-id'] } : {}),
  };
}

/** A queued provider delivery as an archive entry (replays and reconciles are not archived again). */
export function toArchived(webhook: QueuedWebhook, orderId: string | undefined): ArchivedWebhook {
  return {
    provider: webhook.provider,
    topic: webhook.topic,
    deliveryKey: webhook.deliveryKey,
    receivedAt: webhook.receivedAt,
    verification: webhook.verification,
    ...(webhook.requestId ? { requestId: webhook.requestId } : {}),
    ...(orderId ? { orderId } : {}),
    body: webhook.body,
  };
}
