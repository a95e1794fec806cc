import { type DynamoDBClient, ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { OrderRecord } from '../../shared/domain/order-record';

/** One external effect of an order as its idempotency step record holds it. */
export interface OrderEffect {
  /** create-order, push-status, recharge-put-order, recharge-put-charge#<chargeId>, ... */
  step: string;
  /** The step's qualifier (status pushed, external id written back), if any. */
  qualifier?: string;
  /** COMPLETED, or IN_PROGRESS while an attempt holds it (or crashed holding it). */
  status: string;
  result?: unknown;
}

/**
 * The write-backs and pushes of one order: its step records in the idempotency table
 * (`step#<provider>:<orderId>#<step>[#<qualifier>]`). A Scan with a key prefix: the table has no
 * index by order, and this is for one order on a command line, not for a hot path.
 */
export async function listOrderEffects(
  client: DynamoDBClient,
  table: string,
  order: Pick<OrderRecord, 'provider' | 'providerOrderId'>,
): Promise<OrderEffect[]> {
  const prefix = `step#${order.provider}:${order.providerOrderId}#`;
  const effects: OrderEffect[] = [];
  let start: ScanCommandInput['ExclusiveStartKey'];
  do {
    const out = await client.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': { S: prefix } },
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of out.Items ?? []) {
      const item = unmarshall(raw);
      const rest = String(item.pk).slice(prefix.length);
      // Step names may carry their own `#<id>` (recharge-put-charge#<chargeId>); the qualifier is last.
      const parts = rest.split('#');
      const step = parts[0]?.startsWith('recharge-put-charge')
        ? parts.slice(0, 2).join('#')
        : (parts[0] ?? rest);
      const qualifier = parts.slice(step.split('#').length).join('#') || undefined;
      effects.push({ step, qualifier, status: String(item.status), result: item.result });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return effects.sort((a, b) => a.step.localeCompare(b.step));
}

/** The order's history and effects as text, under its table row. */
export function formatOrderDetail(order: OrderRecord, effects: OrderEffect[] | undefined): string {
  const lines = ['', `${order.provider} ${order.providerOrderId}: history (newest last)`];
  for (const h of order.history) {
    const change = h.from || h.to ? ` ${h.from ?? '-'} -> ${h.to ?? '-'}` : '';
    const extra = [
      h.providerStatus && `provider status ${h.providerStatus}`,
      h.transactionId && `transaction ${h.transactionId}`,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${h.at}  ${h.topic}  ${h.field}${change}  ${h.outcome}${extra ? `  (${extra})` : ''}`);
  }
  lines.push('', 'write-backs and pushes (step records)');
  if (!effects) lines.push('  (not known: set IDEMPOTENCY_TABLE to see them)');
  else if (effects.length === 0) lines.push('  none');
  for (const e of effects ?? [])
    lines.push(
      `  ${e.step}${e.qualifier ? ` [${e.qualifier}]` : ''}  ${e.status}${e.result !== undefined ? `  ${JSON.stringify(e.result)}` : ''}`,
    );
  return lines.join('\n');
}
