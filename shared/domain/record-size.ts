import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PermanentError } from '../errors';
import type { CanonicalOrder } from './order';
import type { OrderRecord } from './order-record';

/** DynamoDB's item size limit: attribute names plus values, 400 KB. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

/**
 * What an order record may take when saved. Well below the limit: the key attributes, the
 * external ids and effect steps added later, and the estimate's own error fit in the rest.
 */
export const RECORD_BUDGET_BYTES = 300 * 1024;

/** History entries kept however large the record: the newest ones recognise a retried delivery. */
const MIN_HISTORY = 5;
const MIN_TRANSACTIONS = 1;

/** Size of one value as DynamoDB counts it (AWS "Item sizes and formats"). */
function valueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value instanceof Uint8Array) return value.length;
  if (typeof value === 'number') {
    const digits = String(Math.abs(value)).replace('.', '').replace(/^0+/, '').length;
    return Math.ceil(digits / 2) + 1;
  }
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === 'object') {
    let sum = 3;
    for (const [name, v] of Object.entries(value as Record<string, unknown>))
      if (v !== undefined) sum += Buffer.byteLength(name, 'utf8') + 1 + valueBytes(v);
    return sum;
  }
  return 0;
}

/** Estimated DynamoDB size of an item (undefined attributes are not stored, as in the ledger). */
export function dynamoItemBytes(item: object): number {
  let sum = 0;
  for (const [name, v] of Object.entries(item))
    if (v !== undefined) sum += Buffer.byteLength(name, 'utf8') + valueBytes(v);
  return sum;
}

/** What boundRecordSize left out of a record. */
export interface RecordTrim {
  lineItems: number;
  history: number;
  transactions: number;
}

/** Leaves out the newest line items that do not fit in `room` bytes; keeps the order of the rest. */
function keepLineItems(order: CanonicalOrder, room: number): CanonicalOrder {
  const kept: CanonicalOrder['lineItems'] = [];
  let used = 0;
  for (const item of order.lineItems) {
    const size = 1 + valueBytes(item);
    if (used + size > room) break;
    kept.push(item);
    used += size;
  }
  const omitted = order.lineItems.length - kept.length;
  if (omitted === 0) return order;
  return { ...order, lineItems: kept, lineItemsOmitted: (order.lineItemsOmitted ?? 0) + omitted };
}

/**
 * Bounds an order record to RECORD_BUDGET_BYTES so it always fits in one DynamoDB item (a 1 MB
 * ReCharge body can map to an 869 KB record). The full payload stays in the queue message (and
 * the dead-letter queue or archive), so the record keeps, in this order of sacrifice: the first
 * line items that fit (`order.lineItemsOmitted` counts the rest), then the newest history entries,
 * then the newest transactions. A record still too large after that (a huge field elsewhere) can
 * never be stored: a PermanentError, so the message is dead-lettered with this reason rather than
 * retried for the queue's whole redelivery budget.
 */
export function boundRecordSize(
  record: OrderRecord,
  budget = RECORD_BUDGET_BYTES,
): { record: OrderRecord; trimmed?: RecordTrim } {
  let size = dynamoItemBytes(record);
  if (size <= budget) return { record };
  const before = {
    lineItems: record.order.lineItems.length,
    history: record.history.length,
    transactions: record.transactions.length,
  };
  let next: OrderRecord = record;

  const lineItemsBytes = valueBytes(record.order.lineItems);
  next = { ...next, order: keepLineItems(next.order, budget - (size - lineItemsBytes) - 3) };
  size = dynamoItemBytes(next);

  if (size > budget) {
    const history = [...next.history];
    while (size > budget && history.length > MIN_HISTORY) size -= 1 + valueBytes(history.shift());
    next = { ...next, history };
  }
  if (size > budget) {
    const transactions = [...next.transactions];
    while (size > budget && transactions.length > MIN_TRANSACTIONS)
      size -= 1 + valueBytes(transactions.shift());
    next = { ...next, transactions };
  }
  size = dynamoItemBytes(next);
  if (size > budget)
    throw new PermanentError(
      `order record too large for DynamoDB: ${Math.ceil(size / 1024)} KB after leaving out line items and history (kept below ${budget / 1024} KB of the 400 KB item limit)`,
    );
  return {
    record: next,
    trimmed: {
      lineItems: before.lineItems - next.order.lineItems.length,
      history: before.history - next.history.length,
      transactions: before.transactions - next.transactions.length,
    },
  };
}

/** DynamoDB's answer to an item over 400 KB (PutItem and UpdateItem word it slightly differently). */
export function isItemTooLarge(error: unknown): boolean {
  return (
    (error as Error)?.name === 'ValidationException' &&
    /item size (to update )?has exceeded the maximum allowed size/i.test((error as Error).message)
  );
}

