import { newReplayRunId, planReplay } from '../../shared/archive/replay';
import type { HistoryEntry, OrderRecord } from '../../shared/domain/order-record';
import { PROVIDERS, type Provider } from '../../shared/queue/message';
import { archiveOf, describeEntries, type ListedWebhook, showArchived } from '../cli/archive';
import { type DlqEntry, listDlq, redriveDlq, showDlqMessage } from '../cli/dlq';
import type { ScanReport } from '../cli/dlq-scan';
import { type CheckResult, doctorContext, runDoctorChecks } from '../cli/doctor';
import { listOrderEffects, type OrderEffect } from '../cli/order-effects';
import { findOrders } from '../cli/orders';
import { replayEntries } from '../cli/replay';
import { type QueueDepth, queueDepth } from '../cli/stats';
import { need, type Target } from '../cli/target';

/**
 * What the console reads and does, composed only of the CLI commands' own functions (orders, dlq,
 * archive, replay, stats, doctor): the console has no second way to read the ledger, the
 * dead-letter queue or the archive. It adds short caches so a page does not rescan a queue that
 * was just read; every action drops them.
 */

/** How many dead-letter messages the console reads (as `dlq list --max`). */
export const DLQ_MAX = 1000;
/** A scan holds messages (and in AWS takes long polls): pages within this reuse the last one. */
const DLQ_CACHE_MS = 15_000;
/** Doctor makes ReCharge calls: at most one run in this long unless asked. */
const CHECKS_CACHE_MS = 5 * 60_000;

const HOUR = 3_600_000;

export interface ProviderFigures {
  provider: Provider;
  /** Archived receipts in the window (the archive keeps every receipt, repeats included). */
  received: number;
  /** Deliveries whose changes were applied to an order in the window (distinct delivery keys). */
  applied: number;
  /**
   * Receipts that changed nothing: in no order's history and not dead-lettered (nothing new), or
   * received again after their delivery key was applied (a duplicate).
   */
  noChange: number;
  /** Dead-lettered in the window. */
  failed: number;
}

export interface Overview {
  now: number;
  queue: QueueDepth | Error;
  dlq: QueueDepth | Error;
  hour: ProviderFigures[];
  day: ProviderFigures[];
  /** Per provider: received per hour over the last 24 hours, oldest first. */
  hourly: Record<Provider, number[]>;
  dlqByProvider: Record<string, { count: number; oldestAt: string | undefined }>;
  /** Undefined when the queue reported no message (nothing to scan). */
  dlqScan: ScanReport | Error | undefined;
  archive: Error | undefined;
  orders: { total: number; byStatus: Record<string, number> } | Error;
  checks: { at: number; results: (CheckResult & { name: string })[] } | Error;
}

/** An archived delivery of an order, with what became of it. */
export interface ConsoleDelivery extends ListedWebhook {
  outcome: string;
  /** Received again after its delivery key was applied: a duplicate that changed nothing. */
  repeated: boolean;
}

export interface TimelineItem {
  at: string;
  kind: 'delivery' | 'change' | 'effect' | 'dead-letter';
  delivery?: ConsoleDelivery;
  change?: HistoryEntry;
  effect?: OrderEffect;
  dead?: DlqEntry;
}

export interface OrderView {
  order: OrderRecord;
  effects: OrderEffect[];
  deliveries: ConsoleDelivery[];
  dead: DlqEntry[];
  timeline: TimelineItem[];
  archiveError?: Error;
  dlqError?: Error;
}

