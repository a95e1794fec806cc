import { ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { StepState } from '../../shared/domain/order-record';
import {
  PUT_ORDER_STEP,
  REPAIR_STEP,
  rechargeWriteBackState,
  STOP_STEP,
} from '../../shared/providers/recharge/write-back';
import type { Target } from './target';

export interface StoppedWriteBack {
  orderId: string;
  reason: string;
  held?: { id?: string; number?: string };
}

/** How many stopped orders the check names (the rest are counted). */
const NAMED = 10;

/**
 * The ReCharge orders whose write-back stopped (a fight: our ids gone again after one repair, or
 * another integration's ids where ours were). Only orders the repair ever touched carry these steps,
 * so the scan is filtered and projected to them; it still reads the whole orders table once
 * (billed per 4 KB read), like `worker last succeeded`.
 */
export async function findStoppedWriteBacks(
  target: Pick<Target, 'dynamo' | 'ordersTable'>,
): Promise<StoppedWriteBack[]> {
  const found: StoppedWriteBack[] = [];
  let start: ScanCommandInput['ExclusiveStartKey'];
  do {
    const out = await target.dynamo.send(
      new ScanCommand({
        TableName: target.ordersTable,
        FilterExpression:
          '#entity = :order AND provider = :recharge AND (attribute_exists(#steps.#stop) OR attribute_exists(#steps.#repair))',
        ExpressionAttributeNames: {
          '#entity': 'entity',
          '#steps': 'steps',
          '#put': PUT_ORDER_STEP,
          '#repair': REPAIR_STEP,
          '#stop': STOP_STEP,
        },
        ExpressionAttributeValues: { ':order': { S: 'order' }, ':recharge': { S: 'recharge' } },
        ProjectionExpression: 'providerOrderId, externalId, #steps.#put, #steps.#repair, #steps.#stop',
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of out.Items ?? []) {
      const item = unmarshall(raw) as {
        providerOrderId?: string;
        externalId?: string;
        steps?: Record<string, StepState>;
      };
      const state = rechargeWriteBackState(item.steps, item.externalId);
      if (state.state === 'stopped')
        found.push({
          orderId: String(item.providerOrderId),
          reason: state.reason,
          ...(state.held ? { held: state.held } : {}),
        });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
}

/** The doctor line for them: ok, or a warning naming the orders and what to do. */
export function describeStoppedWriteBacks(stopped: StoppedWriteBack[]) {
  if (stopped.length === 0)
    return { status: 'ok' as const, detail: 'no ReCharge write-back stopped (no fight over external ids)' };
  const named = stopped
    .slice(0, NAMED)
    .map((s) => `${s.orderId} (${s.reason}${s.held?.id ? `, holds ${s.held.id}` : ''})`)
    .join(', ');
  const more = stopped.length > NAMED ? ` and ${stopped.length - NAMED} more` : '';
  return {
    status: 'warn' as const,
    detail: `${stopped.length} ReCharge order(s) whose write-back stopped: ${named}${more}`,
    fix: 'another integration (or a ReCharge rule) keeps replacing our ids: settle which one owns external_order_id; `order-webhooks orders --id <id>` shows each order (docs/operations.md)',
  };
}
