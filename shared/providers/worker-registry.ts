import type { ParsedWebhook } from '../domain/order-event';
import type { Provider, QueuedWebhook } from '../queue/message';
import type { FollowUpContext, FollowUpStep } from '../worker/types';
import { parseRechargeWebhook, rechargeFollowUps } from './recharge/process';
import { parseSeviWebhook } from './sevi/process';
import { parseWixWebhook } from './wix-cashier-pay/process';

/** What the worker needs from a provider: turn a queued webhook into an order event, and any follow-up calls. */
export interface WorkerProvider {
  /** Throws PermanentError when the payload fails its schema. */
  parse(webhook: QueuedWebhook): ParsedWebhook;
  /** Effects back at the provider once the order exists externally (ReCharge write-back), in order. */
  followUps?(ctx: FollowUpContext): FollowUpStep[];
  /**
   * Topics that usually announce an order not stored yet: the worker writes the new item at once
   * (conditional on its absence) instead of reading first; a refused write returns the stored item.
   */
  newOrderTopics?: readonly string[];
}

/** One line per provider. */
export const WORKER_PROVIDERS: Record<Provider, WorkerProvider> = {
  recharge: { parse: parseRechargeWebhook, followUps: rechargeFollowUps, newOrderTopics: ['order/created'] },
  'wix-cashier-pay': { parse: parseWixWebhook },
  sevi: { parse: parseSeviWebhook },
};
