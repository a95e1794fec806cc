import { sha256Hex } from '../../ingest/crypto';

/**
 * ReCharge sends no delivery id, and a retry re-sends the identical body, so the key is the
 * SHA-256 of the raw body: identical on every redelivery, different for each real change. The
 * topic is left out: it rides in an unsigned header (or the route), so a captured body re-sent
 * under another topic must still be the same delivery. The worker takes the order's state from
 * the body, never from the topic, so nothing is lost when two topics carry one body.
 */
export function rechargeDeliveryKey(body: Buffer): string {
  return `recharge:${sha256Hex(body)}`;
}
