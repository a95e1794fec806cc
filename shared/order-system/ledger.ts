import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type ScanCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ProviderOrderRef } from '../domain/order';
import type { OrderRecord } from '../domain/order-record';
import {
  boundRecordSize,
  dynamoItemBytes,
  isItemTooLarge,
  itemTooLargeError,
  packRecord,
  RECORD_BUDGET_BYTES,
  unpackRecord,
} from '../domain/record-size';
import { TransientError } from '../errors';
import type { ExternalCall } from '../external-call';
import type { Provider } from '../queue/message';
import type { CreatedOrder, CreateOrderInput, OrderSystem } from './types';

/**
 * The ORDERS_TABLE (single-table design, key `pk` + `sk`):
 *
 * | item          | pk                                   | sk                 | attributes |
 * |---------------|--------------------------------------|--------------------|------------|
 * | order         | `ORDER#<provider>#<providerOrderId>` | `ORDER`            | `entity: "order"`, provider, providerOrderId, externalId, externalNumber, externalCreatedBy, externalStateVersion, paid, stateVersion, status, paymentStatus, fulfilmentStatus, providerStatus, subscriptionStatus, placeholder, transactions, sourceUpdatedAt, history[] ({at, deliveryKey, topic, field, from, to, providerStatus, outcome, archive}), steps ({<step>: {status, qualifier, token, leaseUntil, result, completedAt}}: the exactly-once state of create-order, push-state and the ReCharge write-backs), version, createdAt, updatedAt; what no query filters or projects on (history, transactions, derived statuses, versions, the steps other than the reconciler's) as one raw-deflate JSON attribute (`restZ`, packRecord; `historyZ` on items written before it); the canonical order either inline (`order`, or `orderZ` packed) or, once the item would take more than one write unit with it, in an order-details item named by `detailsRef` |
 * | order details | `ORDER#<provider>#<providerOrderId>` | `DETAILS#<ref>`    | `entity: "order-details"`, `orderZ` (the canonical order: customer, addresses, lineItems, totals, currency, references; raw-deflate JSON), `writtenFor` (the order item version it was first written for) |
 * | number counter| `COUNTER`                            | `ORDER_NUMBER`     | `value`: numbers handed out so far |
 *
 * The order item is keyed by the provider reference, so "one external order per provider order" is
 * a property of the key: the external ids are set by a write conditioned on the item's version and
 * only when it has none (first writer wins), in the same write that completes its create-order step.
 * With ORDER_SYSTEM=http the same items hold the worker's view of each order (ids come from the
 * merchant's API).
 *
 * Why a second item: DynamoDB bills a write per started KB of the larger of the item before and
 * after, and the worker rewrites the order item at every step (3 to 4 times for a new order); the
 * canonical order of a large order alone takes most of a KB even deflated. Its details item is
 * written only when the canonical order changes, and both are read with one Query on the partition
 * (1 read unit up to 4 KB). The ref is a hash of the content and the details item is written before
 * the order item names it, so the order item never names a missing or different order: a crash
 * between the two writes leaves an unnamed details item (never read as the order), and a racing
 * writer with other details writes another item. A superseded details item is deleted after the
 * write that stopped naming it, conditioned on `writtenFor` so that it is never one a newer version
 * names again.
 */

export const ORDER_SK = 'ORDER';
/** Sort key prefix of an order-details item (followed by its ref, a content hash). */
export const DETAILS_SK_PREFIX = 'DETAILS#';
export const COUNTER_KEY = { pk: 'COUNTER', sk: 'ORDER_NUMBER' } as const;

/** DynamoDB's write unit: a write costs one per started KB of the item (the larger of before and after). */
export const WRITE_UNIT_BYTES = 1024;

/** The pk of the order item for a provider order. */
export function orderItemPk(ref: ProviderOrderRef): string {
  return `ORDER#${ref.provider}#${ref.orderId}`;
}

/** A document client that drops undefined fields (optional canonical fields are left out). */
export function ordersDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * The record an order item holds, without its details item's order when it names one (`order`
 * absent: the caller joins it, see withDetails).
 */
function toRecord(item: Record<string, unknown> | undefined): OrderRecord | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, entity: _entity, ...rest } = unpackRecord(item);
  return rest as unknown as OrderRecord;
}

