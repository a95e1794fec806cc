import { AppError } from '../errors';
import type { Log } from '../logger';
import { ATTENTION, type AttentionReason, countAttention, METRIC } from '../metrics';
import type { QueuedWebhook } from '../queue/message';
import type { MetricsSink } from '../worker/process-record';
import type { ReconcileStateStore } from './state-store';
import type { ListedOrder, OrderSnapshot, ReconcileSource } from './types';

/** What one pass talks to; injected, so tests run it against emulators and a fake API, or fakes. */
export interface ReconcilePorts {
  source: ReconcileSource;
  /** The worker's records of these provider orders (BatchGetItem); absent ids were never seen. */
  readSnapshots(
    provider: ReconcileSource['provider'],
    orderIds: readonly string[],
  ): Promise<Map<string, OrderSnapshot>>;
  /** Sends synthetic deliveries to the main queue; throws unless every one was accepted. */
  enqueue(webhooks: readonly QueuedWebhook[]): Promise<void>;
  state: ReconcileStateStore;
  log: Log;
  metrics: MetricsSink;
  now: () => number;
}

export interface ReconcilePassOptions {
  /** Epoch ms by which the pass must end; listing and enqueueing past it fails the pass. */
  deadline: number;
  /** Subtracted from the watermark: ReCharge's timestamps carry no zone. */
  overlapSeconds: number;
  /** How far back the first pass (no watermark yet) lists. */
  lookbackSeconds: number;
  /** List from here instead (CLI `--since`): goes further back on purpose; no overlap is added. */
  sinceMs?: number;
  /** Report what is behind without enqueueing anything or moving the watermark. */
  dryRun?: boolean;
  /** Orders behind that are logged one by one (the rest are counted). */
  logBehindLimit?: number;
}

export interface BehindOrder {
  orderId: string;
  reason: string;
}

export interface ReconcilePassResult {
  provider: string;
  outcome: 'completed' | 'failed' | 'dry-run' | 'not-configured';
  /**
   * A first pass (no watermark yet) or one from a chosen time (`--since`): what it finds predates the
   * deployment or was asked for, a backfill counted apart from missed webhooks (no alarm).
   */
  backfill?: boolean;
  since: string;
  startedAt: string;
  listed: number;
  inSync: number;
  behind: number;
  enqueued: number;
  unreadable: number;
  /** Count per behind reason (never-seen, newer-update, ...). */
  reasons: Record<string, number>;
  /** The first orders found behind (at most 100), for the CLI and logs. */
  behindOrders: BehindOrder[];
  /** Set when the pass failed: a short reason, never a payload or secret. */
  error?: string;
  /** Failed passes in a row, this one included (0 after a complete pass). */
  failuresInARow: number;
  durationMs: number;
}

const BEHIND_SAMPLE = 100;

function reasonOf(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return 'unknown error';
}

/**
 * Orders found behind: missed webhooks (ReconcileOrdersBehind on the dashboard, NeedsAttention for the
 * alarm), except on a backfill (a first pass, or `--since`), whose orders predate the deployment or
 * were asked for (ReconcileOrdersBackfilled), and on a dry run (nothing re-queued, an operator looking).
 */
function countBehind(
  metrics: MetricsSink,
  result: ReconcilePassResult,
  dryRun: boolean | undefined,
  attention: AttentionReason[],
): void {
  metrics.count(METRIC.reconcileBehind, result.backfill ? 0 : result.behind);
  if (result.backfill) metrics.count(METRIC.reconcileBackfilled, result.behind);
  else if (result.behind > 0 && !dryRun) {
    countAttention(metrics, ATTENTION.reconcileOrdersBehind, result.behind);
    attention.push(ATTENTION.reconcileOrdersBehind);
  }
}

/** Failed passes in a row from which the pass needs a person (NeedsAttention): one failure may be a blip. */
export const FAILED_PASSES_NEED_ATTENTION = 2;

/**
 * One reconciliation pass: list the provider's orders changed since the watermark (minus the
 * overlap), read our records of each page in one batch, and enqueue every order that is behind as
 * a synthetic delivery through the normal queue; the worker applies it with its own state machine
 * and step idempotency (the reconciler never calls the order system). The watermark moves to this
 * pass's start only after every page was listed and every behind order enqueued; any failure
 * (429 past the deadline, 5xx, timeout, a refused send) leaves it where it was, so the next pass
 * lists the same window again.
 */
