import type { S3Client } from '@aws-sdk/client-s3';
import {
  type ArchivedWebhook,
  type ArchiveEntry,
  type ArchiveQuery,
  type ArchiveReader,
  type ArchiveWriter,
  dayPrefixes,
  deliveryIndexPrefix,
  fromObjectMetadata,
  indexKeys,
  inRange,
  orderIndexPrefix,
  parseRawKey,
  rawKey,
  rawKeyOfIndex,
  toObjectMetadata,
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
}

export type S3Archive = ArchiveWriter & ArchiveReader & ClaimStore;

export type S3Module = typeof import('@aws-sdk/client-s3');

/** S3's answer to a conditional write whose key exists: 412 PreconditionFailed (already archived). */
function isAlreadyStored(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  return e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412;
}

/** Newest first would need a full listing; a query with no range looks at the last day. */
const DEFAULT_RANGE_MS = 86_400_000;

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

  return {
    bucket,

    async put(webhook: ArchivedWebhook) {
      const { s3, sdk } = await load();
      const put = (Key: string, body: string, extra: Record<string, unknown> = {}) => {
        const Body = Buffer.from(body, 'utf8');
        return s3.send(
          new sdk.PutObjectCommand({ Bucket: bucket, Key, Body, ContentLength: Body.length, ...extra }),
        );
      };
      // Raw object first: an index entry never names an object that is not there. Write-once
      // (`If-None-Match: *`): the first body stored under a delivery key stays, so a later body
      // with the same key (a retry, or a token holder's forgery) never replaces the original.
      try {
        await put(rawKey(webhook), webhook.body, {
          ContentType: 'application/json',
          Metadata: toObjectMetadata(webhook),
          IfNoneMatch: '*',
        });
      } catch (error) {
        if (!isAlreadyStored(error)) throw error;
      }
      await Promise.all(indexKeys(webhook).map((key) => put(key, '')));
    },

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
      const { s3, sdk } = await load();
      const object = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { ...fromObjectMetadata(object.Metadata), bytes: object.ContentLength ?? 0 };
    },

    async get(key) {
      const { s3, sdk } = await load();
      const object = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = (await object.Body?.transformToString('utf-8')) ?? '';
      return { ...fromObjectMetadata(object.Metadata), body };
    },

    async list(query: ArchiveQuery): Promise<ArchiveEntry[]> {
      let keys: string[];
      if (query.deliveryKey || query.orderId) {
        const prefix = query.deliveryKey
          ? deliveryIndexPrefix(query.provider, query.deliveryKey)
          : orderIndexPrefix(query.provider, query.orderId as string);
        keys = (await listKeys(prefix)).map(rawKeyOfIndex).filter((k): k is string => k !== undefined);
      } else {
        const to = query.to ?? new Date();
        const from = query.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
        keys = (await Promise.all(dayPrefixes(query.provider, from, to).map(listKeys))).flat();
      }
      const range = { from: query.from, to: query.to };
      const entries = new Map<string, ArchiveEntry>();
      for (const key of keys) {
        const entry = parseRawKey(key);
        if (entry && inRange(entry, range) && (!query.deliveryKey || entry.deliveryKey === query.deliveryKey))
          entries.set(key, entry);
      }
      return [...entries.values()].sort((a, b) => a.hour.localeCompare(b.hour) || a.key.localeCompare(b.key));
    },
  };
}