/** The canonical order an order-details item holds. */
function detailsOrder(item: Record<string, unknown> | undefined): OrderRecord['order'] | undefined {
  const packed = item?.orderZ;
  if (!(packed instanceof Uint8Array)) return undefined;
  return JSON.parse(inflateRawSync(packed).toString('utf8')) as OrderRecord['order'];
}

/** An order item's record with its order: from its details item when it names one. */
function withDetails(
  core: OrderRecord | undefined,
  details: (ref: string) => Record<string, unknown> | undefined,
): OrderRecord | undefined {
  if (!core?.detailsRef) return core;
  const order = detailsOrder(details(core.detailsRef));
  return order ? { ...core, order } : undefined;
}

/** What a conditional whole-item write did: written, or refused with the item as it stands. */
export type WriteOutcome =
  | { written: true; record: OrderRecord }
  | { written: false; current: OrderRecord | undefined };

/** Reads and writes order items with optimistic concurrency (the `version` attribute). */
export class OrderStore {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    /** Size a saved record is bounded to (see boundRecordSize); tests raise it to reach DynamoDB's own check. */
    private readonly recordBudgetBytes = RECORD_BUDGET_BYTES,
  ) {
    this.doc = ordersDocumentClient(client);
  }

  /** The order item and its details item: one strongly consistent Query on the order's partition. */
  async get(ref: ProviderOrderRef): Promise<OrderRecord | undefined> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': orderItemPk(ref) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    const core = toRecord(items.find((item) => item.sk === ORDER_SK));
    const record = withDetails(core, (detailsRef) =>
      items.find((item) => item.sk === `${DETAILS_SK_PREFIX}${detailsRef}`),
    );
    if (core && !record)
      throw new TransientError(
        `order item ${orderItemPk(ref)} names details ${core.detailsRef} that were not found`,
      );
    return record;
  }

  /**
   * Writes `record` if the stored version is still `expectedVersion` (undefined: not stored yet).
   * Returns the written record, or undefined when another writer got there first (re-read, re-apply).
   */
  async save(record: OrderRecord, expectedVersion: number | undefined): Promise<OrderRecord | undefined> {
    const out = await this.write(record, expectedVersion);
    return out.written ? out.record : undefined;
  }

  /**
   * Like `save`, but a refused write also returns the item that refused it (the failed condition's
   * ALL_OLD, joined with its details), so the caller re-applies on it without reading the order item.
   *
   * `record.detailsRef` is the details item of the version the record was read as. The canonical
   * order stays inline while the item with it takes one write unit; past that it goes to a details
   * item (and stays there: no item flaps between the two shapes), written first and only when its
   * content differs from the one the stored version names.
   */
  async write(record: OrderRecord, expectedVersion: number | undefined): Promise<WriteOutcome> {
    const bounded = boundRecordSize(record, this.recordBudgetBytes).record;
    const { detailsRef: knownRef, ...rest } = bounded;
    // The details item the stored version names, when the record is that version as read (otherwise
    // unknown: the details are put again, and nothing is deleted).
    const previousRef = bounded.version === (expectedVersion ?? 0) ? knownRef : undefined;
    const version = (expectedVersion ?? 0) + 1;
    const next: OrderRecord = { ...rest, version };
    const pk = orderItemPk({ provider: record.provider, orderId: record.providerOrderId });
    const key = { pk, sk: ORDER_SK, entity: 'order' };
    let item: Record<string, unknown> = { ...key, ...packRecord(next) };
    let detailsRef: string | undefined;
    let putRef: string | undefined;
    if (previousRef !== undefined || dynamoItemBytes(item) > WRITE_UNIT_BYTES) {
      const orderZ = deflateRawSync(JSON.stringify(next.order));
      detailsRef = createHash('sha256').update(orderZ).digest('base64url').slice(0, 16);
      const { order: _order, ...withoutOrder } = next;
      item = { ...key, ...packRecord(withoutOrder), detailsRef };
      if (detailsRef !== previousRef) {
        const fresh = await this.putDetails(pk, detailsRef, orderZ, version);
        putRef = detailsRef;
        if (!fresh && expectedVersion === undefined) {
          // These details are stored already: a repeat of the delivery that created the order
          // (typically). One Query reads what stands instead of a refused write and a read of its
          // details; with no order item (a crash left its details), the write goes on.
          const current = await this.get({ provider: record.provider, orderId: record.providerOrderId });
          if (current) return { written: false, current };
        }
      }
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
          ExpressionAttributeValues: expectedVersion === undefined ? undefined : { ':v': expectedVersion },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = error.Item ? toRecord(unmarshall(error.Item)) : undefined;
        // A details item this write put and the winner does not name: nobody names it (a later
        // writer of the same content puts it again for a newer version, which this delete spares).
        if (putRef && current?.detailsRef !== putRef)
          await this.deleteDetails(pk, putRef, current?.version ?? 0);
        return { written: false, current: await this.joinDetails(current) };
      }
      if (isItemTooLarge(error)) throw itemTooLargeError(error);
      throw error;
    }
    if (previousRef !== undefined && previousRef !== detailsRef)
      await this.deleteDetails(pk, previousRef, version);
    return { written: true, record: detailsRef ? { ...next, detailsRef } : next };
  }

  /**
   * Puts a details item for order item `version`; content-addressed, so an existing one holds the
   * same order (false: it was there already). `writtenFor` never goes down (a slow writer of an older version leaves it), which
   * is what keeps deleteDetails from removing one a newer version names.
   */
  private async putDetails(
    pk: string,
    detailsRef: string,
    orderZ: Uint8Array,
    version: number,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk,
            sk: `${DETAILS_SK_PREFIX}${detailsRef}`,
            entity: 'order-details',
            orderZ,
            writtenFor: version,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR writtenFor < :v',
          ExpressionAttributeValues: { ':v': version },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (isItemTooLarge(error)) throw itemTooLargeError(error);
      throw error;
    }
  }

  /**
   * Deletes a details item no order item version up to `upTo` names any more, unless a writer of a
   * newer version put it again meanwhile (best effort: a leftover costs storage, never correctness).
   */
  private async deleteDetails(pk: string, detailsRef: string, upTo: number): Promise<void> {
    await this.doc
      .send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk, sk: `${DETAILS_SK_PREFIX}${detailsRef}` },
          ConditionExpression: 'writtenFor <= :v',
          ExpressionAttributeValues: { ':v': upTo },
        }),
      )
      .catch(() => undefined);
  }

  /**
   * A refused write's item with its order. Its details item is read by key; if a newer write has
   * since replaced and deleted it, the order is read again whole (a newer version: the caller's
   * next write is conditioned on it).
   */
  private async joinDetails(core: OrderRecord | undefined): Promise<OrderRecord | undefined> {
    if (!core?.detailsRef) return core;
    const pk = orderItemPk({ provider: core.provider, orderId: core.providerOrderId });
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk, sk: `${DETAILS_SK_PREFIX}${core.detailsRef}` },
        ConsistentRead: true,
      }),
    );
    return (
      withDetails(core, () => out.Item) ??
      this.get({ provider: core.provider, orderId: core.providerOrderId })
    );
  }
}

