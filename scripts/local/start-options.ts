import path from 'node:path';
import { DEFAULT_DATA_DIR, STATE_FILE_NAME } from './dev-defaults';

export interface StartFlags {
  port?: string;
  host?: string;
  'data-dir'?: string;
  'in-memory'?: boolean;
  'state-file'?: string;
}

/**
 * `npm start` flags to local-mode options. With `--in-memory --data-dir X` nothing is kept, but
 * the endpoints file (and so the one-run-per-folder lock) goes to X, so a second run beside one
 * on `.local` does not report a lock on `.local`.
 */
export function resolveStartOptions(flags: StartFlags, env: NodeJS.ProcessEnv) {
  let port: number | undefined;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port must be 0-65535, got ${flags.port}`);
  }
  const dataDir = flags['in-memory'] ? null : (flags['data-dir'] ?? env.LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR);
  const stateFile =
    flags['state-file'] ??
    (flags['in-memory'] && flags['data-dir'] ? path.resolve(flags['data-dir'], STATE_FILE_NAME) : undefined);
  return { port, host: flags.host, dataDir, stateFile };
}
