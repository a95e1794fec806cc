import { en } from 'zod/locales';
import { config } from 'zod/mini';

/**
 * zod/mini, for schemas on the ingest Lambda's import path: the same validation engine as classic
 * zod, but tree-shakable functions instead of methods, so the bundle carries only what it uses
 * (module-init time scales with bundle size). Use as `import * as z from './zod-mini'`.
 * Classic zod installs its English messages itself; zod/mini does not, so without this every
 * issue would read "Invalid input".
 */
config(en());

export * from 'zod/mini';
