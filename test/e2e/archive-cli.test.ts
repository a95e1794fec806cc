import path from 'node:path';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { samplePayload } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, tempDir, waitFor } from './helpers/local-process';
import { deliver, orders, runCli } from './helpers/webhooks';

jest.setTimeout(360_000);

// biome-ignore lint/suspicious/noExplicitAny: sample payloads are edited freely
type Json = Record<string, any>;

/**
 * The local mode archives like the stack (fauxqs's S3, kept in the data folder), and the CLI answers
 * "what did they send us" and replays: `archive list`, `archive show`, `replay --dry-run`, `replay`.
 */
describe('archive and replay through the local mode and the CLI', () => {
  let fake: FakeRecharge;
  let local: LocalProcess | undefined;
  const data = tempDir('e2e-archive-');
  const stateFile = path.join(data.dir, 'endpoints.json');
  const orderId = 840_000_001;

  beforeAll(async () => {
    fake = await startFakeRecharge();
  });
  afterAll(async () => {
    await local?.stop();
    await fake?.close();
    data.remove();
  });

  it('lists and shows what was received, replays it without a second write-back, and keeps the archive across restarts', async () => {
    const env = { RECHARGE_API_URL: fake.url, RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN };
    local = await startLocalProcess({ dataDir: data.dir, stateFile, env });
    const created = samplePayload<Json>('recharge', '2021-11-created-regular');
    created.order.id = orderId;
    const processed = samplePayload<Json>('recharge', '2021-11-processed-regular');
    processed.order.id = orderId;
    // A body beyond the SQS limit rides the claim check.
    processed.order.padding = 'x'.repeat(3 * 1024 * 1024);
    for (const [payload, topic] of [
      [created, 'order/created'],
      [processed, 'order/processed'],
    ] as const) {
      const answer = await deliver(local.state.apiUrl, {
        provider: 'recharge',
        body: JSON.stringify(payload),
        topic,
      });
      expect(answer.status).toBe(200);
    }
    const synced = async () =>
      (await orders(local as LocalProcess)).find((o) => o.providerOrderId === String(orderId));
    await waitFor(
      async () => (await synced())?.externalId !== undefined && fake.applied().length > 0,
      'the order to sync',
    );
    await waitFor(async () => {
      const listed = await runCli(
        ['archive', 'list', '--provider', 'recharge', '--order', String(orderId), '--json'],
        stateFile,
      );
      return (JSON.parse(listed.stdout || '[]') as unknown[]).length === 2;
    }, 'both deliveries to be archived');
    const writesBefore = fake.applied().length;

    const list = await runCli(
      ['archive', 'list', '--provider', 'recharge', '--order', String(orderId)],
      stateFile,
    );
    const rows = JSON.parse(
      (
        await runCli(
          ['archive', 'list', '--provider', 'recharge', '--order', String(orderId), '--json'],
          stateFile,
        )
      ).stdout,
    ) as { key: string; topic: string; bytes: number }[];
    const show = await runCli(['archive', 'show', (rows[0] as { key: string }).key], stateFile);
    const dryRun = await runCli(
      ['replay', '--provider', 'recharge', '--order', String(orderId), '--dry-run'],
      stateFile,
    );
    const replay = await runCli(['replay', '--provider', 'recharge', '--order', String(orderId)], stateFile);

    expect(list.code).toBe(0);
    expect(list.stdout).toContain('order/created');
    expect(list.stdout).toContain('2 webhook(s)');
    expect(rows.map((r) => r.topic).sort()).toEqual(['order/created', 'order/processed']);
    expect(Math.max(...rows.map((r) => r.bytes))).toBeGreaterThan(3 * 1024 * 1024);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('verification: recharge-hmac-sha256-v1');
    expect(show.stdout).toContain(`"id": ${orderId}`);
    expect(dryRun.stdout).toContain('dry run: nothing sent');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/replayed 2 webhook\(s\) as run /);
    await waitFor(
      async () => (await synced())?.history.some((h) => h.origin === 'replay') ?? false,
      'the replay to be applied',
    );
    expect(fake.applied()).toHaveLength(writesBefore);

    await local.stop();
    local = await startLocalProcess({ dataDir: data.dir, stateFile, env });
    const again = await runCli(
      ['archive', 'list', '--provider', 'recharge', '--order', String(orderId), '--json'],
      stateFile,
    );
    expect((JSON.parse(again.stdout) as unknown[]).length).toBe(2);
  });
});
