import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { samplePayload } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { type Delivery, deliverWithRetries, depths, orders, withConcurrency } from './helpers/webhooks';

jest.setTimeout(240_000);

// biome-ignore lint/suspicious/noExplicitAny: sample payloads are edited freely
type Json = Record<string, any>;

/** Unique orders: ReCharge (paid, pushed and written back; and queued), Wix approvals, Sevi payments. */
function uniqueDeliveries(): { delivery: Delivery; provider: string; id: string; pushed: boolean }[] {
  const out: { delivery: Delivery; provider: string; id: string; pushed: boolean }[] = [];
  for (let n = 0; n < 600; n++) {
    const p = samplePayload<Json>('sevi', 'paid');
    p.order.id = `SV-BURST-${n}`;
    p.order.referenceNumber = `REF-${n}`;
    out.push({
      delivery: { provider: 'sevi', body: JSON.stringify(p) },
      provider: 'sevi',
      id: p.order.id,
      pushed: true,
    });
  }
  for (let n = 0; n < 600; n++) {
    const p = samplePayload<Json>('wix-cashier-pay', 'transaction-approved');
    p.transactionEvent.orderId = `wix-burst-${n}`;
    p.transactionEvent.transactionId = `tx-burst-${n}`;
    out.push({
      delivery: { provider: 'wix-cashier-pay', body: JSON.stringify(p) },
      provider: 'wix-cashier-pay',
      id: p.transactionEvent.orderId,
      pushed: true,
    });
  }
  // ReCharge's API allows 40 calls then 2/s per token; the worker honours that, so only 30 of the
  // 300 ReCharge orders are paid ones that need a write-back (the rest are queued orders).
  for (let n = 0; n < 300; n++) {
    const paid = n < 30;
    const p = samplePayload<Json>('recharge', paid ? '2021-11-created-regular' : '2021-11-created-queued');
    p.order.id = 700_000_000 + n;
    out.push({
      delivery: { provider: 'recharge', body: JSON.stringify(p), topic: 'order/created' },
      provider: 'recharge',
      id: String(p.order.id),
      pushed: paid,
    });
  }
  return out;
}

