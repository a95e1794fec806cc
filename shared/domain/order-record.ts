import type { CanonicalOrder, ProviderOrderRef } from './order';
import type { OrderEvent, TransactionRecord } from './order-event';
import {
  checkSubscriptionTransition,
  checkTransition,
  fulfilmentStatusOf,
  isFinal,
  isKnownSubscriptionStatus,
  type OrderStatus,
  paymentStatusOf,
} from './state-machine';

/** One line of an order's history: which event tried to change what, and whether it was applied. */
export interface HistoryEntry {
  at: string;
  deliveryKey: string;
  topic: string;
  field: 'status' | 'subscription' | 'details' | 'transaction' | 'provider-status';
  from?: string;
  to?: string;
  providerStatus?: string;
  /** The payment attempt a `transaction` entry records (Wix Cashier Pay transaction id). */
  transactionId?: string;
  /** applied; ignored (backwards transition); stale (older than stored state); recorded (kept as sent). */
  outcome: 'applied' | 'ignored' | 'stale' | 'recorded';
  /** Set when the entry came from a replayed (or reconciled) message rather than a provider delivery. */
  origin?: 'replay' | 'reconcile';
  /** Where the delivery is archived (shared/archive/archive.ts archiveRef): on its first entry only. */
  archive?: string;
}

/** The stored state of one provider order (one ledger item; see shared/order-system/ledger.ts). */
export interface OrderRecord {
  provider: ProviderOrderRef['provider'];
  providerOrderId: string;
  externalId?: string;
  externalNumber?: string;
  /** Delivery whose processing created the external order. */
  externalCreatedBy?: string;
  /** The `stateVersion` the create carried to the order system; later versions are pushed. */
  externalStateVersion?: number;
  /**
   * The provider confirmed payment at some point (a success/approved/paid event, or a refund),
   * even if that event arrived late: a paid order exists in the order system whatever came after.
   */
  paid?: boolean;
  /**
   * Version of the state the order system is told about (status, payment, fulfilment, provider and
   * subscription status): +1 on each change of those, never on history-only writes. Pushes carry it.
   */
  stateVersion?: number;
  status?: OrderStatus;
  paymentStatus: string;
  fulfilmentStatus: string;
  providerStatus?: string;
  subscriptionStatus?: string;
  /** Placeholder: created by an event without order details (e.g. a status for an unknown order). */
  placeholder: boolean;
  order: CanonicalOrder;
  transactions: TransactionRecord[];
  /** Provider time of the newest event applied; older events are stale. */
  sourceUpdatedAt?: string;
  history: HistoryEntry[];
  /**
   * The order's external effects as exactly-once steps (create-order, push-state, the ReCharge
   * write-backs), keyed by step name: kept on the order item so a claim or completion rides on a
   * write the worker makes anyway (see shared/idempotency/order-steps.ts). One entry per effect,
   * replaced by a newer qualifier (push-state keeps only the last version), so it stays small.
   */
  steps?: Record<string, StepState>;
  /** Optimistic-concurrency version, incremented on every write. */
  version: number;
  /**
   * Storage: the order-details item holding `order` for the version this record was read or written
   * as (absent: `order` is on the order item itself). Set by the store (shared/order-system/ledger.ts).
   */
  detailsRef?: string;
  createdAt: string;
  updatedAt: string;
}

/** One external effect's state on the order item. */
export interface StepState {
  status: 'IN_PROGRESS' | 'COMPLETED';
  /** What the effect was for: the state version pushed, the external id written back. */
  qualifier?: string;
  /** The attempt holding an IN_PROGRESS step, and until when (epoch ms): later, it may be taken over. */
  token?: string;
  leaseUntil?: number;
  /**
   * Released after an attempt whose effect may have been made (a timed-out PUT): kept IN_PROGRESS
   * with a lapsed lease, so the next attempt takes it over and verifies before repeating it.
   */
  uncertain?: boolean;
  /** A completed step's result (the created ids, a push's answer). */
  result?: unknown;
  /** When the step completed (ISO time). */
  completedAt?: string;
}

/** History is short on purpose: an item must stay far below DynamoDB's 400 KB. */
export const HISTORY_LIMIT = 25;

export interface ApplyResult {
  record: OrderRecord;
  changed: boolean;
  stale: boolean;
  /** Every transition this event asked for went backwards, and it changed nothing else. */
  ignored: boolean;
  /** This delivery was applied before (a retry after a crash): nothing new to write. */
  alreadyApplied: boolean;
  /** A status word the product cannot place (unknown) was recorded but kept out of a final state. */
  keptFinal: boolean;
  /** Status changes this delivery applied (on a retry: the ones it applied the first time). */
  appliedStatuses: HistoryEntry[];
}

