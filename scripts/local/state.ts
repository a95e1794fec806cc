import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DATA_DIR, STATE_FILE_NAME } from './dev-defaults';

/**
 * What a running local mode tells the CLI (and tests) about itself, written to
 * `<data dir>/endpoints.json` while it runs. No secrets in here.
 */
export interface LocalState {
  pid: number;
  startedAt: string;
  /** Absolute data folder, or null when running in memory. */
  dataDir: string | null;
  apiUrl: string;
  region: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  idempotencyTable: string;
  ordersTable: string;
  /** The audit archive bucket on the emulator's S3 (a second fauxqs process, at s3Endpoint). */
  archiveBucket?: string;
  s3Endpoint?: string;
  /** The built-in fake ReCharge API, when no RECHARGE_API_URL was configured. */
  fakeRechargeUrl: string | null;
  rechargeApiUrl: string;
  /** RECHARGE_API_VERSION the local mode runs with, so the CLI's reconcile lists the same way. */
  rechargeApiVersion?: string;
  /** Emulator process ids, so a later start can clean up after a crash. */
  emulatorPids: number[];
  /** Names (never values) of the credentials running on their development defaults. */
  devCredentials?: string[];
}

/** Where the state file lives for a data folder (also used for in-memory runs). */
export function defaultStateFile(dataDir: string | null): string {
  return path.resolve(dataDir ?? DEFAULT_DATA_DIR, STATE_FILE_NAME);
}

export function writeState(file: string, state: LocalState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

export function readState(file: string): LocalState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  } catch {
    return undefined;
  }
}

export function removeState(file: string, pid = process.pid): void {
  // Only the run that wrote it removes it (another run may have taken over the file).
  if (readState(file)?.pid === pid) rmSync(file, { force: true });
}

/** True when a process with this id exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Throws when a running local mode (not this process) owns the endpoints file: one run per folder. */
export function assertStateFileFree(file: string): void {
  const previous = readState(file);
  if (previous && previous.pid !== process.pid && isAlive(previous.pid))
    throw new Error(
      `another local mode (pid ${previous.pid}) is using ${path.dirname(file)}; stop it first or use --data-dir`,
    );
}
