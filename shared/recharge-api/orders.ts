import type { RechargeClient } from './client';
import { listPages, RECHARGE_PAGE_LIMIT } from './pages';

/** ReCharge filters take `YYYY-MM-DDTHH:MM:SS` without a zone (its timestamps are UTC here too). */
export function rechargeFilterTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/**
 * `GET /orders?updated_at_min=...&limit=250`, page after page (see listPages for both pagination
 * styles). Orders come back exactly as ReCharge sent them, so a synthetic delivery can carry the
 * same object a webhook would.
 */
export function listOrdersUpdatedSince(
  client: RechargeClient,
  sinceMs: number,
  deadline: number,
): AsyncGenerator<unknown[]> {
  const first = `/orders?updated_at_min=${rechargeFilterTime(sinceMs)}&limit=${RECHARGE_PAGE_LIMIT}`;
  return listPages(client, 'orders', first, deadline);
}
