import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Provider } from '../queue/message';

/** The reconciler's item in ORDERS_TABLE: one per provider, beside the orders and the counter. */
export const RECONCILE_STATE_SK = 'STATE';
export const RECONCILE_PK_PREFIX = 'RECONCILE#';

export function reconcileStateKey(provider: Provider) {
  return { pk: `${RECONCILE_PK_PREFIX}${provider}`, sk: RECONCILE_STATE_SK };
}

export interface ReconcileState {
  /** ISO time the last complete pass started: the next pass lists from here minus the overlap. */
  watermark?: string;
  lastPassAt?: string;
  lastOutcome?: 'completed' | 'failed';
  /** Failed passes since the last complete one (the "two in a row" alarm reads this). */
  failuresInARow?: number;
  /**
   * Topics of the ReCharge subscriptions of ours the guard has seen: a missing one of these is a
   * re-creation (an alarm); any other missing one is a first registration.
   */
  subscriptionsSeen?: string[];
}

export interface ReconcileStateStore {
  get(provider: Provider): Promise<ReconcileState>;
  /** A whole pass was enqueued: move the watermark forwards (never back) and reset the failure count. */
  recordCompleted(provider: Provider, watermark: string, at: string): Promise<void>;
  /** A pass failed: the watermark stays; returns the failures in a row including this one. */
  recordFailed(provider: Provider, at: string, reason: string): Promise<number>;
  /** Remembers the topics of our subscriptions seen (written only when the set changed). */
  recordSubscriptionsSeen(provider: Provider, topics: readonly string[]): Promise<void>;
}

/**
 * The watermark in DynamoDB (an item in ORDERS_TABLE keyed `RECONCILE#<provider>`, which the
 * orders listing never returns: its entity is not "order"). Two passes at once (the schedule and
 * the CLI) are safe: the watermark only moves forwards, by a conditional update.
 */
export function makeStateStore(doc: DynamoDBDocumentClient, table: string): ReconcileStateStore {
  return {
    async get(provider) {
      const out = await doc.send(
        new GetCommand({ TableName: table, Key: reconcileStateKey(provider), ConsistentRead: true }),
      );
      return (out.Item ?? {}) as ReconcileState;
    },
    async recordCompleted(provider, watermark, at) {
      const common = {
        TableName: table,
        Key: reconcileStateKey(provider),
        ExpressionAttributeNames: { '#entity': 'entity' },
      };
      try {
        await doc.send(
          new UpdateCommand({
            ...common,
            UpdateExpression:
              'SET #entity = :entity, watermark = :w, lastPassAt = :at, lastOutcome = :ok, failuresInARow = :zero',
            ConditionExpression: 'attribute_not_exists(watermark) OR watermark < :w',
            ExpressionAttributeValues: {
              ':entity': 'reconcile-state',
              ':w': watermark,
              ':at': at,
              ':ok': 'completed',
              ':zero': 0,
            },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another pass already moved it further: keep that, record only the outcome.
        await doc.send(
          new UpdateCommand({
            ...common,
            UpdateExpression:
              'SET #entity = :entity, lastPassAt = :at, lastOutcome = :ok, failuresInARow = :zero',
            ExpressionAttributeValues: {
              ':entity': 'reconcile-state',
              ':at': at,
              ':ok': 'completed',
              ':zero': 0,
            },
          }),
        );
      }
    },
    async recordFailed(provider, at, reason) {
      const out = await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: reconcileStateKey(provider),
          UpdateExpression:
            'SET #entity = :entity, lastPassAt = :at, lastOutcome = :failed, lastError = :reason ADD failuresInARow :one',
          ExpressionAttributeNames: { '#entity': 'entity' },
          ExpressionAttributeValues: {
            ':entity': 'reconcile-state',
            ':at': at,
            ':failed': 'failed',
            ':reason': reason.slice(0, 256),
            ':one': 1,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.failuresInARow ?? 1);
    },
    async recordSubscriptionsSeen(provider, topics) {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: reconcileStateKey(provider),
          UpdateExpression: 'SET #entity = :entity, subscriptionsSeen = :topics',
          ExpressionAttributeNames: { '#entity': 'entity' },
          ExpressionAttributeValues: { ':entity': 'reconcile-state', ':topics': [...topics].sort() },
        }),
      );
    },
  };
}
