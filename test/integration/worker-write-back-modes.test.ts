import { makeHandler } from '../../functions/worker/handler';
import { METRIC } from '../../shared/metrics';
import { getOrderByProviderRef } from '../../shared/order-system/ledger';
import {
  createWorkerWorld,
  type JsonObject,
  lambdaContext,
  must,
  sampleWebhook,
  sqsEvent,
  throughQueue,
  type WorkerWorld,
} from '../support/fake-worker';

let world: WorkerWorld;
beforeAll(async () => {
  world = await createWorkerWorld();
});
afterAll(async () => {
  await world.close();
});
beforeEach(() => world.recharge.reset());

const SHOPIFY_ORDER_ID = '5960373420095';
let nextId = 950_000_000 + Math.floor(Math.random() * 1_000_000) * 10;

describe.each(['2021-01', '2021-11'] as const)('ReCharge write-back modes, API %s', (version) => {
  /** An external id field as `version` sends it. */
  const field = (value: string | null) => (version === '2021-01' ? value : { ecommerce: value });
  const ourBody = (id: string, number: string) =>
    version === '2021-01'
      ? { external_order_id: id, external_order_number: number }
      : { external_order_id: { ecommerce: id }, external_order_number: { ecommerce: number } };

  /** Processes one `order/created` (prepaid or not; its field held by Shopify or empty) in `mode`. */
  async function process(mode: string, options: { prepaid?: boolean; heldByShopify?: boolean } = {}) {
    nextId += 10;
    const id = nextId;
    const name = `${version}-created-${options.prepaid ? 'prepaid' : 'regular'}`;
    const webhook = sampleWebhook('recharge', name, (p: JsonObject) => {
      p.order.id = id;
      if (p.order.charge) p.order.charge.id = id + 1;
      else p.order.charge_id = id + 1;
      if (options.heldByShopify) {
        p.order.external_order_id = field(SHOPIFY_ORDER_ID);
        p.order.external_order_number = field('#1042');
      }
    });
    const deps = world.deps({ env: { RECHARGE_API_VERSION: version, RECHARGE_WRITE_BACK: mode } });
    const [record] = await throughQueue(world.sqs, world.queues.queueUrl, [webhook]);
    const result = await makeHandler(deps)(sqsEvent([must(record)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    const stored = must(
      await getOrderByProviderRef(world.dynamo, world.tables.orders, {
        provider: 'recharge',
        orderId: String(id),
      }),
    );
    return { orderId: String(id), chargeId: String(id + 1), deps, stored };
  }
  const requests = () => world.recharge.requests.filter((r) => !r.path.startsWith('/__fake'));

  it('fill (the default) writes where the field is empty: one PUT, no read', async () => {
    const { orderId, stored, deps } = await process('fill');

    expect(requests().map((r) => `${r.method} ${r.path}`)).toEqual([`PUT /orders/${orderId}`]);
    expect(requests()[0]?.body).toEqual(ourBody(must(stored.externalId), must(stored.externalNumber)));
    expect(stored.steps?.['recharge-put-order']).toMatchObject({ status: 'COMPLETED' });
    expect(stored.steps?.['recharge-put-order']?.result).toEqual({ updated: true });
    expect(deps.metrics.counts[METRIC.writeBackKept]).toBeUndefined();
  });

  it("fill never replaces another integration's ids, on the order or its charge, and the order, a log line and a metric say so", async () => {
    const { stored, deps, orderId } = await process('fill', { prepaid: true, heldByShopify: true });

    expect(stored.externalId).toBeTruthy();
    expect(requests()).toEqual([]);
    expect(stored.steps?.['recharge-put-order']).toMatchObject({
      status: 'COMPLETED',
      result: { updated: false, outcome: 'held-by-other', held: { id: SHOPIFY_ORDER_ID, number: '#1042' } },
    });
    expect(deps.metrics.counts[METRIC.writeBackKept]).toBe(1);
    expect(deps.log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'recharge write-back kept ids of another integration',
        extra: expect.objectContaining({ orderId, held: { id: SHOPIFY_ORDER_ID, number: '#1042' } }),
      }),
    );
  });

  it("fill learns what ReCharge holds after an uncertain PUT and keeps another integration's ids found there", async () => {
    // The first PUT answers 500 without applying; meanwhile another integration wrote the field.
    nextId += 10;
    world.recharge.orders.set(String(nextId + 10), {
      id: nextId + 10,
      external_order_id: field(SHOPIFY_ORDER_ID),
      external_order_number: field('#1044'),
    });
    world.recharge.setBehaviour({ mode: 500, method: 'PUT', times: 1 });
    const { orderId, stored } = await process('fill');
    world.recharge.orders.delete(orderId);

    expect(requests().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `PUT /orders/${orderId} 500`,
      `GET /orders/${orderId} 200`,
    ]);
    expect(stored.steps?.['recharge-put-order']?.result).toEqual({
      updated: false,
      outcome: 'held-by-other',
      held: { id: SHOPIFY_ORDER_ID, number: '#1044' },
    });
  });

  it("overwrite (opt-in) replaces another integration's ids, and records what it replaced", async () => {
    const { orderId, stored, deps } = await process('overwrite', { heldByShopify: true });

    expect(requests().map((r) => `${r.method} ${r.path}`)).toEqual([`PUT /orders/${orderId}`]);
    expect(requests()[0]?.body).toEqual(ourBody(must(stored.externalId), must(stored.externalNumber)));
    expect(stored.steps?.['recharge-put-order']?.result).toEqual({
      updated: true,
      mode: 'overwrite',
      replaced: { id: SHOPIFY_ORDER_ID, number: '#1042' },
    });
    expect(deps.log.lines.map((l) => l.message)).toContain(
      'recharge write-back replaced ids of another integration',
    );
  });

  it('shadow records what it would write, on the order and its charge, and calls ReCharge for nothing', async () => {
    const { stored, deps, chargeId } = await process('shadow', { prepaid: true });

    expect(requests()).toEqual([]);
    expect(stored.steps?.['recharge-put-order']).toMatchObject({
      status: 'COMPLETED',
      qualifier: `${stored.externalId}:shadow`,
      result: {
        updated: false,
        outcome: 'shadow',
        wouldWrite: { id: stored.externalId, number: stored.externalNumber },
        chargeId,
      },
    });
    expect(deps.metrics.counts[METRIC.writeBackShadow]).toBe(1);
  });

  it("shadow records that fill would keep another integration's ids", async () => {
    const { stored } = await process('shadow', { heldByShopify: true });

    expect(requests()).toEqual([]);
    const result = stored.steps?.['recharge-put-order']?.result as Record<string, unknown>;
    expect(result).toMatchObject({ outcome: 'shadow', held: { id: SHOPIFY_ORDER_ID } });
    expect(result.wouldWrite).toBeUndefined();
  });

  it('off writes nothing and keeps no write-back step; the order is still created', async () => {
    const { stored } = await process('off', { prepaid: true });

    expect(stored.externalId).toBeTruthy();
    expect(requests()).toEqual([]);
    expect(Object.keys(stored.steps ?? {}).filter((s) => s.startsWith('recharge-'))).toEqual([]);
  });
});