/** Deep equality of JSON values regardless of key order (DynamoDB maps do not keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether `event` describes an older state of the order than the newest one `record` saved (by provider time). */
export function olderThanSaved(
  record: Pick<OrderRecord, 'sourceUpdatedAt'>,
  event: Pick<OrderEvent, 'occurredAt'>,
): boolean {
  const eventTime = toMillis(event.occurredAt);
  const storedTime = toMillis(record.sourceUpdatedAt);
  return eventTime !== undefined && storedTime !== undefined && eventTime < storedTime;
}

function toMillis(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

function newRecord(event: OrderEvent, now: string): OrderRecord {
  return {
    provider: event.ref.provider,
    providerOrderId: event.ref.orderId,
    paymentStatus: paymentStatusOf(undefined),
    fulfilmentStatus: fulfilmentStatusOf(undefined),
    placeholder: true,
    order: {
      source: { provider: event.ref.provider, orderId: event.ref.orderId },
      references: {},
      lineItems: [],
    },
    transactions: [],
    history: [],
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Applies one event to the stored order (undefined: not stored yet), purely. Stale events change
 * nothing but the history; backwards transitions are recorded as ignored; re-applying the same
 * delivery (a retry) changes nothing, unless a different delivery moved the order since (a status
 * that returns, see below).
 */
export function applyOrderEvent(
  stored: OrderRecord | undefined,
  event: OrderEvent,
  delivery: {
    deliveryKey: string;
    now: string;
    origin?: 'replay' | 'reconcile' | undefined;
    archiveRef?: string | undefined;
    /** SQS delivered this message before (a retry of our own), or it is a replayed copy: never a new event. */
    redelivered?: boolean;
  },
): ApplyResult {
  const { deliveryKey } = delivery;
  if (!stored?.history.some((h) => h.deliveryKey === deliveryKey))
    return applyNewEvent(stored, event, delivery);
  // A key seen before is a retried delivery, or a status that returns (Sevi PENDING, FAILED, PENDING:
  // no time or id in the payload tells them apart). A first receive is weighed again against the
  // current state: when it would change what the order system is told (a different delivery moved
  // the order since), it is a real return and applies, under the same precedence as any delivery;
  // otherwise, and always for a message SQS hands us again, it is a duplicate and nothing is written.
  const again = delivery.redelivered ? undefined : applyNewEvent(stored, event, delivery);
  if (again && !again.stale && !sameJson(pushedState(stored), pushedState(again.record))) return again;
  return {
    record: stored,
    changed: false,
    stale: stored.history.some((h) => h.deliveryKey === deliveryKey && h.outcome === 'stale'),
    ignored: false,
    alreadyApplied: true,
    keptFinal: false,
    appliedStatuses: stored.history.filter(
      (h) => h.deliveryKey === deliveryKey && h.field === 'status' && h.outcome === 'applied',
    ),
  };
}

function applyNewEvent(
  stored: OrderRecord | undefined,
  event: OrderEvent,
  delivery: {
    deliveryKey: string;
    now: string;
    origin?: 'replay' | 'reconcile' | undefined;
    archiveRef?: string | undefined;
  },
): ApplyResult {
  const { deliveryKey, now, origin, archiveRef } = delivery;
  const record: OrderRecord = structuredClone(stored ?? newRecord(event, now));
  const entries: HistoryEntry[] = [];
  const entry = (e: Omit<HistoryEntry, 'at' | 'deliveryKey' | 'topic'>) =>
    entries.push({
      at: now,
      deliveryKey,
      topic: event.topic,
      ...(origin ? { origin } : {}),
      ...(archiveRef && entries.length === 0 ? { archive: archiveRef } : {}),
      ...e,
    });

  const eventTime = toMillis(event.occurredAt);
  const storedTime = toMillis(record.sourceUpdatedAt);
  const stale = stored !== undefined && olderThanSaved(record, event);
  // A late event still proves what happened: an order paid once must exist externally.
  const paidNow = !record.paid && provesPayment(event);
  if (paidNow) record.paid = true;
  if (stale) {
    entry({
      field: 'status',
      from: record.status,
      to: event.statusPath.at(-1),
      providerStatus: event.providerStatus,
      outcome: 'stale',
    });
    return finish(stored, record, entries, now, { stale: true, detailsChanged: paidNow });
  }

  let allIgnored = event.statusPath.length > 0;
  for (const to of event.statusPath) {
    const outcome = checkTransition(record.status, to);
    if (outcome === 'unchanged') {
      allIgnored = false;
      continue;
    }
    entry({ field: 'status', from: record.status, to, providerStatus: event.providerStatus, outcome });
    if (outcome === 'applied') {
      record.status = to;
      allIgnored = false;
    }
  }
  let keptFinal = false;
  if (event.providerStatus !== undefined && !allIgnored && record.providerStatus !== event.providerStatus) {
    if (event.statusPath.length > 0) record.providerStatus = event.providerStatus;
    else if (isFinal(record.status)) {
      // A word with no status (unknown, or not a payment outcome) never replaces a final state.
      entry({ field: 'provider-status', to: event.providerStatus, outcome: 'ignored' });
      keptFinal = true;
    } else {
      entry({ field: 'provider-status', to: event.providerStatus, outcome: 'recorded' });
      record.providerStatus = event.providerStatus;
    }
  }
  record.paymentStatus = paymentStatusOf(record.status);
  record.fulfilmentStatus = fulfilmentStatusOf(record.status);

  let detailsChanged = false;
  // An event whose every transition went backwards is evidently older: its details are not applied either.
  if (event.order && !allIgnored) {
    const references = { ...record.order.references, ...event.order.references };
    const next: CanonicalOrder = { ...event.order, references };
    if (!sameJson(next, record.order)) {
      if (!record.placeholder) entry({ field: 'details', outcome: 'applied' });
      record.order = next;
      detailsChanged = true;
    }
    record.placeholder = false;
  }
  if (event.references) {
    const references = { ...record.order.references, ...event.references };
    if (!sameJson(references, record.order.references)) {
      record.order = { ...record.order, references };
      detailsChanged = true;
    }
  }
  if (event.subscriptionStatus !== undefined) {
    const outcome = checkSubscriptionTransition(record.subscriptionStatus, event.subscriptionStatus);
    if (outcome !== 'unchanged') {
      if (outcome === 'ignored' && !isKnownSubscriptionStatus(event.subscriptionStatus)) keptFinal = true;
      entry({
        field: 'subscription',
        from: record.subscriptionStatus,
        to: event.subscriptionStatus,
        outcome,
      });
      if (outcome === 'applied') record.subscriptionStatus = event.subscriptionStatus;
    }
  }
  const tx = event.transaction;
  if (tx && !record.transactions.some((t) => t.id === tx.id && t.status === tx.status)) {
    record.transactions = [...record.transactions, tx].slice(-HISTORY_LIMIT);
    entry({ field: 'transaction', to: tx.status, transactionId: tx.id, outcome: 'recorded' });
  }
  if (eventTime !== undefined && (storedTime === undefined || eventTime > storedTime)) {
    record.sourceUpdatedAt = new Date(eventTime).toISOString();
    detailsChanged = true;
  }
  return {
    ...finish(stored, record, entries, now, {
      stale: false,
      detailsChanged: detailsChanged || paidNow || stored === undefined,
    }),
    keptFinal,
  };
}

/** Statuses only a paid order reaches; `cancelled` is not one (it may come before payment). */
const PAID_STATUSES: readonly OrderStatus[] = ['paid', 'delivered', 'partially_refunded', 'refunded'];

function provesPayment(event: OrderEvent): boolean {
  return event.createExternal || event.statusPath.some((s) => PAID_STATUSES.includes(s));
}

/**
 * Whether the order must exist in the order system, decided from the order's state, never from
 * the event being processed: an order that was paid (paid, delivered, refunded in part or whole,
 * or cancelled after payment) exists, whatever order its deliveries arrived in.
 */
export function mustExistExternally(record: OrderRecord): boolean {
  return record.paid === true || (record.status !== undefined && PAID_STATUSES.includes(record.status));
}

/** The part of an order the order system is told about; a change to it is a new `stateVersion`. */
export function pushedState(record: OrderRecord) {
  return {
    status: record.status,
    paymentStatus: record.paymentStatus,
    fulfilmentStatus: record.fulfilmentStatus,
    providerStatus: record.providerStatus,
    subscriptionStatus: record.subscriptionStatus,
  };
}

function finish(
  stored: OrderRecord | undefined,
  record: OrderRecord,
  entries: HistoryEntry[],
  now: string,
  flags: { stale: boolean; detailsChanged: boolean },
): ApplyResult {
  const changed = entries.length > 0 || flags.detailsChanged;
  if (changed) {
    record.history = [...record.history, ...entries].slice(-HISTORY_LIMIT);
    record.updatedAt = now;
  }
  if (!stored || !sameJson(pushedState(stored), pushedState(record)))
    record.stateVersion = (stored?.stateVersion ?? 0) + 1;
  return {
    record,
    changed,
    stale: flags.stale,
    ignored:
      !flags.stale &&
      !flags.detailsChanged &&
      entries.length > 0 &&
      entries.every((e) => e.outcome === 'ignored'),
    alreadyApplied: false,
    keptFinal: false,
    appliedStatuses: entries.filter((e) => e.field === 'status' && e.outcome === 'applied'),
  };
}