/** How long a create waits for others to share its counter write (see LedgerOrderSystem). */
export const COUNTER_GATHER_MS = 5;

/**
 * The built-in ledger as order system: order numbers from an atomic counter starting at
 * ORDER_NUMBER_START (strictly increasing; a number lost to a race is skipped, never reused), and an
 * external id derived from the provider reference, so even two racing creates agree on the id.
 *
 * Creates that reach the counter together (a batch's records run side by side) share one `ADD n`:
 * a create waits at most COUNTER_GATHER_MS for others, or for the call in flight to return, then
 * each gets its own number of the block, in arrival order. A block is only as large as the creates
 * waiting for it, so no number is set aside unused; the wait costs a create a few milliseconds.
 */
export class LedgerOrderSystem implements OrderSystem {
  readonly kind = 'ledger' as const;
  readonly idsBeforeSave = true;
  private readonly doc: DynamoDBDocumentClient;
  private waiting: { resolve: (issued: number) => void; reject: (error: unknown) => void }[] = [];
  private gathering = false;
  private inFlight = false;
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly numberStart: number,
    /** Called after the number is issued or the write failed (the effect log line). */
    private readonly onCall?: (call: ExternalCall) => void,
    private readonly gatherMs = COUNTER_GATHER_MS,
  ) {
    this.doc = ordersDocumentClient(client);
  }

  async createOrder(input: CreateOrderInput): Promise<CreatedOrder> {
    const started = Date.now();
    const report = (status: ExternalCall['status']) =>
      this.onCall?.({
        target: 'ledger',
        method: 'create-order',
        orderId: input.ref.orderId,
        status,
        durationMs: Date.now() - started,
        attempt: 1,
      });
    const issued = await this.nextNumber().catch((error: unknown) => {
      report('error');
      throw error;
    });
    report('ok');
    return {
      id: ledgerOrderId(input.ref),
      number: String(this.numberStart + issued - 1),
      heldVersion: input.version,
    };
  }

  /** The counter's value for one create (1 for the first), taken with the creates waiting beside it. */
  private nextNumber(): Promise<number> {
    const issued = new Promise<number>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (!this.gathering && !this.inFlight) {
      this.gathering = true;
      setTimeout(() => {
        this.gathering = false;
        void this.takeBlock();
      }, this.gatherMs);
    }
    return issued;
  }

  /** One `ADD n` for every create waiting now; those arriving meanwhile go with the next. */
  private async takeBlock(): Promise<void> {
    const block = this.waiting;
    this.waiting = [];
    if (block.length === 0) return;
    this.inFlight = true;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: COUNTER_KEY,
          UpdateExpression: 'ADD #value :n',
          ExpressionAttributeNames: { '#value': 'value' },
          ExpressionAttributeValues: { ':n': block.length },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const last = Number(out.Attributes?.value);
      block.forEach((waiter, i) => {
        waiter.resolve(last - block.length + 1 + i);
      });
    } catch (error) {
      for (const waiter of block) waiter.reject(error);
    } finally {
      this.inFlight = false;
      if (this.waiting.length > 0) void this.takeBlock();
    }
  }
}