/** The original delivery key of a replayed one (`replay:<run>:<key>`), else the key itself. */
export function originalKey(deliveryKey: string): string {
  const m = /^replay:[^:]+:(.+)$/.exec(deliveryKey);
  return m ? (m[1] as string) : deliveryKey;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class ConsoleData {
  private dlqCache: { at: number; read: Promise<{ entries: DlqEntry[]; scan: ScanReport }> } | undefined;
  private checksCache: { at: number; run: Promise<(CheckResult & { name: string })[]> } | undefined;

  constructor(
    readonly target: Target,
    private readonly values: { 'data-dir'?: string; 'state-file'?: string; stack?: string },
    private readonly now: () => number = Date.now,
  ) {}

  /** `dlq list`, cached for a few seconds. */
  dlq(fresh = false): Promise<{ entries: DlqEntry[]; scan: ScanReport }> {
    const at = this.now();
    if (fresh || !this.dlqCache || at - this.dlqCache.at > DLQ_CACHE_MS) {
      const read = listDlq(this.target, DLQ_MAX);
      this.dlqCache = { at, read };
      read.catch(() => {
        if (this.dlqCache?.read === read) this.dlqCache = undefined;
      });
    }
    return this.dlqCache.read;
  }

  /**
   * The dead-letter messages for the overview and an order's page: no scan when the queue reports none.
   * In AWS a scan of an empty queue takes two empty 20 s long polls; the DLQ page always scans.
   */
  async dlqIfAny(): Promise<{ entries: DlqEntry[]; scan: ScanReport | undefined }> {
    const depth = await queueDepth(this.target.sqs, need(this.target.dlqUrl, 'DLQ_URL'));
    if (depth.visible + depth.inFlight + depth.delayed === 0 && !this.dlqCache)
      return { entries: [], scan: undefined };
    return this.dlq();
  }

  /** `doctor`, cached for five minutes (it calls ReCharge). */
  checks(fresh = false): Promise<{ at: number; results: (CheckResult & { name: string })[] }> {
    const at = this.now();
    if (fresh || !this.checksCache || at - this.checksCache.at > CHECKS_CACHE_MS) {
      const { ctx, close } = doctorContext(this.values, this.target);
      const run = runDoctorChecks(ctx).finally(close);
      this.checksCache = { at, run };
    }
    const cached = this.checksCache;
    return cached.run.then((results) => ({ at: cached.at, results }));
  }

  async overview(freshChecks = false): Promise<Overview> {
    const now = this.now();
    const dayStart = new Date(now - 24 * HOUR);
    // Each part fails on its own (a missing bucket, a denied call): the page shows what it could read.
    const settle = <T>(read: () => Promise<T>) => (async () => read())().catch(asError);
    const archive = (() => {
      try {
        return archiveOf(this.target);
      } catch (error) {
        return asError(error);
      }
    })();
    const [queue, dlq, orders, dlqRead, checks, archived] = await Promise.all([
      settle(() => queueDepth(this.target.sqs, need(this.target.queueUrl, 'QUEUE_URL'))),
      settle(() => queueDepth(this.target.sqs, need(this.target.dlqUrl, 'DLQ_URL'))),
      settle(() => findOrders(this.target, {})),
      settle(() => this.dlqIfAny()),
      settle(() => this.checks(freshChecks)),
      archive instanceof Error
        ? Promise.resolve(archive)
        : settle(() =>
            Promise.all(
              PROVIDERS.map((provider) => archive.list({ provider, from: dayStart, to: new Date(now) })),
            ),
          ),
    ]);
    const entries = archived instanceof Error ? [] : archived.flat();
    const dead = dlqRead instanceof Error ? [] : dlqRead.entries;
    const orderList = orders instanceof Error ? [] : orders;
    const history = orderList.flatMap((o) => o.history.map((h) => ({ provider: o.provider, h })));
    const inHistory = new Set(history.map(({ h }) => originalKey(h.deliveryKey)));
    // When each delivery key was first applied: an archived copy received later is a repeat.
    const firstSeen = new Map<string, string>();
    for (const { h } of history)
      if (!h.origin && (!firstSeen.has(h.deliveryKey) || h.at < (firstSeen.get(h.deliveryKey) as string)))
        firstSeen.set(h.deliveryKey, h.at);
    const deadKeys = new Set(dead.map((d) => originalKey(d.deliveryKey ?? '')));

    const figures = (since: number): ProviderFigures[] =>
      PROVIDERS.map((provider) => {
        // Archive hours are whole UTC hours: "since" counts from the start of its hour.
        const fromHour = Math.floor(since / HOUR) * HOUR;
        const received = entries.filter((e) => e.provider === provider && Date.parse(e.hour) >= fromHour);
        const applied = new Set(
          history
            .filter(
              ({ provider: p, h }) => p === provider && h.outcome === 'applied' && Date.parse(h.at) >= since,
            )
            .map(({ h }) => h.deliveryKey),
        );
        return {
          provider,
          received: received.length,
          applied: applied.size,
          noChange: received.filter((e) => {
            const first = firstSeen.get(e.deliveryKey);
            return first
              ? e.receivedAt > first
              : !inHistory.has(e.deliveryKey) && !deadKeys.has(e.deliveryKey);
          }).length,
          failed: dead.filter(
            (d) => d.provider === provider && Date.parse(d.failedAt ?? d.receivedAt ?? '') >= since,
          ).length,
        };
      });

    const hourly = {} as Record<Provider, number[]>;
    const firstHour = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
    for (const provider of PROVIDERS) {
      const counts = new Array<number>(24).fill(0);
      for (const e of entries) {
        if (e.provider !== provider) continue;
        const slot = Math.floor((Date.parse(e.hour) - firstHour) / HOUR);
        if (slot >= 0 && slot < 24) counts[slot] = (counts[slot] ?? 0) + 1;
      }
      hourly[provider] = counts;
    }
    const dlqByProvider: Overview['dlqByProvider'] = {};
    for (const d of dead) {
      const key = d.provider ?? 'unknown';
      const row = dlqByProvider[key] ?? { count: 0, oldestAt: undefined };
      dlqByProvider[key] = row;
      row.count++;
      const at = d.receivedAt ?? d.failedAt;
      if (at && (!row.oldestAt || at < row.oldestAt)) row.oldestAt = at;
    }
    const byStatus: Record<string, number> = {};
    for (const o of orderList) byStatus[o.status ?? 'unknown'] = (byStatus[o.status ?? 'unknown'] ?? 0) + 1;
    return {
      now,
      queue,
      dlq,
      hour: figures(now - HOUR),
      day: figures(now - 24 * HOUR),
      hourly,
      dlqByProvider,
      dlqScan: dlqRead instanceof Error ? dlqRead : dlqRead.scan,
      archive: archived instanceof Error ? archived : undefined,
      orders: orders instanceof Error ? orders : { total: orders.length, byStatus },
      checks,
    };
  }

  /** Orders matching a search (`orders --id`), or the most recent ones. */
  orders(search: { id?: string; provider?: Provider; limit?: number }): Promise<OrderRecord[]> {
    return findOrders(this.target, search);
  }

  /** Everything about one order: the ledger item, its archived deliveries, its dead-letter messages. */
  async order(provider: Provider, providerOrderId: string): Promise<OrderView | undefined> {
    const found = await findOrders(this.target, { provider, id: providerOrderId });
    const order = found.find((o) => o.providerOrderId === providerOrderId);
    if (!order) return undefined;
    const effects = listOrderEffects(order);
    let listed: ListedWebhook[] = [];
    let archiveError: Error | undefined;
    try {
      const archive = archiveOf(this.target);
      listed = await describeEntries(archive, await archive.list({ provider, orderId: providerOrderId }));
    } catch (error) {
      archiveError = asError(error);
    }
    let dead: DlqEntry[] = [];
    let dlqError: Error | undefined;
    const keys = new Set([
      ...listed.map((l) => l.deliveryKey),
      ...order.history.map((h) => originalKey(h.deliveryKey)),
    ]);
    try {
      dead = (await this.dlqIfAny()).entries.filter(
        (d) => d.provider === provider && keys.has(originalKey(d.deliveryKey ?? '')),
      );
    } catch (error) {
      dlqError = asError(error);
    }
    const deadKeys = new Set(dead.map((d) => originalKey(d.deliveryKey ?? '')));
    const deliveries = listed.map((l) => {
      const entries = order.history.filter((h) => originalKey(h.deliveryKey) === l.deliveryKey);
      // Every receipt is archived. The history entries a receipt brought are those written after it
      // arrived and before the next receipt of the same key; a receipt that brought none, received
      // after its key was applied, is a duplicate.
      const next = listed
        .filter((o) => o.deliveryKey === l.deliveryKey && o.receivedAt > l.receivedAt)
        .map((o) => o.receivedAt)
        .sort()[0];
      const own = entries.filter((h) => h.at >= l.receivedAt && (next === undefined || h.at < next));
      const outcomes = [...new Set(own.map((h) => h.outcome))];
      const repeated = own.length === 0 && entries.some((h) => h.origin === undefined && l.receivedAt > h.at);
      const outcome = deadKeys.has(l.deliveryKey)
        ? 'dead-lettered'
        : outcomes.length > 0
          ? outcomes.join(', ')
          : repeated
            ? 'duplicate: received again, nothing done twice'
            : 'no change (a repeat, or nothing new)';
      return { ...l, outcome, repeated };
    });
    const timeline: TimelineItem[] = [
      ...deliveries.map((d) => ({ at: d.receivedAt || d.hour, kind: 'delivery' as const, delivery: d })),
      ...order.history.map((h) => ({ at: h.at, kind: 'change' as const, change: h })),
      ...effects.map((e) => ({
        at: e.status === 'COMPLETED' ? (e.at ?? '') : '',
        kind: 'effect' as const,
        effect: e,
      })),
      ...dead.map((d) => ({ at: d.failedAt ?? d.receivedAt ?? '', kind: 'dead-letter' as const, dead: d })),
    ];
    // Oldest first; an effect without a time (in progress) goes last.
    timeline.sort((a, b) => (a.at || '\uffff').localeCompare(b.at || '\uffff'));
    return {
      order,
      effects,
      deliveries,
      dead,
      timeline,
      ...(archiveError ? { archiveError } : {}),
      ...(dlqError ? { dlqError } : {}),
    };
  }

  /** `archive show --provider --delivery`: the archived body of one delivery. */
  archived(provider: Provider, deliveryKey: string) {
    return showArchived(archiveOf(this.target), { query: { provider, deliveryKey } });
  }

  /** `dlq show <id>`. */
  dlqMessage(id: string): Promise<DlqEntry | undefined> {
    return showDlqMessage(this.target, id).then((r) => r.entry);
  }

  /** `dlq redrive <id>...`. */
  async redrive(ids: ReadonlySet<string>): Promise<{ moved: number; requested: number }> {
    this.dlqCache = undefined;
    try {
      const result = await redriveDlq(this.target, ids);
      return { moved: result.moved, requested: ids.size };
    } finally {
      this.dlqCache = undefined;
    }
  }

  /** `replay --provider --delivery`: the archived delivery sent again through the queue. */
  async replay(provider: Provider, deliveryKey: string): Promise<{ runId: string; sent: number }> {
    const archive = archiveOf(this.target);
    const entries = await planReplay(archive, { provider, deliveryKey });
    if (entries.length === 0) return { runId: '', sent: 0 };
    const runId = newReplayRunId();
    // One delivery received several times is one event: replay its last copy once.
    const sent = await replayEntries(this.target, archive, entries.slice(-1), runId);
    return { runId, sent };
  }
}
