import { createHash } from 'node:crypto';

/**
 * ReCharge sends no delivery id, and a retry re-sends the identical body, so the key is the
 * SHA-256 of topic and raw body: identical on every redelivery, different for each real change.
 */
export function rechargeDeliveryKey(topic: string, body: Buffer): string {
  return `recharge:${createHash('sha256').update(topic).update('\n').update(body).digest('hex')}`;
}
