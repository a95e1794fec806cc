import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * Exactly-once bookkeeping in DynamoDB (IDEMPOTENCY_TABLE, key `pk`, TTL attribute `expiresAt`).
 *
 * Why hand-written conditional writes rather than Powertools idempotency: Powertools keys one
 * record per handler/function call and has no notion of resuming a half-done sequence of external
 * effects; we need one record per delivery and one per effect (keyed by provider order, not by
 * delivery), a claim that returns the stored result in the same round trip, and leases we can test.
 *
 * Item: `{pk, status: IN_PROGRESS|COMPLETED, token, leaseUntil (epoch ms), expiresAt (epoch s), result?}`.
 * - delivery records: `pk = delivery#<deliveryKey>`
 * - step records:     `pk = step#<provider>:<orderId>#<step>[#<qualifier>]`
 */

export type Claim<T> =
  | { state: 'acquired'; token: string; takenOver: boolean }
  | { state: 'completed'; result: T | undefined }
  | { state: 'busy'; leaseUntil: number };

export interface IdempotencyStoreOptions {
  client: DynamoDBClient;
  table: string;
  /** How long completed records are remembered (>= 72 h: ReCharge retries for 48 h). */
  ttlSeconds: number;
  /** An in-progress record older than this is taken over (its owner crashed or timed out). */
  leaseSeconds: number;
  now?: () => number;
}

/** Claims, completes and releases idempotency records with single conditional writes. */
export class IdempotencyStore {
  private readonly now: () => number;
  constructor(private readonly options: IdempotencyStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Claims `pk` for this attempt: acquired when absent, expired, or in progress past its lease;
   * otherwise returns the completed result or `busy`. One round trip: a failed condition returns
   * the existing item.
   */
  async claim<T = unknown>(pk: string): Promise<Claim<T>> {
    const now = this.now();
    const token = randomUUID();
    try {
      const out = await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.table,
          Item: marshall({
            pk,
            status: 'IN_PROGRESS',
            token,
            leaseUntil: now + this.options.leaseSeconds * 1000,
            expiresAt: Math.floor(now / 1000) + this.options.ttlSeconds,
          }),
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt < :nowSec OR (#status = :inProgress AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: marshall({
            ':now': now,
            ':nowSec': Math.floor(now / 1000),
            ':inProgress': 'IN_PROGRESS',
          }),
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { state: 'acquired', token, takenOver: out.Attributes !== undefined };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshall(error.Item) : undefined;
      if (old?.status === 'COMPLETED') return { state: 'completed', result: old.result as T | undefined };
      return { state: 'busy', leaseUntil: Number(old?.leaseUntil ?? 0) };
    }
  }

  /**
   * Marks a claimed record completed with its result. Returns false when the claim was lost
   * (the lease expired and another attempt took over): the caller logs it; the work is done.
   */
  async complete(pk: string, token: string, result?: unknown): Promise<boolean> {
    const now = this.now();
    const values: Record<string, unknown> = {
      ':completed': 'COMPLETED',
      ':token': token,
      ':expiresAt': Math.floor(now / 1000) + this.options.ttlSeconds,
    };
    if (result !== undefined) values[':result'] = result;
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: marshall({ pk }),
          UpdateExpression: `SET #status = :completed, expiresAt = :expiresAt${result !== undefined ? ', #result = :result' : ''} REMOVE leaseUntil`,
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#token': 'token',
            ...(result !== undefined ? { '#result': 'result' } : {}),
          },
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives a claim back after a failure so the redelivery can start at once (best effort). */
  async release(pk: string, token: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteItemCommand({
          TableName: this.options.table,
          Key: marshall({ pk }),
          ConditionExpression: '#token = :token AND #status = :inProgress',
          ExpressionAttributeNames: { '#token': 'token', '#status': 'status' },
          ExpressionAttributeValues: marshall({ ':token': token, ':inProgress': 'IN_PROGRESS' }),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** Key of a delivery record. */
export function deliveryRecordKey(deliveryKey: string): string {
  return `delivery#${deliveryKey}`;
}

/** Key of a step record: per provider order, so two deliveries about one order share it. */
export function stepRecordKey(orderKey: string, step: string, qualifier?: string): string {
  return `step#${orderKey}#${step}${qualifier ? `#${qualifier}` : ''}`;
}
