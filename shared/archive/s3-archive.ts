import type { S3Client } from '@aws-sdk/client-s3';
import {
  type ArchiveBatch,
  type ArchivedWebhook,
  type ArchiveEntry,
  type ArchiveQuery,
  type ArchiveReader,
  type ArchiveWriter,
  archiveRef,
  batchObjectKey,
  dayPrefixes,
  decodeObject,
  entryKeyOfRef,
  hourInRange,
  hourPrefix,
  matches,
  ObjectEncoder,
  objectHour,
  parseEntryKey,
} from './archive';
import type { ClaimStore } from './claim-check';

export interface S3ArchiveOptions {
  bucket: string;
  region?: string | undefined;
  /** Local emulator (fauxqs serves S3 on its SQS port); path-style addressing there. */
  endpoint?: string | undefined;
  /** Bounds connection and request time of one call (a claim-check body may be megabytes). */
  timeoutMs?: number;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /**
   * The SDK module, imported statically by a caller that uses S3 on every invocation (the worker
   * archives each record): the client is then created here, at init, not on the first record.
   */
  sdk?: S3Module;
  /** Told of the client once it exists (tests: record its calls for the IAM contract). */
  onClient?: (client: S3Client) => void;
  /**
   * The archive references an order's history keeps (the CLI reads them from the orders table):
   * with it, an order query without a time range reads those objects (any time) and the last day's;
   * otherwise an order query reads the time range like any other (receipts that never reached the
   * history, such as repeats or dead-lettered ones, are found that way).
   */
  orderRefs?: (provider: ArchiveQuery['provider'], orderId: string) => Promise<string[]>;
  /** Time of a write (tests). */
  now?: () => Date;
}

export type S3Archive = ArchiveWriter & ArchiveReader & ClaimStore;

export type S3Module = typeof import('@aws-sdk/client-s3');

/** Newest first would need a full listing; a query with no range looks at the last day. */
const DEFAULT_RANGE_MS = 86_400_000;

/** Objects read at once by a listing; and how many decoded objects a reader keeps. */
const READ_CONCURRENCY = 8;
const CACHED_OBJECTS = 64;

/**
 * The archive, the claim store and the archive reader over one S3 bucket. Without `options.sdk`
 * the SDK module is imported on first use, not at cold start: the ingest touches S3 only for
 * bodies beyond the SQS limit, so ordinary webhooks never pay for loading it (and the ingest's
 * bundle leaves it to the Lambda runtime: see infra/bundling.ts).
 */
