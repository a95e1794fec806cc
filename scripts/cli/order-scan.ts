import {
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { OrderRecord } from '../../shared/domain/order-record';
import { getOrderByProviderRef, listOrders } from '../../shared/order-system/ledger';
import { PROVIDERS, type Provider } from '../../shared/queue/message';

/**
 * What reading the orders table costs, in the operator's terms. The orders table has no index but
 * its key (provider + provider order id): a GSI would cost a write on every order write to save
 * reads an operator makes now and then, so the CLI reads by key where it can and otherwise says
 * what the Scan costs before it starts, and shows its progress.
 */
export interface TableSize {
  items: number;
  bytes: number;
}

/** DynamoDB's own figures (refreshed about every six hours); undefined when DescribeTable is refused. */
export async function tableSize(dynamo: DynamoDBClient, table: string): Promise<TableSize | undefined> {
  try {
    const out = await dynamo.send(new DescribeTableCommand({ TableName: table }));
    return { items: out.Table?.ItemCount ?? 0, bytes: out.Table?.TableSizeBytes ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * Read units a whole-table Scan consumes: eventually consistent, half a unit per 4 KB read (DynamoDB
 * adds up the sizes of the items it reads, whatever the filter or projection keeps).
 */
export function scanReadUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4096 / 2));
}

/** One line before a Scan of the orders table: how much it reads, in items, MB and read units. */
export function scanCostLine(what: string, size: TableSize | undefined): string {
  if (!size)
    return `${what} reads the whole orders table (its size is unknown: dynamodb:DescribeTable not allowed)`;
  const mb = (size.bytes / 1_000_000).toFixed(size.bytes < 10_000_000 ? 2 : 0);
  return `${what} reads the whole orders table: about ${size.items} items, ${mb} MB, ${scanReadUnits(size.bytes)} read units`;
}

/**
 * The orders `--id` names. By key first: one Query of the order's partition per provider (or only `provider`), with the id
 * as that provider's order id. Only when none is found, the id is looked for as an external id,
 * which has no key: a Scan, announced with its cost through `onScan`.
 */
export async function findOrdersById(
  dynamo: DynamoDBClient,
  table: string,
  id: string,
  options: {
    provider?: Provider;
    onScan?: (line: string) => void;
    onProgress?: (scanned: number) => void;
  } = {},
): Promise<OrderRecord[]> {
  const providers = options.provider ? [options.provider] : [...PROVIDERS];
  const byKey = (
    await Promise.all(
      providers.map((provider) => getOrderByProviderRef(dynamo, table, { provider, orderId: id })),
    )
  ).filter((o): o is OrderRecord => o !== undefined);
  if (byKey.length > 0) return byKey;
  options.onScan?.(
    scanCostLine(
      `no order with provider order id ${id}; looking for it as an external id or number`,
      await tableSize(dynamo, table),
    ),
  );
  const all = await listOrders(dynamo, table, { provider: options.provider, onProgress: options.onProgress });
  return all.filter((o) => o.externalId === id || o.externalNumber === id);
}

/** Orders by status and provider, from a Scan that reads only those two attributes back. */
export async function countOrders(
  dynamo: DynamoDBClient,
  table: string,
  onProgress: (scanned: number) => void = () => undefined,
): Promise<{ total: number; byStatus: Record<string, number>; byProvider: Record<string, number> }> {
  const byStatus: Record<string, number> = {};
  const byProvider: Record<string, number> = {};
  let total = 0;
  let scanned = 0;
  let start: ScanCommandInput['ExclusiveStartKey'];
  do {
    const out = await dynamo.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#entity = :order',
        ProjectionExpression: '#provider, #status',
        ExpressionAttributeNames: { '#entity': 'entity', '#provider': 'provider', '#status': 'status' },
        ExpressionAttributeValues: { ':order': { S: 'order' } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const status = item.status?.S ?? 'unknown';
      const provider = item.provider?.S ?? 'unknown';
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      byProvider[provider] = (byProvider[provider] ?? 0) + 1;
      total += 1;
    }
    scanned += out.ScannedCount ?? 0;
    onProgress(scanned);
    start = out.LastEvaluatedKey;
  } while (start);
  return { total, byStatus, byProvider };
}
