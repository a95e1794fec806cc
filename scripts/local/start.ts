/**
 * `npm start`: runs the whole pipeline locally (see local-mode.ts). Flags override the environment;
 * a `.env` file in the working directory is read first (variables already set win).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, DEFAULT_PORT } from './dev-defaults';
import type { LocalMode } from './local-mode';
import { assertCanListen, assertLocalSettings } from './preflight';
import { resolveStartOptions } from './start-options';
import { assertStateFileFree, defaultStateFile, removeState } from './state';

const HELP = `Usage: npm start -- [options]

Runs the webhook API, the queue worker, DynamoDB Local and the SQS emulator on this machine.

Options:
  --port <n>         HTTP port (env PORT, default 3000; 0 = any free port)
  --host <addr>      interface to bind (env HOST, default 127.0.0.1)
  --data-dir <dir>   where data is kept (env LOCAL_DATA_DIR, default ${DEFAULT_DATA_DIR})
  --in-memory        keep nothing on disk
  --state-file <f>   where to write the endpoints file the CLI reads (default <data-dir>/endpoints.json)
  --env-file <f>     read this file instead of ./.env
  --bundled          run the functions' esbuild bundles, built with the stack's bundling options
  --json-logs        log JSON lines as in Lambda (default on a terminal: one short line per event)
  -h, --help         show this help

Environment: see docs/local-mode.md (RECHARGE_WEBHOOK_SECRETS, RECHARGE_API_URL, ORDER_SYSTEM, LOCAL_* ...).`;

// Lambda runs Node 24 (and npm scripts do on linux x64); the SDK's notice about Node 20 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean' },
      'state-file': { type: 'string' },
      'env-file': { type: 'string' },
      'json-logs': { type: 'boolean' },
      bundled: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const envFile = values['env-file'] ?? '.env';
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  else if (values['env-file']) throw new Error(`env file not found: ${envFile}`);

  const options = resolveStartOptions(values, process.env);
  // Checked before local-mode.ts is loaded (with the AWS SDK, Powertools and esbuild: ~0.6 s of CPU),
  // so a bad PORT/HOST or a busy port is named in under a second (docs/local-mode.md); startLocal
  // checks again for its other callers.
  assertLocalSettings(process.env, { port: options.port, host: options.host });
  // Another run on this folder is named as such, before its port is reported busy.
  const stateFile = options.stateFile ?? defaultStateFile(options.dataDir && path.resolve(options.dataDir));
  assertStateFileFree(stateFile);
  await assertCanListen(
    options.port ?? Number(process.env.PORT || DEFAULT_PORT),
    options.host ?? (process.env.HOST || '127.0.0.1'),
    {
      port: options.port === undefined ? 'PORT' : '--port',
      host: options.host === undefined ? 'HOST' : '--host',
    },
  );
  const { startLocal } = await import('./local-mode');

  let local: LocalMode | undefined;
  let stoppingSince: number | undefined;
  const shutdown = (signal: string) => {
    if (stoppingSince !== undefined) {
      // One Ctrl-C reaches this process twice: from the terminal (the whole foreground process
      // group) and relayed by npm. Only a second press, later, forces the exit.
      if (Date.now() - stoppingSince < 1000) return;
      process.stderr.write('forced exit\n');
      process.exit(130);
    }
    stoppingSince = Date.now();
    process.stderr.write(`\n${signal}: stopping (finishing in-flight work)...\n`);
    const done = local ? local.stop() : Promise.resolve();
    done.then(
      () => {
        process.stderr.write('stopped\n');
        process.exit(0);
      },
      (error) => {
        process.stderr.write(`stop failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  // `npm start | tee log`, then Ctrl-C: tee is gone, so the next line written meets a closed pipe
  // (EPIPE, or SIGPIPE where it is not ignored). Nobody reads the output any more: stop as for a
  // signal. Later writes fail the same way during the stop and must not force the exit.
  process.on('SIGPIPE', () => {
    if (stoppingSince === undefined) shutdown('SIGPIPE');
  });
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
      if (stoppingSince === undefined) shutdown('EPIPE');
    });
  // Whatever ends the process (a crash included), the endpoints file goes with it (only ours).
  process.on('exit', () => removeState(stateFile));
  // `kill -USR2 <pid>`: one reconciliation pass and subscription check now, as the schedule runs
  // them (a demo after dropping deliveries, and the e2e test's trigger: no wait for the interval).
  process.on('SIGUSR2', () => {
    const reconciler = local?.reconciler;
    if (!reconciler) {
      process.stderr.write('reconcile run: the reconciler is off (RECONCILE_INTERVAL_SECONDS=0)\n');
      return;
    }
    reconciler.runNow().then(
      ({ pass, guard }) =>
        process.stderr.write(
          `reconcile run: pass ${pass.outcome}, listed ${pass.listed}, behind ${pass.behind}, enqueued ${pass.enqueued}; ` +
            `subscriptions ${guard?.outcome ?? 'not checked'}, recreated ${guard?.recreated.length ?? 0}` +
            `${guard?.recreated.length ? ` (${guard.recreated.map((r) => r.topic).join(', ')})` : ''}\n`,
        ),
      (error: unknown) =>
        process.stderr.write(`reconcile run failed: ${(error as Error)?.message ?? String(error)}\n`),
    );
  });

  local = await startLocal({
    ...options,
    logs: values['json-logs'] ? 'json' : undefined,
    bundled: values.bundled,
  });
  if (stoppingSince !== undefined) {
    await local.stop();
    process.stderr.write('stopped\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
