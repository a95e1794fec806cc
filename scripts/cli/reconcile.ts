import { parseArgs } from 'node:util';
import { runReconcilePass } from '../../shared/reconcile/pass';
import { formatTable } from './orders';
import { cliReconcileDeps, RECHARGE_TARGET_HELP } from './recharge-context';
import { TARGET_HELP, TARGET_OPTIONS, UsageError } from './target';

export const RECONCILE_HELP = `Usage: order-webhooks reconcile [--since 2d|ISO] [--dry-run] [options]

One reconciliation pass now: lists the ReCharge orders changed since the watermark (minus the
overlap; the first pass looks back RECONCILE_LOOKBACK_SECONDS), reads our records of them, and
enqueues every order that is behind as a synthetic delivery for the worker. Prints listed / in sync /
behind / enqueued. The watermark moves only when the whole pass was enqueued.

Backfill older orders (the first pass looks back one hour by default): first see what would be
re-queued with --since 3d --dry-run, then run the same without --dry-run. A pass with --since counts
its orders as a backfill (ReconcileOrdersBackfilled), not as missed webhooks.

Options:
  --since <2d|36h|ISO>  list from here instead of the watermark (goes further back on purpose)
  --dry-run             report what is behind; enqueue nothing, leave the watermark
  --json                machine-readable output
${TARGET_HELP}
${RECHARGE_TARGET_HELP}
  -h, --help`;

/** `2d`, `36h`, `90m`, `600s`, or an ISO time; returns epoch ms. */
export function parseSince(value: string, now = Date.now()): number {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(relative[1]) * unit * 1000;
  }
  const ms = Date.parse(/([zZ]|[+-]\d\d:?\d\d)$/.test(value) || !value.includes('T') ? value : `${value}Z`);
  if (Number.isNaN(ms))
    throw new UsageError(`--since: expected 2d, 36h, 90m, 600s or an ISO time, got "${value}"`);
  return ms;
}

export async function runReconcile(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(`${RECONCILE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const sinceMs = values.since === undefined ? undefined : parseSince(values.since);
  const { deps } = await cliReconcileDeps(values);
  const result = await runReconcilePass(deps.ports, {
    deadline: Date.now() + 14 * 60_000,
    overlapSeconds: deps.env.RECONCILE_OVERLAP_SECONDS,
    lookbackSeconds: deps.env.RECONCILE_LOOKBACK_SECONDS,
    ...(sinceMs === undefined ? {} : { sinceMs }),
    dryRun: values['dry-run'] === true,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.outcome === 'failed' ? 1 : 0;
  }
  process.stdout.write(
    `${formatTable(
      ['SINCE', 'LISTED', 'IN SYNC', 'BEHIND', 'ENQUEUED', 'OUTCOME'],
      [
        [
          result.since,
          String(result.listed),
          String(result.inSync),
          String(result.behind),
          String(result.enqueued),
          result.outcome,
        ],
      ],
    )}\n`,
  );
  if (result.behindOrders.length > 0)
    process.stdout.write(
      `\n${formatTable(
        ['ORDER', 'WHY BEHIND'],
        result.behindOrders.map((o) => [o.orderId, o.reason]),
      )}\n`,
    );
  if (result.unreadable > 0)
    process.stdout.write(`\n${result.unreadable} orders could not be read (see the log)\n`);
  if (result.outcome === 'failed') {
    process.stderr.write(`error: pass failed: ${result.error}; the watermark did not move\n`);
    return 1;
  }
  return 0;
}
