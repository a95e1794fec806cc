import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { samplePayload } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { deliver, depths, orders, runCli } from './helpers/webhooks';

jest.setTimeout(180_000);

// biome-ignore lint/suspicious/noExplicitAny: sample payloads are edited freely
type Json = Record<string, any>;

function paidRechargeOrder(id: number): string {
  const p = samplePayload<Json>('recharge', '2021-11-created-regular');
  p.order.id = id;
  return JSON.stringify(p);
}

/**
 * ReCharge's API misbehaving must never lose an order nor create a second external order; a
 * permanent refusal ends in the dead-letter queue with its reason and comes back with `dlq redrive`.
 */
describe('ReCharge API failures', () => {
  let fake: FakeRecharge;
  let local: LocalProcess;
  beforeAll(async () => {
    fake = await startFakeRecharge();
    local = await startLocalProcess({
      env: { RECHARGE_API_URL: fake.url, RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN },
    });
  });
  afterAll(async () => {
    await local?.stop();
    await fake?.close();
  });

  const failed = (status: number) => fake.requests.filter((r) => r.status === status).length;

  it('completes everything once ReCharge recovers from 500s and then 429s, with one external order each', async () => {
    const ids = [810000001, 810000002, 810000003];
    // Every call fails until the worker has seen the failures asked for: however the worker batches
    // and retries, there is work left when each phase ends.
    fake.setBehaviour({ mode: 500 });
    for (const id of ids)
      expect(
        (
          await deliver(local.state.apiUrl, {
            provider: 'recharge',
            body: paidRechargeOrder(id),
            topic: 'order/created',
          })
        ).status,
      ).toBe(200);

    // The outage is driven by what the worker has seen, not by the clock: 500s, then 429s, then healthy.
    await waitFor(() => failed(500) >= 4, 'four 500 answers');
    fake.setBehaviour({ mode: 429 });
    await waitFor(() => failed(429) >= 3, 'three 429 answers');
    fake.setBehaviour({ mode: 'ok' });

    await waitFor(async () => (await depths(local)).queueEmpty, 'the queue to drain', 120_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${local.problems()}`);
      },
    );
    const all = (await orders(local)).filter((o) => ids.map(String).includes(o.providerOrderId));
    expect(all).toHaveLength(3);
    for (const order of all) {
      expect(order.externalId).toEqual(expect.any(String));
      const writes = fake.applied().filter((r) => r.path === `/orders/${order.providerOrderId}`);
      expect(writes.length).toBeGreaterThanOrEqual(1);
      // Every write carries the one external order of this ReCharge order.
      for (const w of writes)
        expect(w.body).toMatchObject({ external_order_id: { ecommerce: order.externalId } });
    }
    expect(new Set(all.map((o) => o.externalNumber)).size).toBe(3);
    const { dlq } = await depths(local);
    expect(dlq.visible + dlq.inFlight).toBe(0);
  });

  it('sends a permanent 404 to the dead-letter queue with its reason, and `dlq redrive` completes it once ReCharge answers', async () => {
    const id = 820000001;
    fake.setBehaviour({ mode: 404, pathPrefix: `/orders/${id}` });
    expect(
      (
        await deliver(local.state.apiUrl, {
          provider: 'recharge',
          body: paidRechargeOrder(id),
          topic: 'order/created',
        })
      ).status,
    ).toBe(200);
    await waitFor(
      async () => (await depths(local)).dlq.visible === 1,
      'the message in the dead-letter queue',
      60_000,
    );

    const list = await runCli(['dlq', 'list', '--json'], local.stateFile);
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.stdout);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      provider: 'recharge',
      topic: 'order/created',
      failureClass: 'permanent',
      failureReason: expect.stringMatching(/404/),
    });
    expect(entries[0].failedAt).toEqual(expect.any(String));
    // Listing does not consume: the message is still there.
    expect((await depths(local)).dlq.visible).toBe(1);

    fake.setBehaviour({ mode: 'ok' });
    const redrive = await runCli(['dlq', 'redrive', '--json'], local.stateFile);
    expect(redrive.code).toBe(0);
    expect(JSON.parse(redrive.stdout)).toMatchObject({ moved: 1 });

    await waitFor(
      async () => {
        const d = await depths(local);
        const order = (await orders(local)).find((o) => o.providerOrderId === String(id));
        return (
          d.queueEmpty &&
          d.dlq.visible + d.dlq.inFlight === 0 &&
          fake.applied().some((r) => r.path === `/orders/${id}`) &&
          order
        );
      },
      'the redriven order to complete',
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${local.problems()}`);
    });
    const order = (await orders(local)).find((o) => o.providerOrderId === String(id));
    const writes = fake.applied().filter((r) => r.path === `/orders/${id}`);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.body).toMatchObject({ external_order_id: { ecommerce: order?.externalId } });
  });
});
