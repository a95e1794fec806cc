import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gunzipSync } from 'node:zlib';
import type { Provider, QueuedWebhook, VerificationScheme } from '../queue/message';

/**
 * The audit archive: every verified webhook as received, in one S3 bucket of the stack.
 *
 *   raw/<yyyy>/<mm>/<dd>/<hh>/<name>.jsonl.gz   one object per worker batch and receive hour: gzip'd
 *                                              JSON Lines, one line per receipt (metadata and body)
 *   claim/<provider>/<yyyy>/<mm>/<dd>/<uuid>    claim-check bodies (shared/archive/claim-check.ts)
 *
 * The hour is the UTC hour the ingest accepted the webhook; `name` is the write time (minute, second,
 * millisecond) and a random suffix, so every write has its own key and is made with
 * `If-None-Match: *`: an object, once written, is never replaced (write-once by construction). A
 * delivery received twice is two lines, each with its own receive time. An entry is addressed as
 * `<object key>#<line>`; the order's history keeps the short form `<yyyymmddhh>/<name>#<line>`
 * (archiveRef), so "everything about order X" reads those objects only, and a time range lists the
 * hours' prefixes. Never a secret: no headers, no path (the Wix token), no signature, only the name of
 * the scheme that passed.
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

/** Writes archive objects: one object per call and receive hour, never over an existing one. */
export interface ArchiveWriter {
  /** Archives a batch; returns each webhook's archiveRef, in order. */
  putBatch(webhooks: readonly ArchivedWebhook[]): Promise<string[]>;
  /**
   * The same write, given one webhook at a time: each is compressed as it is added, so a batch of
   * claim-checked bodies (megabytes each) never has to be in memory at once.
   */
  startBatch(): ArchiveBatch;
}

/** One archive write in progress (ArchiveWriter.startBatch). */
export interface ArchiveBatch {
  /** Adds a webhook; its line is taken at the call, so adds started together keep their call order. */
  add(webhook: ArchivedWebhook): Promise<void>;
  /** Writes the objects; each added webhook's archiveRef, in the order added. */
  commit(): Promise<string[]>;
}

/** One archived receipt found by a listing. */
export interface ArchiveEntry {
  /** `<object key>#<line>`. */
  key: string;
  provider: Provider;
  deliveryKey: string;
  /** Start of the UTC hour the webhook was received in (from the key). */
  hour: string;
  /** When the ingest accepted it. */
  receivedAt: string;
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
export const CLAIM_PREFIX = 'claim/';

/** The hour prefix of a receive time: `raw/yyyy/mm/dd/hh/`. */
export function hourPrefix(receivedAt: string | Date): string {
  return `${RAW_PREFIX}${hourPath(receivedAt)}/`;
}

/** A new object key for receipts of one hour, written at `now`: unique per write. */
export function batchObjectKey(receivedAt: string, now: Date): string {
  const stamp = `${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}${String(now.getUTCMilliseconds()).padStart(3, '0')}`;
  return `${hourPrefix(receivedAt)}${stamp}-${randomBytes(5).toString('hex')}.jsonl.gz`;
}

const OBJECT_RE = /^raw\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/([0-9a-z-]+)\.jsonl\.gz$/;

/** The short reference kept in the order's history: `<yyyymmddhh>/<name>#<line>`. */
export function archiveRef(objectKey: string, line: number): string {
  const m = OBJECT_RE.exec(objectKey);
  if (!m) throw new Error(`archive: not an archive object key: ${objectKey}`);
  return `${m[1]}${m[2]}${m[3]}${m[4]}/${m[5]}#${line}`;
}

/** An entry key (`<object key>#<line>`) from a history reference; undefined for anything else. */
export function entryKeyOfRef(ref: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})\/([0-9a-z-]+)#(\d+)$/.exec(ref);
  return m ? `${RAW_PREFIX}${m[1]}/${m[2]}/${m[3]}/${m[4]}/${m[5]}.jsonl.gz#${m[6]}` : undefined;
}

