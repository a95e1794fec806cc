import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { ArchiveEntry } from '../../shared/archive/archive';
import { newReplayRunId, planReplay, replayDeliveryKey, sendReplay } from '../../shared/archive/replay';
import type { S3Archive } from '../../shared/archive/s3-archive';
import { makeSqsSender } from '../../shared/queue/sqs-sender';
import { QUEUE_DEFAULTS } from '../../shared/resources';
import { archiveOf, describeEntries, listTable, QUERY_OPTIONS, queryFrom } from './archive';
import {
  CliError,
  confirmAws,
  need,
  progress,
  progressDone,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  type Target,
  UsageError,
} from './target';

export const REPLAY_HELP = `Usage: order-webhooks replay --provider <p> [filters] [options]

Sends archived webhooks again through the normal queue, marked as replays (origin "replay",
delivery key replay:<run>:<original key>). The worker applies them like any delivery: the stored
order is updated from the payload (e.g. after a mapping fix), while step idempotency forbids a
second external order or a second identical write-back, so replaying is always safe. Prints what
it will send first, in \`archive list\`'s order; asks before sending more than 100 (in AWS: before
sending any) unless --yes.

Filters (as in \`order-webhooks archive list\`):
  --provider <p>       required
  --from <iso>         received at or after (default: 24 hours before --to)
  --to <iso>           received before (default: now)
  --order <id>         only this provider order
  --delivery <key>     only this delivery key

Options:
  --dry-run            print the plan, send nothing
  --yes, -y            do not ask, whatever the count or target
${TARGET_HELP}
  -h, --help`;

/** Above this many webhooks, replay asks (or needs --yes). */
export const CONFIRM_ABOVE = 100;

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Sends archived webhooks to the target's main queue as replays of run `runId` (`replay` and the
 * console); returns how many were sent. Stops at the first failure: running it again is safe.
 */
export function replayEntries(
  target: Target,
  archive: S3Archive,
  entries: readonly ArchiveEntry[],
  runId: string,
  onSent?: (index: number) => void,
): Promise<number> {
  const sender = makeSqsSender(target.sqs, need(target.queueUrl, 'QUEUE_URL'), 10_000);
  return sendReplay(
    entries,
    runId,
    {
      reader: archive,
      claims: archive,
      send: (webhook) => sender.send(webhook),
      maxMessageBytes: QUEUE_DEFAULTS.maximumMessageSizeBytes,
    },
    (_entry, index) => onSent?.(index),
  );
}

export async function runReplay(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...QUERY_OPTIONS,
      'dry-run': { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(`${REPLAY_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const query = queryFrom(values);
  const target = await resolveTarget(values);
  const archive = archiveOf(target);
  need(target.queueUrl, 'QUEUE_URL');

  const entries = await planReplay(archive, query);
  if (entries.length === 0) {
    process.stdout.write('no archived webhooks match: nothing to replay\n');
    return 0;
  }
  const runId = newReplayRunId();
  const rows = await describeEntries(archive, entries);
  process.stdout.write(
    `${listTable(rows)}\n${entries.length} webhook(s) to replay as run ${runId} (delivery keys ${replayDeliveryKey(runId, '<key>')})\n`,
  );
  if (values['dry-run']) {
    process.stdout.write('dry run: nothing sent\n');
    return 0;
  }
  if (target.kind === 'aws') {
    if (!(await confirmAws(target, values.yes, `replay ${entries.length} webhook(s)`))) {
      process.stdout.write('nothing sent\n');
      return 1;
    }
  } else if (entries.length > CONFIRM_ABOVE && !values.yes) {
    const ok = await confirm(`send ${entries.length} webhooks to the queue? [y/N] `);
    if (!ok) {
      if (!process.stdin.isTTY)
        throw new UsageError(`more than ${CONFIRM_ABOVE} webhooks and no terminal to ask: pass --yes`);
      process.stdout.write('nothing sent\n');
      return 1;
    }
  }

  let sent = 0;
  try {
    await replayEntries(target, archive, entries, runId, (index) => {
      sent = index + 1;
      progress(`replaying ${sent}/${entries.length}`);
    });
  } catch (error) {
    progressDone();
    throw new CliError(
      `replay stopped after ${sent} of ${entries.length} (run ${runId}): ${(error as Error).message}. Running it again is safe.`,
    );
  }
  progressDone();
  process.stdout.write(`replayed ${sent} webhook(s) as run ${runId}\n`);
  return 0;
}
