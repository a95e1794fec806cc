import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  type ScanCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ProviderOrderRef } from '../domain/order';
import type { OrderRecord } from '../domain/order-record';
import {
  boundRecordSize,
  isItemTooLarge,
  itemTooLargeError,
  packRecord,
  RECORD_BUDGET_BYTES,
  unpackRecord,
} from '../domain/record-size';
import type { ExternalCall } from '../external-call';
import type { Provider } from '../queue/message';
import type { CreatedOrder, CreateOrderInput, OrderSystem } from './types';

/**
 * The ORDERS_TABLE (single-table design, key `pk` + `sk`):
 *
 * | item          | pk                                   | sk             | attributes |
 * |---------------|--------------------------------------|----------------|------------|
 * | order         | `ORDER#<provider>#<providerOrderId>` | `ORDER`        | `entity: "order"`, provider, providerOrderId, externalId, externalNumber, externalStateVersion, paid, stateVersion, status, paymentStatus, fulfilmentStatus, providerStatus, subscriptionStatus, placeholder, order (canonical order: customer, addresses, lineItems, totals, currency, references), transactions, sourceUpdatedAt, history[] ({at, deliveryKey, topic, field, from, to, providerStatus, outcome}), steps ({<step>: {status, qualifier, token, leaseUntil, result}}: the exactly-once state of create-order, push-state and the ReCharge write-backs), version, createdAt, updatedAt; `order` and `history` as raw-deflate JSON (`orderZ`, `historyZ`) once larger than 256 bytes (packRecord) |
 * | number counter| `COUNTER`                            | `ORDER_NUMBER` | `value`: numbers handed out so far |
 *
 * The order item is keyed by the provider reference, so "one external order per provider order" is
 * a property of the key: the external ids are set by a write conditioned on the item's version and
 * only when it has none (first writer wins), in the same write that completes its create-order step.
 * With ORDER_SYSTEM=http the same items hold the worker's view of each order (ids come from the
 * merchant's API).
 */

export const ORDER_SK = 'ORDER';
export const COUNTER_KEY = { pk: 'COUNTER', sk: 'ORDER_NUMBER' } as const;

/** The pk of the order item for a provider order. */
export function orderItemPk(ref: ProviderOrderRef): string {
  return `ORDER#${ref.provider}#${ref.orderId}`;
}

/** A document client that drops undefined fields (optional canonical fields are left out). */
export function ordersDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function toRecord(item: Record<string, unknown> | undefined): OrderRecord | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, entity: _entity, ...rest } = unpackRecord(item);
  return rest as unknown as OrderRecord;
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

  async get(ref: ProviderOrderRef): Promise<OrderRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: orderItemPk(ref), sk: ORDER_SK },
        ConsistentRead: true,
      }),
    );
    return toRecord(out.Item);
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
   * ALL_OLD), so the caller re-applies on it without a separate read.
   */
  async write(record: OrderRecord, expectedVersion: number | undefined): Promise<WriteOutcome> {
    const bounded = boundRecordSize(record, this.recordBudgetBytes).record;
    const next = { ...bounded, version: (expectedVersion ?? 0) + 1 };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: orderItemPk({ provider: record.provider, orderId: record.providerOrderId }),
            sk: ORDER_SK,
            entity: 'order',
            ...packRecord(next),
          },
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
          ExpressionAttributeValues: expectedVersion === undefined ? undefined : { ':v': expectedVersion },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { written: true, record: next };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return { written: false, current: error.Item ? toRecord(unmarshall(error.Item)) : undefined };
      if (isItemTooLarge(error)) throw itemTooLargeError(error);
      throw error;
    }
  }
}

/**
 * The built-in ledger as order system: order numbers from an atomic counter starting at
 * ORDER_NUMBER_START (strictly increasing; a number lost to a race is skipped, never reused), and an
 * external id derived from the provider reference, so even two racing creates agree on the id.
 */
export class LedgerOrderSystem implements OrderSystem {
  readonly kind = 'ledger' as const;
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly numberStart: number,
    /** Called after the number is issued or the write failed (the effect log line). */
    private readonly onCall?: (call: ExternalCall) => void,
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
    const out = await this.doc
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: COUNTER_KEY,
          UpdateExpression: 'ADD #value :one',
          ExpressionAttributeNames: { '#value': 'value' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      )
      .catch((error: unknown) => {
        report('error');
        throw error;
      });
    report('ok');
    const issued = Number(out.Attributes?.value);
    return {
      id: ledgerOrderId(input.ref),
      number: String(this.numberStart + issued - 1),
      heldVersion: input.version,
    };
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

/** Lists order items (a Scan: meant for the CLI and local mode, not for hot paths), newest first. */
export async function listOrders(
  client: DynamoDBClient,
  table: string,
  filter: OrderFilter = {},
): Promise<OrderRecord[]> {
  const doc = ordersDocumentClient(client);
  const names: Record<string, string> = { '#entity': 'entity' };
  const values: Record<string, unknown> = { ':order': 'order' };
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
  const records: OrderRecord[] = [];
  let scanned = 0;
  let start: ScanCommandInput['ExclusiveStartKey'];
  do {
    const out = await doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: clauses.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const record = toRecord(item);
      if (record) records.push(record);
    }
    scanned += out.ScannedCount ?? 0;
    filter.onProgress?.(scanned);
    start = out.LastEvaluatedKey;
  } while (start);
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
