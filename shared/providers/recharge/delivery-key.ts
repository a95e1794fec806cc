import { sha256Hex } from '../../ingest/crypto';

/**
 * ReCharge sends no delivery id, and a retry re-sends the identical body, so the key is the
 * SHA-256 of topic and raw body: identical on every redelivery, different for each real change.
 */
export function rechargeDeliveryKey(topic: string, body: Buffer): string {
  return `recharge:${sha256Hex(topic, '\n', body)}`;
}
