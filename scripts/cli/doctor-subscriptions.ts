import { type RechargeApiVersion, RechargeClient } from '../../shared/recharge-api/client';
import { MemoryRateBudget } from '../../shared/recharge-api/rate-budget';
import { listWebhooks } from '../../shared/recharge-api/webhooks';
import { planSubscriptions } from '../../shared/reconcile/subscription-guard';

export interface SubscriptionsCheckInput {
  rechargeApiUrl: string;
  rechargeApiVersion: string;
  token: string;
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
  const client = new RechargeClient({
    baseUrl: input.rechargeApiUrl,
    version: input.rechargeApiVersion as RechargeApiVersion,
    token: async () => input.token,
    timeoutMs: 5000,
    // One listing: ReCharge's bucket (40, 2/s) is never the limit here.
    budget: new MemoryRateBudget({ capacity: 40, perSecond: 2 }),
  });
  const existing = await listWebhooks(client, Date.now() + 15_000);
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