export function makeS3Archive(options: S3ArchiveOptions): S3Archive {
  const { bucket } = options;
  const makeClient = (sdk: S3Module) =>
    new sdk.S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 2,
      ...(options.timeoutMs
        ? {
            requestHandler: {
              connectionTimeout: Math.max(10, Math.floor(options.timeoutMs / 3)),
              requestTimeout: options.timeoutMs,
            },
          }
        : {}),
    });
  const client = (sdk: S3Module) => {
    const s3 = makeClient(sdk);
    options.onClient?.(s3);
    return { sdk, s3 };
  };
  let loaded: Promise<{ s3: S3Client; sdk: S3Module }> | undefined = options.sdk
    ? Promise.resolve(client(options.sdk))
    : undefined;
  const load = () => {
    loaded ??= import('@aws-sdk/client-s3').then(client);
    return loaded;
  };

  const listKeys = async (prefix: string): Promise<string[]> => {
    const { s3, sdk } = await load();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  };

  // Archive objects never change once written, so a reader may keep what it decoded.
  const cache = new Map<string, Promise<ArchivedWebhook[]>>();
  const readObject = (objectKey: string): Promise<ArchivedWebhook[]> => {
    let lines = cache.get(objectKey);
    if (!lines) {
      lines = (async () => {
        const { s3, sdk } = await load();
        const object = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: objectKey }));
        return decodeObject((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      })();
      lines.catch(() => cache.delete(objectKey));
      if (cache.size >= CACHED_OBJECTS) cache.delete(cache.keys().next().value as string);
      cache.set(objectKey, lines);
    }
    return lines;
  };
  const readEntry = async (key: string): Promise<ArchivedWebhook> => {
    const at = parseEntryKey(key);
    const webhook = at && (await readObject(at.objectKey))[at.line];
    if (!webhook) throw Object.assign(new Error(`no archived webhook at ${key}`), { name: 'NoSuchKey' });
    return webhook;
  };
  const entriesOf = async (objectKeys: readonly string[], query: ArchiveQuery, lines?: Set<string>) => {
    const entries: ArchiveEntry[] = [];
    const objects = [...new Set(objectKeys)];
    for (let i = 0; i < objects.length; i += READ_CONCURRENCY) {
      const slice = objects.slice(i, i + READ_CONCURRENCY);
      const read = await Promise.all(slice.map(readObject));
      read.forEach((webhooks, j) => {
        const objectKey = slice[j] as string;
        webhooks.forEach((webhook, line) => {
          const key = `${objectKey}#${line}`;
          if ((lines && !lines.has(key)) || !matches(webhook, query)) return;
          entries.push({
            key,
            provider: webhook.provider,
            deliveryKey: webhook.deliveryKey,
            hour: objectHour(objectKey) as string,
            receivedAt: webhook.receivedAt,
          });
        });
      });
    }
    return entries;
  };

  const startBatch = (): ArchiveBatch => {
    // One object per receive hour (a batch nearly always has one): the hour prefix of a key
    // holds every receipt of that hour, so a time range needs no other index.
    const byHour = new Map<string, { receivedAt: string; encoder: ObjectEncoder }>();
    const lines: { hour: string; line: number }[] = [];
    return {
      add(webhook) {
        const hour = hourPrefix(webhook.receivedAt);
        let object = byHour.get(hour);
        if (!object) {
          object = { receivedAt: webhook.receivedAt, encoder: new ObjectEncoder() };
          byHour.set(hour, object);
        }
        const { line, written } = object.encoder.write(webhook);
        lines.push({ hour, line });
        return written;
      },
      async commit() {
        const { s3, sdk } = await load();
        const now = options.now?.() ?? new Date();
        const keys = new Map<string, string>();
        await Promise.all(
          [...byHour].map(async ([hour, { receivedAt, encoder }]) => {
            const Key = batchObjectKey(receivedAt, now);
            const Body = await encoder.finish();
            // A fresh key per write, and S3 refuses to replace an existing object: write-once.
            await s3.send(
              new sdk.PutObjectCommand({
                Bucket: bucket,
                Key,
                Body,
                ContentLength: Body.length,
                ContentType: 'application/gzip',
                IfNoneMatch: '*',
              }),
            );
            keys.set(hour, Key);
          }),
        );
        return lines.map(({ hour, line }) => archiveRef(keys.get(hour) as string, line));
      },
    };
  };

  return {
    bucket,

    async putBatch(webhooks) {
      const batch = startBatch();
      for (const webhook of webhooks) await batch.add(webhook);
      return batch.commit();
    },

    startBatch,

    async putClaim(key, body, signal) {
      const { s3, sdk } = await load();
      await s3.send(
        new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }),
        signal ? { abortSignal: signal } : {},
      );
    },

    async getClaim(key) {
      const { s3, sdk } = await load();
      const object = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await object.Body?.transformToString('utf-8')) ?? '';
    },

    async head(key) {
      const { body, ...meta } = await readEntry(key);
      return { ...meta, bytes: Buffer.byteLength(body, 'utf8') };
    },

    get: readEntry,

    async list(query: ArchiveQuery): Promise<ArchiveEntry[]> {
      const byRange = async (q: ArchiveQuery) => {
        const to = q.to ?? new Date();
        const from = q.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
        const range = { from, to };
        const keys = (await Promise.all(dayPrefixes(from, to).map(listKeys))).flat();
        const inRange = keys.filter((k) => {
          const hour = objectHour(k);
          return hour !== undefined && hourInRange(hour, range);
        });
        return entriesOf(inRange, { ...q, ...range });
      };
      let entries: ArchiveEntry[];
      if (query.orderId && options.orderRefs && !query.from && !query.to) {
        // The deliveries the order's history names (any time), and every receipt of the last day
        // (a repeat or a delivery that changed nothing adds no history entry).
        const keys = (await options.orderRefs(query.provider, query.orderId))
          .map(entryKeyOfRef)
          .filter((k): k is string => k !== undefined);
        const objects = keys.map((k) => parseEntryKey(k)?.objectKey as string);
        const [named, recent] = await Promise.all([entriesOf(objects, query, new Set(keys)), byRange(query)]);
        const recentKeys = new Set(recent.map((e) => e.key));
        entries = [...named.filter((e) => !recentKeys.has(e.key)), ...recent];
      } else {
        entries = await byRange(query);
      }
      entries.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.key.localeCompare(b.key));
      // A batch the worker archived and then failed comes back from SQS and is archived again: the
      // same receipt (delivery key and receive time) is listed once. A provider's repeat is listed
      // again, with its own receive time.
      const seen = new Set<string>();
      return entries.filter((e) => {
        const receipt = `${e.provider}\n${e.deliveryKey}\n${e.receivedAt}`;
        if (seen.has(receipt)) return false;
        seen.add(receipt);
        return true;
      });
    },
  };
}
