import { randomUUID } from 'node:crypto';
import { ConfigError, PermanentError, TransientError } from '../errors';
import { DEAD_LETTER_HEADROOM_BYTES, messageSizeBytes, type QueuedWebhook } from '../queue/message';
import { CLAIM_PREFIX, hourPath } from './archive';

/**
 * Claim check for webhooks larger than an SQS message: the body goes to S3 under `claim/`, the
 * queue carries a pointer, the worker reads the body back before parsing.
 *
 * The pointer is the Amazon SQS Extended Client's own format (Java/Python libraries): the body
 * `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"…","s3Key":"…"}]` and the
 * Number attribute `ExtendedPayloadSize`, so those libraries (and people who know them) can read our
 * queue; it cost one JSON line. Written by hand rather than with the npm ports (sqs-extended-client,
 * @crimson-education/client-sqs-extended): they wrap their own SQS and S3 clients (our ingest's
 * client is bounded by the 700 ms budget and an abort signal), delete the S3 object after a
 * successful receive (the DLQ and a redrive still need it) and always add the attribute, which
 * would make 11 attributes on a dead-lettered replay. Our worker recognises the pointer by its
 * body, so the dead-letter sender may drop the attribute when it needs the room (shared/queue/dlq.ts).
 */
export const EXTENDED_POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';

export interface ClaimPointer {
  bucket: string;
  key: string;
}

/** Where claim-check bodies are kept: the archive bucket (S3 adapter) or a fake in unit tests. */
export interface ClaimStore {
  readonly bucket: string;
  /** Stores the body; rejects when S3 did not accept it (or on abort). */
  putClaim(key: string, body: string, signal?: AbortSignal): Promise<void>;
  /** Reads a body back; rejects with `NoSuchKey` (error name) when it is not there. */
  getClaim(key: string): Promise<string>;
}

export function pointerBody(pointer: ClaimPointer): string {
  return JSON.stringify([EXTENDED_POINTER_CLASS, { s3BucketName: pointer.bucket, s3Key: pointer.key }]);
}

const MARKER = `["${EXTENDED_POINTER_CLASS}",`;

/** The pointer in a message body, or undefined for an ordinary body (cheap prefix test first). */
export function parsePointer(body: string): ClaimPointer | undefined {
  if (!body.startsWith(MARKER)) return undefined;
  try {
    const [, target] = JSON.parse(body) as [string, { s3BucketName?: unknown; s3Key?: unknown }];
    if (typeof target?.s3BucketName === 'string' && typeof target.s3Key === 'string')
      return { bucket: target.s3BucketName, key: target.s3Key };
  } catch {
    // Not a pointer after all: the provider body is parsed (and rejected) as usual.
  }
  return undefined;
}

/** True when the webhook, sent as is, would not fit under the SQS limit with the dead-letter headroom. */
export function needsClaimCheck(webhook: QueuedWebhook, maxMessageBytes: number): boolean {
  return messageSizeBytes(webhook) + DEAD_LETTER_HEADROOM_BYTES > maxMessageBytes;
}

/** `claim/<provider>/<yyyy>/<mm>/<dd>/<uuid>`: unique per attempt, so a retried delivery never overwrites. */
export function claimKey(webhook: Pick<QueuedWebhook, 'provider' | 'receivedAt'>): string {
  return `${CLAIM_PREFIX}${webhook.provider}/${hourPath(webhook.receivedAt).slice(0, 10)}/${randomUUID()}`;
}

/** Stores the body under `claim/` and returns the message to queue instead: the pointer. */
export async function offloadBody(
  webhook: QueuedWebhook,
  store: ClaimStore,
  signal?: AbortSignal,
): Promise<QueuedWebhook> {
  const key = claimKey(webhook);
  await store.putClaim(key, webhook.body, signal);
  return {
    ...webhook,
    body: pointerBody({ bucket: store.bucket, key }),
    extendedPayloadSize: Buffer.byteLength(webhook.body, 'utf8'),
  };
}

/**
 * The provider's body for a message: the message body itself, or the claim object it points to.
 * Only pointers into our own bucket's `claim/` prefix are followed (a forged pointer cannot make
 * the worker read anything else). A missing object is permanent (dead-lettered with the pointer);
 * any other S3 failure is transient (SQS redelivers).
 */
export async function resolveBody(body: string, store: ClaimStore | undefined): Promise<string> {
  const pointer = parsePointer(body);
  if (!pointer) return body;
  if (!store) throw new ConfigError('claim-check message but ARCHIVE_BUCKET is not configured');
  if (pointer.bucket !== store.bucket || !pointer.key.startsWith(CLAIM_PREFIX))
    throw new PermanentError('claim pointer names another bucket or prefix');
  try {
    return await store.getClaim(pointer.key);
  } catch (error) {
    if ((error as Error)?.name === 'NoSuchKey')
      throw new PermanentError('claim-check object not found', { cause: error });
    throw new TransientError('reading the claim-check object failed', { cause: error });
  }
}
