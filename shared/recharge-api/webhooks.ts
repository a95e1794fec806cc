import * as z from 'zod';
import { TransientError } from '../errors';
import type { RechargeClient } from './client';
import { listPages, RECHARGE_PAGE_LIMIT } from './pages';

/** One webhook subscription as ReCharge lists it (other fields are ignored). */
export const rechargeWebhookSchema = z.object({
  id: z.union([z.number(), z.string()]).transform(String),
  address: z.string(),
  topic: z.string(),
});
export type RechargeWebhook = z.infer<typeof rechargeWebhookSchema>;

/**
 * `GET /webhooks`: the subscriptions made with this token (ReCharge lists no others). Entries
 * that do not parse are skipped rather than failing the check: the guard only acts on ones it can read.
 */
export async function listWebhooks(client: RechargeClient, deadline: number): Promise<RechargeWebhook[]> {
  const out: RechargeWebhook[] = [];
  for await (const page of listPages(client, 'webhooks', `/webhooks?limit=${RECHARGE_PAGE_LIMIT}`, deadline))
    for (const item of page) {
      const parsed = rechargeWebhookSchema.safeParse(item);
      if (parsed.success) out.push(parsed.data);
    }
  return out;
}

/**
 * `POST /webhooks` with `{address, topic}`: the body both API versions document (2021-11's optional
 * `included_objects` is left out, so the order topics carry the order as they do today).
 */
export async function createWebhook(
  client: RechargeClient,
  subscription: { address: string; topic: string },
  deadline: number,
): Promise<RechargeWebhook> {
  const answer = await client.call(
    'POST',
    '/webhooks',
    { address: subscription.address, topic: subscription.topic },
    deadline,
  );
  const parsed = z.object({ webhook: rechargeWebhookSchema }).safeParse(answer.body);
  if (!parsed.success) throw new TransientError('recharge POST /webhooks answered without the webhook');
  return parsed.data.webhook;
}
