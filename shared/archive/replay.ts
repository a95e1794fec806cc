import { randomUUID } from 'node:crypto';
import type { QueuedWebhook } from '../queue/message';
import type { ArchivedWebhook, ArchiveEntry, ArchiveQuery, ArchiveReader } from './archive';
import { type ClaimStore, needsClaimCheck, offloadBody } from './claim-check';

/**
 * Replay: archived webhooks sent again through the normal queue, as `origin: 'replay'` messages.
 * The delivery key `replay:<runId>:<original key>` gets past the delivery dedup (a replay is a new
 * delivery of the same event), while every external effect stays behind its step idempotency
 * (create-order per order, push-status per status, write-backs per order/charge): replaying
 * re-applies the payload to the stored order and causes no second external order or write-back.
 * The same original key in one run gives the same replay key, so a run replays each event once.
 */

/** Short and sortable enough to find in logs and order history: time plus a random suffix. */
export function newReplayRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomUUID().slice(0, 6)}`;
}

export function replayDeliveryKey(runId: string, original: string): string {
  return `replay:${runId}:${original}`;
}

/** The queue message for an archived webhook replayed in run `runId`. */
export function toReplayMessage(archived: ArchivedWebhook, runId: string): QueuedWebhook {
  return {
    provider: archived.provider,
    topic: archived.topic,
    deliveryKey: replayDeliveryKey(runId, archived.deliveryKey),
    receivedAt: archived.receivedAt,
    verification: archived.verification,
    origin: 'replay',
    body: archived.body,
  };
}

export interface ReplayPorts {
  reader: ArchiveReader;
  claims: ClaimStore;
  send: (webhook: QueuedWebhook) => Promise<void>;
  maxMessageBytes: number;
}

/** Lists what a replay would send, oldest first. */
export function planReplay(reader: ArchiveReader, query: ArchiveQuery): Promise<ArchiveEntry[]> {
  return reader.list(query);
}

/**
 * Sends the planned entries in order; a body beyond the SQS limit goes through the claim check
 * like at the ingest. Stops at the first failure (the caller reports how far it got; running the
 * same query again with a new run id is safe).
 */
export async function sendReplay(
  entries: readonly ArchiveEntry[],
  runId: string,
  ports: ReplayPorts,
  onSent?: (entry: ArchiveEntry, index: number) => void,
): Promise<number> {
  let sent = 0;
  for (const entry of entries) {
    let message = toReplayMessage(await ports.reader.get(entry.key), runId);
    if (needsClaimCheck(message, ports.maxMessageBytes)) message = await offloadBody(message, ports.claims);
    await ports.send(message);
    onSent?.(entry, sent);
    sent++;
  }
  return sent;
}
