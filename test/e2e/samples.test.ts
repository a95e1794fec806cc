import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { findSample, sampleBody } from '../../scripts/samples/index';
import type { OrderRecord } from '../../shared/domain/order-record';
import type { Provider } from '../../shared/queue/message';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { deliver, depths, orders, runCli } from './helpers/webhooks';

jest.setTimeout(200_000);

/**
 * Every built-in sample, sent over real HTTP to `npm start`'s local mode in the order a provider
 * would send an order's life, ends in the state the provider rules ask for; the fake ReCharge API
 * receives exactly the writes the order-sync guide prescribes (ids back on the order, and for
 * prepaid also on the charge), and nothing for our own echo or non-paid orders.
 */
// The 2021-11 run uses the esbuild bundles built with the stack's bundling options: what Lambda runs.
describe.each([
  ['2021-01', 'sources'],
  ['2021-11', 'Lambda bundles'],
] as const)('every sample end to end (ReCharge API %s, %s)', (version, code) => {
  let fake: FakeRecharge;
  let local: LocalProcess;
  const ids =
    version === '2021-01'
      ? { regular: '512300101', prepaid: '512300202', charge: '780100202', queued: '512300108' }
      : { regular: '512300303', prepaid: '512300404', charge: '780100404', queued: '512300310' };

  beforeAll(async () => {
    fake = await startFakeRecharge();
    local = await startLocalProcess({
      env: {
        RECHARGE_API_URL: fake.url,
        RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
        RECHARGE_API_VERSION: version,
      },
      bundled: code === 'Lambda bundles',
    });
  });
  afterAll(async () => {
    const code = await local?.stop();
    await fake?.close();
    expect(code).toBe(0);
  });

  async function send(provider: Provider, name: string): Promise<void> {
    const sample = findSample(provider, name);
    if (!sample) throw new Error(`no sample ${provider}/${name}`);
    const res = await deliver(local.state.apiUrl, {
      provider,
      body: sampleBody(sample),
      topic: sample.topic,
    });
    expect({ sample: name, status: res.status }).toEqual({ sample: name, status: 200 });
    // One at a time, as the provider's order life happens: wait until the worker has acknowledged it.
    await waitFor(
      async () => (await depths(local)).queueEmpty,
      `${provider}/${name} to be processed`,
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${local.problems()}`);
    });
  }

  const find = (all: OrderRecord[], provider: Provider, id: string) =>
    all.find((o) => o.provider === provider && o.providerOrderId === id);

  it('explains which secret the local mode expects when a send is rejected', async () => {
    const secretFile = path.join(mkdtempSync(path.join(tmpdir(), 'send-secret-')), 'secret');
    writeFileSync(secretFile, 'wrong\n', { mode: 0o600 });
    const { code, stdout, stderr } = await runCli(
      ['send', 'recharge', `${version}-created-regular`, '--secret-file', secretFile],
      local.stateFile,
    );

    expect(code).toBe(1);
    expect(stdout).toMatch(/^401 /);
    expect(stderr).toContain(
      'checks RECHARGE_WEBHOOK_SECRETS, which it runs on its development value "dev-recharge-client-secret"; drop --secret-file',
    );
  });

  it('reaches the expected final states and ReCharge receives exactly the expected PUTs', async () => {
    for (const name of ['created-regular', 'processed-regular', 'updated-regular', 'updated-refunded'])
      await send('recharge', `${version}-${name}`);
    for (const name of ['created-prepaid', 'processed-prepaid', 'updated-prepaid', 'created-queued'])
      await send('recharge', `${version}-${name}`);
    for (const name of [
      'transaction-pending',
      'transaction-approved',
      'transaction-declined',
      'order-expired',
      'subscription-active',
      'subscription-cancelled',
    ])
      await send('wix-cashier-pay', name);
    for (const name of ['pending', 'paid']) await send('sevi', name);

    if (code === 'Lambda bundles')
      // The bundles ran in a local mode on Node 24, as in Lambda, whatever Node runs jest.
      expect(local.output()).toContain("local mode is running (Lambda's esbuild bundles on Node v24.");
    const all = await orders(local);
    const regular = find(all, 'recharge', ids.regular);
    const prepaid = find(all, 'recharge', ids.prepaid);
    const queued = find(all, 'recharge', ids.queued);
    const wixPayment = find(all, 'wix-cashier-pay', 'a4f3c2d1-7b8e-4c5a-9d10-2f3e4a5b6c7d');
    const wixSubscription = find(all, 'wix-cashier-pay', 'b7c6d5e4-1f2a-4b3c-8d9e-0f1a2b3c4d5e');
    const sevi = find(all, 'sevi', 'SV-2026-004211');

    // Regular: pushed once on created/SUCCESS; the refund after it is recorded.
    expect(regular).toMatchObject({ status: 'refunded', externalId: expect.any(String) });
    expect(prepaid).toMatchObject({ status: 'paid', externalId: expect.any(String) });
    // Not paid: recorded, never pushed.
    expect(queued?.status).toBe('pending');
    expect(queued?.externalId).toBeUndefined();
    // A decline and an expiry arriving after the approval cannot undo the payment.
    expect(wixPayment?.status).toBe('paid');
    expect(wixSubscription?.subscriptionStatus).toMatch(/cancel/i);
    // Only PAID confirms a Sevi payment, which then moves the order to delivered.
    expect(sevi?.status).toBe('delivered');
    expect(all).toHaveLength(6);

    const idsBody = (o: OrderRecord | undefined) =>
      version === '2021-01'
        ? { external_order_id: o?.externalId, external_order_number: o?.externalNumber }
        : {
            external_order_id: { ecommerce: o?.externalId },
            external_order_number: { ecommerce: o?.externalNumber },
          };
    const puts = fake.applied().map((r) => ({ method: r.method, path: r.path, body: r.body }));
    expect(fake.applied().every((r) => r.headers['x-recharge-version'] === version)).toBe(true);
    expect(puts).toEqual(
      expect.arrayContaining([
        { method: 'PUT', path: `/orders/${ids.regular}`, body: idsBody(regular) },
        { method: 'PUT', path: `/orders/${ids.prepaid}`, body: idsBody(prepaid) },
        {
          method: 'PUT',
          path: `/charges/${ids.charge}`,
          body: expect.objectContaining({ external_order_id: expect.anything() }),
        },
      ]),
    );
    expect(puts).toHaveLength(3);
    const { dlq } = await depths(local);
    expect(dlq.visible + dlq.inFlight).toBe(0);
  });

  it('orders --id shows the write-backs of the prepaid order with their results', async () => {
    const { code, stdout } = await runCli(['orders', '--id', ids.prepaid], local.stateFile);

    expect(code).toBe(0);
    expect(stdout).toMatch(/create-order {2}COMPLETED {2}\{.*"id":"ord_/);
    expect(stdout).toMatch(/recharge-put-order \[ord_\w+\] {2}COMPLETED {2}\{"updated":true\}/);
    expect(stdout).toContain(`recharge-put-charge#${ids.charge}`);
    expect(stdout).toMatch(/order\/created {2}status - -> paid {2}applied/);
  });

  it('doctor prints a checklist with a fix for each failure and never a credential value', async () => {
    const { code, stdout } = await runCli(['doctor'], local.stateFile);

    // The CLI's environment lacks the RECHARGE_API_TOKEN this local mode was started with.
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /\[FAIL\] credential keys present: missing: RECHARGE_API_TOKEN \(ReCharge write-back\)\n +fix: /,
    );
    expect(stdout).toMatch(
      /\[ok\] +queue and dead-letter queue: queue 0 waiting, 0 in flight; dead-letter 0/,
    );
    expect(stdout).toMatch(/\[ok\] +worker last succeeded: last order change applied at 20\d\d-/);
    expect(stdout).not.toContain('dev-recharge-client-secret');
    expect(stdout).not.toContain(FAKE_RECHARGE_TOKEN);
  });

  it('stats counts the orders by provider', async () => {
    const { code, stdout } = await runCli(['stats'], local.stateFile);

    expect(code).toBe(0);
    expect(stdout).toMatch(/PROVIDER +ORDERS\nrecharge +3\nsevi +1\nwix-cashier-pay +2\ntotal +6/);
  });
});
