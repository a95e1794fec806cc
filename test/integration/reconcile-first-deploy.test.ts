import { ATTENTION, METRIC } from '../../shared/metrics';
import { ordersDocumentClient } from '../../shared/order-system/ledger';
import { runReconcilePass } from '../../shared/reconcile/pass';
import { runScheduledReconcile } from '../../shared/reconcile/run';
import { makeStateStore } from '../../shared/reconcile/state-store';
import { createReconcileWorld, type ReconcileWorld, rechargeOrder } from '../support/reconcile-world';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().slice(0, 19);
/** What the NeedsAttention alarm watches, per reason, as one run counted it (empty is calm). */
const alarmed = (metrics: { attention: Record<string, number> }) => metrics.attention;

describe('a first deploy is calm and predictable', () => {
  let world: ReconcileWorld;
  beforeAll(async () => {
    world = await createReconcileWorld('2021-11');
  }, 30_000);
  afterAll(async () => {
    await world?.close();
  });

  it('walks through an empty secret, the first runs, a backfill by hand and a real loss, alarming only on the loss', async () => {
    // Arrange: orders from before the deploy: one changed 30 minutes ago, one two hours ago.
    const recent = rechargeOrder('2021-11', { updatedAt: minutesAgo(30) });
    const older = rechargeOrder('2021-11', { updatedAt: minutesAgo(120) });
    await world.recharge.upsertOrder(recent);
    await world.recharge.upsertOrder(older);

    // Act 1: scheduled runs while the secret holds no API token (default lookback).
    const empty = world.reconcileDeps({ RECHARGE_API_TOKEN: '' });
    const skipped = [
      await runScheduledReconcile(empty, Date.now() + 30_000),
      await runScheduledReconcile(empty, Date.now() + 30_000),
    ];

    // Assert 1: skipped quietly, said in the log, nothing called, nothing alarmed.
    expect(skipped.map((r) => r.pass.outcome)).toEqual(['not-configured', 'not-configured']);
    expect(world.recharge.requests).toEqual([]);
    expect(alarmed(empty.metrics)).toEqual({});
    expect(empty.log.lines.filter((l) => l.message === 'reconcile skipped: not configured yet')).toHaveLength(
      2,
    );
    expect(empty.log.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);

    // Act 2: the secret is filled; the first scheduled run.
    const first = world.reconcileDeps();
    const run = await runScheduledReconcile(first, Date.now() + 30_000);
    await world.settle();

    // Assert 2: the last hour only (the default lookback) is backfilled, counted apart from missed
    // webhooks; the guard's first registration of each topic is no "recreated" alarm.
    expect(run.pass).toMatchObject({ outcome: 'completed', backfill: true });
    expect(run.pass.behindOrders.map((o) => o.orderId)).toEqual([String(recent.id)]);
    expect(first.metrics.counts[METRIC.reconcileBackfilled]).toBe(1);
    expect(run.guard?.outcome).toBe('registered');
    expect(run.guard?.registered.map((s) => s.topic).sort()).toEqual([
      'order/created',
      'order/processed',
      'order/updated',
    ]);
    expect(first.metrics.counts[METRIC.subscriptionRegistered]).toBe(3);
    expect(alarmed(first.metrics)).toEqual({});
    expect(first.log.lines.filter((l) => l.message === 'webhook subscription recreated')).toEqual([]);

    // Act 3: older orders by hand: first what would be re-queued, then for real.
    const state = makeStateStore(ordersDocumentClient(world.dynamo), world.tables.orders);
    const watermark = (await state.get('recharge')).watermark;
    const cli = world.reconcileDeps();
    const since = Date.now() - 3 * 3600_000;
    const dryRun = await runReconcilePass(cli.ports, {
      deadline: Date.now() + 30_000,
      overlapSeconds: 3600,
      lookbackSeconds: 3600,
      sinceMs: since,
      dryRun: true,
    });
    expect(dryRun).toMatchObject({ outcome: 'dry-run', enqueued: 0 });
    // (The recent order may show too: its write-back's echo can come before the guard registered.)
    expect(dryRun.behindOrders).toContainEqual({ orderId: String(older.id), reason: 'never-seen' });
    expect((await state.get('recharge')).watermark).toBe(watermark);
    const backfill = await runReconcilePass(cli.ports, {
      deadline: Date.now() + 30_000,
      overlapSeconds: 3600,
      lookbackSeconds: 3600,
      sinceMs: since,
    });
    await world.settle();
    expect(backfill).toMatchObject({ outcome: 'completed', enqueued: dryRun.behind });
    expect(alarmed(cli.metrics)).toEqual({});
    expect(cli.metrics.counts[METRIC.reconcileBackfilled]).toBe(dryRun.behind + backfill.behind);

    // Act 4: ReCharge deletes one of our subscriptions; the next scheduled run.
    const victim = world.recharge.webhooks.findIndex((w) => w.topic === 'order/processed');
    world.recharge.webhooks.splice(victim, 1);
    const later = world.reconcileDeps();
    const again = await runScheduledReconcile(later, Date.now() + 30_000);

    // Assert 4: that one is a re-creation, and alarms.
    expect(again.guard?.recreated.map((s) => s.topic)).toEqual(['order/processed']);
    expect(alarmed(later.metrics)).toEqual({ [ATTENTION.subscriptionRecreated]: 1 });
  }, 240_000);
});
