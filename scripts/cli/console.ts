import { parseArgs } from 'node:util';
import { ConsoleData } from '../console/data';
import { startConsole } from '../console/server';
import { resolveTarget, TARGET_HELP, TARGET_OPTIONS, UsageError } from './target';

export const CONSOLE_HELP = `Usage: order-webhooks console [options]

A web console for the operator on http://127.0.0.1 (never another interface): an overview per
provider, order search, one order's timeline (deliveries, state changes, effects, dead-letter
messages) with replay and redrive, and the dead-letter queue grouped by reason. It reads and acts
through the same functions as \`orders\`, \`dlq\`, \`archive\`, \`replay\`, \`stats\` and \`doctor\`, so
it needs their AWS permissions. Prints a URL with a one-time token: open it in your browser (the
first visit turns it into a session cookie). Ctrl-C stops it.

Options:
  --port <n>           port on 127.0.0.1 (default: a free one)
  --read-only          no actions: no redrive, no replay
${TARGET_HELP}
  -h, --help`;

export async function runConsole(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'read-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(`${CONSOLE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError('--port must be a port number (0 for a free one)');
  const target = await resolveTarget(values);
  const targetLabel =
    target.kind === 'local'
      ? `local mode ${target.apiUrl ?? ''}`.trim()
      : `aws: ${target.stack ? `stack ${target.stack}` : 'names from the environment'} in ${target.region}`;
  const running = await startConsole({
    data: new ConsoleData(target, values),
    readOnly: values['read-only'] === true,
    port,
    targetLabel,
  });
  process.stdout.write(
    `order-webhooks console for ${targetLabel}${values['read-only'] ? ' (read-only)' : ''}\nopen ${running.url}\n(the link works once; Ctrl-C stops the console)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  target.sqs.destroy();
  target.dynamo.destroy();
  process.stdout.write('console stopped\n');
  return 0;
}