export async function runReconcilePass(
  ports: ReconcilePorts,
  options: ReconcilePassOptions,
): Promise<ReconcilePassResult> {
  const { source, log, metrics } = ports;
  const provider = source.provider;
  const started = ports.now();
  const startedAt = new Date(started).toISOString();
  const result = emptyPassResult(provider, options.dryRun ? 'dry-run' : 'completed', '', startedAt);
  const logLimit = options.logBehindLimit ?? 50;
  const attention: AttentionReason[] = [];
  try {
    let sinceMs = options.sinceMs;
    // Listing from a chosen time (`reconcile --since`) is a backfill on purpose, like a first pass.
    if (sinceMs !== undefined) result.backfill = true;
    if (sinceMs === undefined) {
      const state = await ports.state.get(provider);
      if (!state.watermark) result.backfill = true;
      sinceMs = state.watermark
        ? Date.parse(state.watermark) - options.overlapSeconds * 1000
        : started - options.lookbackSeconds * 1000;
    }
    result.since = new Date(sinceMs).toISOString();
    // An order can show up on two pages when it changes during the listing: one delivery per state.
    const enqueuedKeys = new Set<string>();
    for await (const page of source.listChangedSince(sinceMs, options.deadline)) {
      const orders: ListedOrder[] = [];
      for (const item of page) {
        const read = source.read(item);
        if ('unreadable' in read) {
          result.unreadable += 1;
          log.warn('reconcile order unreadable', { provider, reason: read.unreadable });
        } else orders.push(read);
      }
      result.listed += page.length;
      metrics.count(METRIC.reconcileListed, page.length);
      if (orders.length === 0) continue;
      const snapshots = await ports.readSnapshots(
        provider,
        orders.map((o) => o.orderId),
      );
      const due: QueuedWebhook[] = [];
      for (const order of orders) {
        const reason = order.behind(snapshots.get(order.orderId));
        if (!reason) {
          result.inSync += 1;
          continue;
        }
        const delivery = order.delivery(startedAt);
        if (enqueuedKeys.has(delivery.deliveryKey)) continue;
        enqueuedKeys.add(delivery.deliveryKey);
        result.behind += 1;
        result.reasons[reason] = (result.reasons[reason] ?? 0) + 1;
        if (result.behindOrders.length < BEHIND_SAMPLE)
          result.behindOrders.push({ orderId: order.orderId, reason });
        if (result.behind <= logLimit)
          log.info('reconcile order behind', {
            provider,
            orderId: order.orderId,
            reason,
            dryRun: !!options.dryRun,
          });
        due.push(delivery);
      }
      if (due.length > 0 && !options.dryRun) {
        await ports.enqueue(due);
        result.enqueued += due.length;
      }
    }
    countBehind(metrics, result, options.dryRun, attention);
    metrics.count(METRIC.reconcileEnqueued, result.enqueued);
    if (!options.dryRun) {
      await ports.state.recordCompleted(provider, startedAt, new Date(ports.now()).toISOString());
      metrics.count(METRIC.reconcilePassFailed, 0);
      metrics.count(METRIC.reconcileFailuresInARow, 0);
    }
  } catch (error) {
    result.outcome = 'failed';
    result.error = reasonOf(error);
    // Orders found behind before the failure were enqueued: they count as found.
    countBehind(metrics, result, options.dryRun, attention);
    metrics.count(METRIC.reconcileEnqueued, result.enqueued);
    if (!options.dryRun) {
      metrics.count(METRIC.reconcilePassFailed, 1);
      try {
        result.failuresInARow = await ports.state.recordFailed(provider, startedAt, result.error);
      } catch (stateError) {
        log.error('reconcile state not recorded', { provider, error: reasonOf(stateError) });
        result.failuresInARow = 1;
      }
      metrics.count(METRIC.reconcileFailuresInARow, result.failuresInARow);
      // Every failing pass from the second on: the alarm stays in ALARM until a pass completes.
      if (result.failuresInARow >= FAILED_PASSES_NEED_ATTENTION) {
        countAttention(metrics, ATTENTION.reconcileFailedTwiceInARow);
        attention.push(ATTENTION.reconcileFailedTwiceInARow);
      }
    }
  }
  result.durationMs = ports.now() - started;
  const { behindOrders: _sample, ...summary } = result;
  (result.outcome === 'failed' ? log.warn : log.info).call(log, 'reconcile pass', {
    ...summary,
    ...(attention.length > 0 ? { needsAttention: attention.join(',') } : {}),
  });
  return result;
}

/** A pass result with nothing counted yet (a pass fills it in; a skipped run reports it as is). */
export function emptyPassResult(
  provider: ReconcilePassResult['provider'],
  outcome: ReconcilePassResult['outcome'],
  since: string,
  startedAt: string,
): ReconcilePassResult {
  return {
    provider,
    outcome,
    since,
    startedAt,
    listed: 0,
    inSync: 0,
    behind: 0,
    enqueued: 0,
    unreadable: 0,
    reasons: {},
    behindOrders: [],
    failuresInARow: 0,
    durationMs: 0,
  };
}
