/**
 * `order-webhooks` / `npm run cli --`: one command-line tool for the local mode and the deployed
 * stack. Exit codes: 0 success, 1 the operation failed, 2 usage error.
 */
import { existsSync } from 'node:fs';
import { ARCHIVE_HELP, runArchive } from './archive';
import { CONSOLE_HELP, runConsole } from './console';
import { DLQ_HELP, runDlq } from './dlq';
import { DOCTOR_HELP, runDoctor } from './doctor';
import { ORDERS_HELP, runOrders } from './orders';
import { RECHARGE_WEBHOOKS_HELP, runRechargeWebhooks } from './recharge-webhooks';
import { RECONCILE_HELP, runReconcile } from './reconcile';
import { REPLAY_HELP, runReplay } from './replay';
import { runSend, SEND_HELP } from './send';
import { runStats, STATS_HELP } from './stats';
import { CliError, UsageError, usageMessage } from './target';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `order-webhooks stats | head -2`: the reader left, so there is nobody to tell; stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string; summary: string }> =
  {
    send: { run: runSend, help: SEND_HELP, summary: 'send a signed sample webhook (or a JSON file)' },
    orders: { run: runOrders, help: ORDERS_HELP, summary: 'list the orders in the built-in ledger' },
    dlq: { run: runDlq, help: DLQ_HELP, summary: 'list, show and redrive dead-letter messages' },
    stats: {
      run: runStats,
      help: STATS_HELP,
      summary: 'queue depths and order counts by status and provider',
    },
    doctor: {
      run: runDoctor,
      help: DOCTOR_HELP,
      summary: 'checklist of a deployment or the local mode, with fixes',
    },
    archive: {
      run: runArchive,
      help: ARCHIVE_HELP,
      summary: 'list and show archived webhooks (what they sent)',
    },
    replay: { run: runReplay, help: REPLAY_HELP, summary: 'send archived webhooks again through the queue' },
    reconcile: { run: runReconcile, help: RECONCILE_HELP, summary: 'one ReCharge reconciliation pass now' },
    console: {
      run: runConsole,
      help: CONSOLE_HELP,
      summary: 'web console on 127.0.0.1: orders, timelines, dead letters, redrive',
    },
    'recharge-webhooks': {
      run: runRechargeWebhooks,
      help: RECHARGE_WEBHOOKS_HELP,
      summary: 'list, check and register the ReCharge webhook subscriptions',
    },
  };

const HELP = `Usage: order-webhooks <command> [options]   (or: npm run cli -- <command> [options])

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(18)}${c.summary}`)
  .join('\n')}

Run \`order-webhooks <command> --help\` for a command's options. A .env file in the working
directory is read first (variables already set win).`;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command ? 0 : 2;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`unknown command "${command}"\n\n${HELP}\n`);
    return 2;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return await entry.run(rest);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `error: ${usageMessage(error as Error, entry.help)}\n(see order-webhooks ${command} --help)\n`,
      );
      return 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    const name = (error as Error)?.name ?? 'Error';
    process.stderr.write(`error: ${name}: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