/** Stable external id of a provider order in the ledger. */
export function ledgerOrderId(ref: ProviderOrderRef): string {
  return `ord_${createHash('sha256').update(`${ref.provider}:${ref.orderId}`).digest('hex').slice(0, 20)}`;
}

export interface OrderFilter {
  provider?: Provider;
  status?: string;
  limit?: number;
  /** Called after each page with the number of items read so far (the CLI's progress line). */
  onProgress?: (scanned: number) => void;
}

/**
 * Lists order items (a Scan: meant for the CLI and local mode, not for hot paths), newest first,
 * each joined with its details item (read by the same Scan).
 */
export async function listOrders(
  client: DynamoDBClient,
  table: string,
  filter: OrderFilter = {},
): Promise<OrderRecord[]> {
  const doc = ordersDocumentClient(client);
  const names: Record<string, string> = { '#entity': 'entity' };
  const values: Record<string, unknown> = { ':order': 'order', ':details': 'order-details' };
  const clauses = ['#entity = :order'];
  if (filter.provider) {
    names['#provider'] = 'provider';
    values[':provider'] = filter.provider;
    clauses.push('#provider = :provider');
  }
  if (filter.status) {
    names['#status'] = 'status';
    values[':status'] = filter.status;
    clauses.push('#status = :status');
  }
  const cores: OrderRecord[] = [];
  const details = new Map<string, Record<string, unknown>>();
  let scanned = 0;
  let start: ScanCommandInput['ExclusiveStartKey'];
  do {
    const out = await doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: `(${clauses.join(' AND ')}) OR #entity = :details`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      if (item.entity === 'order-details') details.set(`${item.pk}\n${item.sk}`, item);
      else {
        const record = toRecord(item);
        if (record) cores.push(record);
      }
    }
    scanned += out.ScannedCount ?? 0;
    filter.onProgress?.(scanned);
    start = out.LastEvaluatedKey;
  } while (start);
  const records: OrderRecord[] = [];
  for (const core of cores) {
    const pk = orderItemPk({ provider: core.provider, orderId: core.providerOrderId });
    // A details item written after this Scan passed its key: the order item is newer than the
    // Scan's view of its details, read it again by key.
    const record =
      withDetails(core, (ref) => details.get(`${pk}\n${DETAILS_SK_PREFIX}${ref}`)) ??
      (await new OrderStore(client, table).get({ provider: core.provider, orderId: core.providerOrderId }));
    if (record) records.push(record);
  }
  records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return filter.limit ? records.slice(0, filter.limit) : records;
}

/** Reads one order by its provider reference (e.g. `recharge`, ReCharge order id). */
export async function getOrderByProviderRef(
  client: DynamoDBClient,
  table: string,
  ref: ProviderOrderRef,
): Promise<OrderRecord | undefined> {
  return new OrderStore(client, table).get(ref);
}