/** The permanent error an oversize write becomes: retrying the same item can never succeed. */
export function itemTooLargeError(error: unknown): PermanentError {
  return new PermanentError("order record exceeds DynamoDB's 400 KB item limit", { cause: error });
}

/**
 * The order to send when creating the external order: the stored one, with the event's full line
 * items when the stored record had to leave some out and this event carries them.
 */
export function orderWithAllLineItems(
  stored: CanonicalOrder,
  event: CanonicalOrder | undefined,
): CanonicalOrder {
  if (!stored.lineItemsOmitted || !event) return stored;
  const { lineItemsOmitted: _omitted, ...rest } = stored;
  return { ...rest, lineItems: event.lineItems };
}

/**
 * The bulky parts of an order record, stored compressed: DynamoDB bills every write by the whole
 * item's size (1 KB write units, the larger of before and after), and the worker rewrites the item
 * at each step, so a 5 KB item costs 5 units a write and its compressed form 1 or 2. `orderZ`: the
 * canonical order. `restZ`: the attributes no query filters or projects on (the history, the
 * transactions, the derived statuses, the versions, the steps other than PROJECTED_STEPS), as one
 * JSON object: their names are stored once, and what they repeat (the delivery key, the external
 * id, the times) too. What the reconciler and the CLI project or filter (status, provider status,
 * external ids, PROJECTED_STEPS, updatedAt) stays plain. Small values stay plain (compression would
 * not pay for itself). Items written before `restZ` hold the history alone as `historyZ` and every
 * step plain; they read the same.
 */
const PACK_MIN_BYTES = 256;
const REST_FIELDS = [
  'history',
  'transactions',
  'externalCreatedBy',
  'externalStateVersion',
  'createdAt',
  'paymentStatus',
  'fulfilmentStatus',
  'subscriptionStatus',
  'placeholder',
  'paid',
  'stateVersion',
] as const;

/**
 * Steps kept as plain attributes: the reconciler's snapshot projects them and `doctor` filters on
 * them (RECHARGE_WRITE_BACK_STEPS in shared/providers/recharge/write-back.ts; a unit test keeps the
 * two lists equal). The other steps travel in `restZ`.
 */
export const PROJECTED_STEPS: readonly string[] = [
  'recharge-put-order',
  'recharge-repair-order',
  'recharge-write-back-stopped',
];

/** The item attributes for a record: `order` as `orderZ` and the rest as `restZ` (raw-deflate JSON) when large. */
export function packRecord<T extends Partial<OrderRecord>>(record: T): Record<string, unknown> {
  const item: Record<string, unknown> = { ...record };
  if (record.order !== undefined) {
    const json = JSON.stringify(record.order);
    if (Buffer.byteLength(json) >= PACK_MIN_BYTES) {
      delete item.order;
      item.orderZ = deflateRawSync(json);
    }
  }
  const rest: Record<string, unknown> = {};
  for (const name of REST_FIELDS) if (record[name] !== undefined) rest[name] = record[name];
  const steps = Object.entries(record.steps ?? {});
  const packedSteps = steps.filter(([name]) => !PROJECTED_STEPS.includes(name));
  if (packedSteps.length > 0) rest.steps = Object.fromEntries(packedSteps);
  const json = JSON.stringify(rest);
  if (Buffer.byteLength(json) >= PACK_MIN_BYTES) {
    for (const name of REST_FIELDS) delete item[name];
    if (packedSteps.length === steps.length) delete item.steps;
    else if (packedSteps.length > 0)
      item.steps = Object.fromEntries(steps.filter(([name]) => PROJECTED_STEPS.includes(name)));
    item.restZ = deflateRawSync(json);
  }
  return item;
}

const inflateJson = (packed: Uint8Array): unknown => JSON.parse(inflateRawSync(packed).toString('utf8'));

/** Reads packRecord's form back (plain attributes pass unchanged; `historyZ` of older items too). */
export function unpackRecord(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...item };
  for (const name of ['order', 'history'] as const) {
    const packed = item[`${name}Z`];
    if (!(packed instanceof Uint8Array)) continue;
    delete out[`${name}Z`];
    out[name] = inflateJson(packed);
  }
  if (item.restZ instanceof Uint8Array) {
    delete out.restZ;
    const { steps, ...rest } = inflateJson(item.restZ) as Record<string, unknown>;
    Object.assign(out, rest);
    if (steps) out.steps = { ...(out.steps as object | undefined), ...(steps as object) };
  }
  return out;
}
