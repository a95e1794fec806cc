import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type RechargeApiVersion, RechargeClient } from '../../shared/recharge-api/client';
import {
  gcraParams,
  MemoryRateBudget,
  type RateBudget,
  rateBudgetPk,
  rateBudgetScope,
  sharedRateBudget,
} from '../../shared/recharge-api/rate-budget';
import { listWebhooks } from '../../shared/recharge-api/webhooks';
import { planSubscriptions } from '../../shared/reconcile/subscription-guard';

export interface DoctorRechargeInput {
  rechargeApiUrl: string;
  rechargeApiVersion: string;
  token: string;
  /** The target's idempotency table: doctor's calls take their slots from the token's shared budget. */
  budgetTable?: { dynamo: DynamoDBClient; table: string };
  env?: NodeJS.ProcessEnv;
}

/**
 * A ReCharge client for doctor's few calls. With the target's idempotency table they go through the
 * same rate budget as the workers and the reconciler (a renewal day's drain is not pushed into 429s
 * by a check); without it (a bare environment) a private bucket of ReCharge's size.
 */
function rateLimits(env: NodeJS.ProcessEnv) {
  return {
    RECHARGE_RATE_CAPACITY: Number(env.RECHARGE_RATE_CAPACITY || 40),
    RECHARGE_RATE_PER_SECOND: Number(env.RECHARGE_RATE_PER_SECOND || 2),
  };
}

/** How much of the token's shared ReCharge budget is taken: slots scheduled ahead of now, of the usable depth. */
export interface BudgetUse {
  used: number;
  limit: number;
}

/**
 * Reads the token's budget item (one GetItem on the idempotency table, keyed by a hash of the token,
 * never the token) and turns its theoretical arrival time into slots in use: (tat - now) / interval.
 */
export async function readRechargeBudgetUse(
  input: Required<Pick<DoctorRechargeInput, 'token' | 'budgetTable'>> & { env?: NodeJS.ProcessEnv },
  now = Date.now(),
): Promise<BudgetUse> {
  const limits = rateLimits(input.env ?? {});
  const { intervalMs, limit } = gcraParams({
    capacity: limits.RECHARGE_RATE_CAPACITY,
    perSecond: limits.RECHARGE_RATE_PER_SECOND,
  });
  const out = await input.budgetTable.dynamo.send(
    new GetItemCommand({
      TableName: input.budgetTable.table,
      Key: { pk: { S: rateBudgetPk(rateBudgetScope(input.token)) } },
      ProjectionExpression: 'tat',
    }),
  );
  const tat = Number(out.Item?.tat?.N ?? 0);
  return { used: Math.min(limit, Math.max(0, Math.ceil((tat - now) / intervalMs))), limit };
}

export function doctorRechargeClient(input: DoctorRechargeInput): RechargeClient {
  const limits = rateLimits(input.env ?? {});
  const budget: RateBudget = input.budgetTable
    ? sharedRateBudget(input.budgetTable.dynamo, input.budgetTable.table, limits)
    : new MemoryRateBudget({
        capacity: limits.RECHARGE_RATE_CAPACITY,
        perSecond: limits.RECHARGE_RATE_PER_SECOND,
      });
  return new RechargeClient({
    baseUrl: input.rechargeApiUrl,
    version: input.rechargeApiVersion as RechargeApiVersion,
    token: async () => input.token,
    timeoutMs: 5000,
    budget,
  });
}

export interface SubscriptionsCheckInput extends DoctorRechargeInput {
  /** The base ReCharge calls: PUBLIC_BASE_URL / WEBHOOK_API_URL, or the local mode's URL. */
  baseUrl: string;
  topics: readonly string[];
}

/**
 * Do ReCharge's subscriptions point at our URLs? Lists the token's webhooks (`GET /webhooks`) and
 * compares them with `<base>/webhooks/recharge/<topic>` for each topic, as `recharge-webhooks check`
 * and the reconciler's guard do (planSubscriptions). Read-only: the fix is `recharge-webhooks register`.
 */
export async function checkRechargeSubscriptions(
  input: SubscriptionsCheckInput,
): Promise<{ status: 'ok' | 'fail'; detail: string; fix?: string }> {
  const existing = await listWebhooks(doctorRechargeClient(input), Date.now() + 15_000);
  const plan = planSubscriptions(existing, input.baseUrl, input.topics);
  if (plan.missing.length > 0)
    return {
      status: 'fail',
      detail: `ReCharge does not send ${plan.missing.map((m) => m.topic).join(', ')} to ${input.baseUrl} (missing: ${plan.missing.map((m) => m.address).join(', ')}; ${plan.foreign.length} other subscription(s) of this token left alone)`,
      fix: '`order-webhooks recharge-webhooks register` (add --aws and --url <ApiUrl or custom domain> for the stack)',
    };
  return {
    status: 'ok',
    detail: `all ${plan.expected.length} topics (${input.topics.join(', ')}) go to ${input.baseUrl}/webhooks/recharge/...`,
  };
}