/** A small deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('a mixed burst of 2,000 webhooks from 50 concurrent senders', () => {
  let fake: FakeRecharge;
  let local: LocalProcess;
  beforeAll(async () => {
    fake = await startFakeRecharge();
    local = await startLocalProcess({
      env: {
        RECHARGE_API_URL: fake.url,
        RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
        LOCAL_CONCURRENCY: '8',
        // Two cores run the senders, the fake ReCharge, the emulators and the worker: give a batch
        // room so a slow answer is not taken for a failure.
        LOCAL_VISIBILITY_TIMEOUT_SECONDS: '20',
        LOCAL_WORKER_TIMEOUT_SECONDS: '20',
        IDEMPOTENCY_LEASE_SECONDS: '25',
      },
      // The burst runs on what ships: the Lambda bundles on Node 24 (the samples cover the sources too).
      bundled: true,
    });
  });
  afterAll(async () => {
    await local?.stop();
    await fake?.close();
  });

  it('processes every valid one exactly once, rejects every forged one with 401 and never queues it', async () => {
    const random = rng(42);
    const unique = uniqueDeliveries();
    const duplicates = Array.from(
      { length: 400 },
      () => unique[Math.floor(random() * unique.length)] as (typeof unique)[number],
    );
    const forged = Array.from({ length: 100 }, (_, n) => {
      const p = samplePayload<Json>('sevi', 'paid');
      p.order.id = `SV-FORGED-${n}`;
      return {
        delivery: { provider: 'sevi', body: JSON.stringify(p), forged: true } as Delivery,
        id: p.order.id,
      };
    });
    const all = [
      ...unique.map((u) => ({ ...u.delivery, kind: 'unique' as const })),
      ...duplicates.map((u) => ({ ...u.delivery, kind: 'duplicate' as const })),
      ...forged.map((f) => ({ ...f.delivery, kind: 'forged' as const })),
    ];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [all[i], all[j]] = [all[j] as (typeof all)[number], all[i] as (typeof all)[number]];
    }
    expect(all).toHaveLength(2000);

    const responses = await withConcurrency(all, 50, async (d) => ({
      kind: d.kind,
      ...(await deliverWithRetries(local.state.apiUrl, d)),
    }));

    const byKind = (kind: string) => responses.filter((r) => r.kind === kind);
    expect(byKind('forged').every((r) => r.status === 401)).toBe(true);
    // A 503 (the queue did not confirm within the ingest's budget on a loaded machine) is retried
    // by the sender, as providers do; every valid webhook ends accepted.
    expect(responses.filter((r) => r.kind !== 'forged').every((r) => r.status === 200)).toBe(true);

    await waitFor(async () => (await depths(local)).queueEmpty, 'the queue to drain', 180_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${local.problems()}`);
      },
    );

    const ledger = await orders(local);
    const key = (provider: string, id: string) => `${provider}/${id}`;
    const inLedger = new Map(ledger.map((o) => [key(o.provider, o.providerOrderId), o]));
    // Every distinct valid webhook made exactly one order; no forged one made any.
    expect(ledger).toHaveLength(unique.length);
    expect(unique.every((u) => inLedger.has(key(u.provider, u.id)))).toBe(true);
    expect(forged.some((f) => inLedger.has(key('sevi', f.id)))).toBe(false);
    // Exactly once: no delivery applied the same change twice, one external order per pushed order.
    for (const order of ledger) {
      const changes = order.history.map((h) => `${h.deliveryKey}|${h.field}|${h.to ?? ''}|${h.outcome}`);
      expect(new Set(changes).size).toBe(changes.length);
    }
    const pushed = ledger.filter((o) => o.externalId);
    expect(pushed).toHaveLength(unique.filter((u) => u.pushed).length);
    expect(new Set(pushed.map((o) => o.externalNumber)).size).toBe(pushed.length);
    // ReCharge got write-backs for exactly the paid ReCharge orders, each with one set of ids. (A
    // write whose answer came too late for the worker is read back before it is sent again; if that
    // read fails too, it is retried with the same ids: harmless, and never a second external order.)
    const puts = fake.applied();
    const bodiesByPath = new Map<string, Set<string>>();
    for (const r of puts)
      bodiesByPath.set(r.path, (bodiesByPath.get(r.path) ?? new Set()).add(JSON.stringify(r.body)));
    expect([...bodiesByPath.keys()].sort()).toEqual(
      unique
        .filter((u) => u.provider === 'recharge' && u.pushed)
        .map((u) => `/orders/${u.id}`)
        .sort(),
    );
    for (const [path, bodies] of bodiesByPath)
      expect({ path, distinctBodies: bodies.size }).toEqual({ path, distinctBodies: 1 });
    for (const order of pushed.filter((o) => o.provider === 'recharge')) {
      const body = [...(bodiesByPath.get(`/orders/${order.providerOrderId}`) ?? [])][0] ?? '{}';
      expect(JSON.parse(body).external_order_id).toEqual({ ecommerce: order.externalId });
    }

    // The books balance: received = processed + duplicates + ignored + rejected.
    const deliveryKeys = responses
      .filter((r) => r.status === 200)
      .map((r) => JSON.parse(r.text).deliveryKey as string);
    const ignored = responses.filter(
      (r) => r.status === 200 && JSON.parse(r.text).status === 'ignored',
    ).length;
    const processed = new Set(deliveryKeys).size;
    const duplicateCount = deliveryKeys.length - processed - ignored;
    const rejected = responses.filter((r) => r.status === 401).length;
    expect({ received: responses.length, processed, duplicates: duplicateCount, ignored, rejected }).toEqual({
      received: 2000,
      processed: unique.length,
      duplicates: 400,
      ignored: 0,
      rejected: 100,
    });
    expect(processed + duplicateCount + ignored + rejected).toBe(responses.length);

    const { dlq } = await depths(local);
    expect(dlq.visible + dlq.inFlight + dlq.delayed).toBe(0);
  });
});