/** Splits an entry key into its object key and line; undefined for anything else. */
export function parseEntryKey(key: string): { objectKey: string; line: number } | undefined {
  const at = key.lastIndexOf('#');
  if (at < 0) return undefined;
  const objectKey = key.slice(0, at);
  const line = Number(key.slice(at + 1));
  return OBJECT_RE.test(objectKey) && Number.isInteger(line) && line >= 0 ? { objectKey, line } : undefined;
}

/** Start of the UTC hour of an archive object (from its key); undefined for anything else. */
export function objectHour(objectKey: string): string | undefined {
  const m = OBJECT_RE.exec(objectKey);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:00:00.000Z` : undefined;
}

/** Day prefixes (`raw/yyyy/mm/dd/`) covering [from, to). */
export function dayPrefixes(from: Date, to: Date): string[] {
  const prefixes: string[] = [];
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (; day < to; day.setUTCDate(day.getUTCDate() + 1))
    prefixes.push(`${RAW_PREFIX}${hourPath(day).slice(0, 10)}/`);
  return prefixes;
}

/** True when an object's hour can hold receipts in [from, to). */
export function hourInRange(hour: string, query: Pick<ArchiveQuery, 'from' | 'to'>): boolean {
  const start = Date.parse(hour);
  return (
    (!query.from || start + 3_600_000 > query.from.getTime()) && (!query.to || start < query.to.getTime())
  );
}

/** True when a receipt matches the query (provider, range, order, delivery). */
export function matches(webhook: ArchiveMetadata, query: ArchiveQuery): boolean {
  const at = Date.parse(webhook.receivedAt);
  return (
    webhook.provider === query.provider &&
    (!query.from || at >= query.from.getTime()) &&
    (!query.to || at < query.to.getTime()) &&
    (!query.orderId || webhook.orderId === query.orderId) &&
    (!query.deliveryKey || webhook.deliveryKey === query.deliveryKey)
  );
}

/** Characters of a body escaped and compressed at a time (archive lines are written in pieces). */
const BODY_PIECE_CHARS = 65_536;

/**
 * One archive object's bytes, built a line at a time: gzip'd JSON Lines of ArchivedWebhook. A body
 * is escaped and compressed in pieces, so a batch of megabyte bodies never exists as one more string
 * or buffer (test/integration/worker-memory.test.ts); each line parses as JSON.stringify's would.
 */
export class ObjectEncoder {
  readonly #gzip = createGzip();
  readonly #chunks: Buffer[] = [];
  readonly #ended = once(this.#gzip, 'end');
  #lines = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor() {
    this.#gzip.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
  }

  /** Takes the next line number at once; `written` resolves when the line is in the stream. */
  write(webhook: ArchivedWebhook): { line: number; written: Promise<void> } {
    const line = this.#lines++;
    const written = this.#tail.then(() => this.#writeLine(webhook, line));
    this.#tail = written.catch(() => undefined);
    return { line, written };
  }

  async #put(text: string): Promise<void> {
    if (!this.#gzip.write(text)) await once(this.#gzip, 'drain');
  }

  async #writeLine(webhook: ArchivedWebhook, line: number): Promise<void> {
    const { body, ...meta } = webhook;
    await this.#put(`${line > 0 ? '\n' : ''}${JSON.stringify(meta).slice(0, -1)},"body":"`);
    for (let start = 0; start < body.length; ) {
      let end = Math.min(start + BODY_PIECE_CHARS, body.length);
      // Never split a surrogate pair: alone, each half would be escaped as \udxxx.
      const last = body.charCodeAt(end - 1);
      if (end < body.length && last >= 0xd800 && last <= 0xdbff) end--;
      await this.#put(JSON.stringify(body.slice(start, end)).slice(1, -1));
      start = end;
    }
    await this.#put('"}');
  }

  async finish(): Promise<Buffer> {
    await this.#tail;
    this.#gzip.end();
    await this.#ended;
    return Buffer.concat(this.#chunks);
  }
}

export function decodeObject(bytes: Uint8Array): ArchivedWebhook[] {
  const text = gunzipSync(bytes).toString('utf8');
  return text ? text.split('\n').map((line) => JSON.parse(line) as ArchivedWebhook) : [];
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
