import { samplePayload } from '../../scripts/samples/index';
import type { ProxyEventLike } from '../../shared/ingest/api-gateway';
import { signRechargeBody } from '../../shared/providers/recharge/signature';
import { wixHookPath } from '../../shared/providers/wix-cashier-pay/signature';

/**
 * The cost benchmark's traffic, in slots of ten: 3 new ReCharge orders (every other one prepaid),
 * 3 updates of earlier orders (`order/updated`, `order/processed`), 2 duplicates (an earlier
 * delivery sent again, byte for byte, as a provider retry), 1 Wix Cashier Pay and 1 Sevi payment
 * event. ReCharge bodies carry extra line items so the average body is `targetBytes`.
 */
// biome-ignore lint/suspicious/noExplicitAny: free-form provider JSON
type Json = Record<string, any>;

export interface MixRequest {
  kind: 'new-regular' | 'new-prepaid' | 'update' | 'duplicate' | 'wix' | 'sevi';
  event: ProxyEventLike;
}

export function buildMix(
  count: number,
  targetBytes: number,
  secrets: { RECHARGE_WEBHOOK_SECRETS: string; WIX_CASHIER_PAY_TOKENS: string; SEVI_WEBHOOK_TOKENS: string },
): { requests: MixRequest[]; rechargeOrders: Json[]; summary: Record<string, unknown> } {
  const base = 700_000_000 + Math.floor(Math.random() * 1000) * 100_000;
  const requests: MixRequest[] = [];
  const rechargeOrders: Json[] = [];
  const sent: ProxyEventLike[] = [];
  // ReCharge bodies sized so the mix averages targetBytes (the small Wix and Sevi bodies included).
  const rechargeTarget = Math.round((targetBytes * 10 - 350 - 900) / 8);

  // The stack's default API type: an HTTP API event (payload format 2.0).
  const event = (path: string, body: string, headers: Record<string, string>): ProxyEventLike => ({
    version: '2.0',
    rawPath: path,
    routeKey: `POST ${path}`,
    body,
    isBase64Encoded: false,
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method: 'POST', path }, requestId: `cost-${requests.length}` },
  });
  const recharge = (topic: string, order: Json): ProxyEventLike => {
    const body = JSON.stringify({ order });
    return event(`/webhooks/recharge/${topic}`, body, {
      'x-recharge-topic': topic,
      ...signRechargeBody(body, secrets.RECHARGE_WEBHOOK_SECRETS.split(',')[0] as string),
    });
  };
  const padded = (order: Json): Json => {
    const first = order.line_items[0];
    for (let i = 1; JSON.stringify({ order }).length < rechargeTarget; i++)
      order.line_items.push({
        ...first,
        purchase_item_id: first.purchase_item_id + i,
        sku: `${first.sku}-${i}`,
        title: `${first.title} (${i})`,
      });
    return order;
  };

  for (let i = 0; requests.length < count; i++) {
    const slot = i % 10;
    const id = base + i;
    if (slot < 3) {
      const prepaid = slot % 2 === 0;
      const { order } = samplePayload<{ order: Json }>(
        'recharge',
        prepaid ? '2021-11-created-prepaid' : '2021-11-created-regular',
      );
      order.id = id;
      order.charge.id = id + 50_000;
      padded(order);
      rechargeOrders.push(order);
      const e = recharge('order/created', order);
      sent.push(e);
      requests.push({ kind: prepaid ? 'new-prepaid' : 'new-regular', event: e });
    } else if (slot < 6) {
      const order = structuredClone(
        rechargeOrders[rechargeOrders.length - 1 - (slot - 3)] ?? rechargeOrders[0],
      );
      if (!order) continue;
      order.updated_at = new Date(Date.parse(`${order.updated_at}Z`) + (slot + 1) * 60_000)
        .toISOString()
        .slice(0, 19);
      const topic = slot === 5 ? 'order/processed' : 'order/updated';
      if (slot === 4) order.note = `gift wrap, change ${i}`;
      const e = recharge(topic, order);
      sent.push(e);
      requests.push({ kind: 'update', event: e });
    } else if (slot < 8) {
      const again = sent[sent.length - 1 - (slot - 6) * 2];
      if (!again) continue;
      requests.push({ kind: 'duplicate', event: { ...again } });
    } else if (slot === 8) {
      const payload = samplePayload<Json>('wix-cashier-pay', 'transaction-approved');
      payload.transactionEvent.transactionId = `tx-cost-${id}`;
      payload.transactionEvent.orderId = `wix-cost-${id}`;
      const token = secrets.WIX_CASHIER_PAY_TOKENS.split(',')[0] as string;
      requests.push({ kind: 'wix', event: event(wixHookPath(token), JSON.stringify(payload), {}) });
    } else {
      const payload = samplePayload<Json>('sevi', 'paid');
      payload.order.id = `SV-COST-${id}`;
      requests.push({
        kind: 'sevi',
        event: event('/webhooks/sevi', JSON.stringify(payload), {
          authorization: secrets.SEVI_WEBHOOK_TOKENS.split(',')[0] as string,
        }),
      });
    }
  }
  const kinds: Record<string, number> = {};
  let bytes = 0;
  for (const r of requests) {
    kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
    bytes += Buffer.byteLength(String(r.event.body));
  }
  const share = (n: number) => Math.round((n / requests.length) * 1000) / 10;
  return {
    requests,
    rechargeOrders,
    summary: {
      webhooks: requests.length,
      newRechargeOrdersPercent: share((kinds['new-regular'] ?? 0) + (kinds['new-prepaid'] ?? 0)),
      prepaidOfNewPercent: Math.round(
        ((kinds['new-prepaid'] ?? 0) / ((kinds['new-regular'] ?? 0) + (kinds['new-prepaid'] ?? 0))) * 100,
      ),
      updatesPercent: share(kinds.update ?? 0),
      duplicatesPercent: share(kinds.duplicate ?? 0),
      wixSeviPaymentEventsPercent: share((kinds.wix ?? 0) + (kinds.sevi ?? 0)),
      averageBodyBytes: Math.round(bytes / requests.length),
    },
  };
}
