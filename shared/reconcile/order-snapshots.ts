import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../errors';
import { ORDER_SK, orderItemPk } from '../order-system/ledger';
import type { Provider } from '../queue/message';
import type { OrderSnapshot } from './types';

/** BatchGetItem's limit per call. */
const BATCH_KEYS = 100;
const UNPROCESSED_ATTEMPTS = 6;

export interface SnapshotReaderOptions {
  doc: DynamoDBDocumentClient;
  table: string;
  /** Steps of the order item to read too (`steps.<name>`, projected): the source's snapshotSteps. */
  steps?: readonly string[];
  /** Called once per BatchGetItem call (metrics, benchmark). */
  onCall?: () => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads the worker's order items for many provider orders with BatchGetItem (100 keys a call,
 * strongly consistent so an order the worker just applied is not reported behind, and projected
 * to the fields the behind rule needs). Keys DynamoDB leaves unprocessed are retried with back-off;
 * still unprocessed after that is a TransientError (the pass fails and the watermark stays).
 */
export function makeSnapshotReader(options: SnapshotReaderOptions) {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const stepNames = Object.fromEntries((options.steps ?? []).map((name, i) => [`#step${i}`, name]));
  const stepPaths = Object.keys(stepNames).map((alias) => `steps.${alias}`);
  return async (provider: Provider, orderIds: readonly string[]): Promise<Map<string, OrderSnapshot>> => {
    const found = new Map<string, OrderSnapshot>();
    const unique = [...new Set(orderIds)];
    for (let i = 0; i < unique.length; i += BATCH_KEYS) {
      let keys: Record<string, unknown>[] = unique
        .slice(i, i + BATCH_KEYS)
        .map((orderId) => ({ pk: orderItemPk({ provider, orderId }), sk: ORDER_SK }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= UNPROCESSED_ATTEMPTS)
          throw new TransientError(`BatchGetItem left ${keys.length} keys unprocessed`);
        if (attempt > 0) await sleep(50 * 2 ** attempt);
        options.onCall?.();
        const out = await options.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [options.table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: [
                  'providerOrderId, #status, providerStatus, sourceUpdatedAt, externalId, externalNumber',
                  ...stepPaths,
                ].join(', '),
                ExpressionAttributeNames: { '#status': 'status', ...stepNames },
              },
            },
          }),
        );
        for (const item of out.Responses?.[options.table] ?? []) {
          const snapshot = item as OrderSnapshot;
          found.set(String(snapshot.providerOrderId), snapshot);
        }
        keys = (out.UnprocessedKeys?.[options.table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return found;
  };
}
