import path from 'node:path';
import { DEFAULT_DATA_DIR, IN_MEMORY_STATE_FILE_NAME, STATE_FILE_NAME } from './dev-defaults';

export interface StartFlags {
  port?: string;
  host?: string;
  'data-dir'?: string;
  'in-memory'?: boolean;
  'state-file'?: string;
}

/**
 * `npm start` flags to local-mode options. With `--in-memory` nothing is kept, and the endpoints file
 * is `.local/endpoints.in-memory.json` (or `LOCAL_DATA_DIR`'s), not the folder's own, so an in-memory run
 * and a persistent run on `.local` do not lock each other out; with `--in-memory --data-dir X` it goes
 * to X (X's own name: X holds nothing else).
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
    (flags['in-memory']
      ? flags['data-dir']
        ? path.resolve(flags['data-dir'], STATE_FILE_NAME)
        : path.resolve(env.LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR, IN_MEMORY_STATE_FILE_NAME)
      : undefined);
  return { port, host: flags.host, dataDir, stateFile };
}
