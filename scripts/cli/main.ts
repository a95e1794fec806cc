/**
 * `order-webhooks` / `npm run cli --`: one command-line tool for the local mode and the deployed
 * stack. Exit codes: 0 success, 1 the operation failed, 2 usage error.
 */
import { existsSync } from 'node:fs';
import { CliError, UsageError } from './errors';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `order-webhooks stats | head -2`: the reader left, so there is nobody to tell; stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

interface Command {
  run: (argv: string[]) => Promise<number>;
  help: string;
}

/**
 * Each command's module is loaded when it runs (the AWS SDK clients it needs load with it), so
 * `--help` and a local call start without loading every client of every command.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  send: {
    summary: 'send a signed sample webhook (or a JSON file)',
    load: () => import('./send').then((m) => ({ run: m.runSend, help: m.SEND_HELP })),
  },
  orders: {
    summary: 'list the orders in the built-in ledger',
    load: () => import('./orders').then((m) => ({ run: m.runOrders, help: m.ORDERS_HELP })),
  },
  dlq: {
    summary: 'list, show and redrive dead-letter messages',
    load: () => import('./dlq').then((m) => ({ run: m.runDlq, help: m.DLQ_HELP })),
  },
  stats: {
    summary: 'queue depths and order counts by status and provider',
    load: () => import('./stats').then((m) => ({ run: m.runStats, help: m.STATS_HELP })),
  },
  doctor: {
    summary: 'checklist of a deployment or the local mode, with fixes',
    load: () => import('./doctor').then((m) => ({ run: m.runDoctor, help: m.DOCTOR_HELP })),
  },
  archive: {
    summary: 'list and show archived webhooks (what they sent)',
    load: () => import('./archive').then((m) => ({ run: m.runArchive, help: m.ARCHIVE_HELP })),
  },
  replay: {
    summary: 'send archived webhooks again through the queue',
    load: () => import('./replay').then((m) => ({ run: m.runReplay, help: m.REPLAY_HELP })),
  },
  reconcile: {
    summary: 'one ReCharge reconciliation pass now',
    load: () => import('./reconcile').then((m) => ({ run: m.runReconcile, help: m.RECONCILE_HELP })),
  },
  console: {
    summary: 'web console on 127.0.0.1: orders, timelines, dead letters, redrive',
    load: () => import('./console').then((m) => ({ run: m.runConsole, help: m.CONSOLE_HELP })),
  },
  'recharge-webhooks': {
    summary: 'list, check and register the ReCharge webhook subscriptions',
    load: () =>
      import('./recharge-webhooks').then((m) => ({
        run: m.runRechargeWebhooks,
        help: m.RECHARGE_WEBHOOKS_HELP,
      })),
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
  const found = COMMANDS[command];
  if (!found) {
    process.stderr.write(`unknown command "${command}"\n\n${HELP}\n`);
    return 2;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  const entry = await found.load();
  try {
    return await entry.run(rest);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const { usageMessage } = await import('./target');
      process.stderr.write(
        `error: ${usageMessage(error as Error, entry.help)}\n(see order-webhooks ${command} --help)\n`,
      );
      return 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    // No credentials, denied, unreachable: one line saying what to do, not the SDK's words.
    const { plainAwsError } = await import('./aws-errors');
    const plain = plainAwsError(error);
    if (plain) {
      process.stderr.write(`error: ${plain}\n`);
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
