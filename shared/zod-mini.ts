import { en } from 'zod/locales';
import { config, type core, extend, type ZodMiniObject } from 'zod/mini';

/**
 * zod/mini: the same validation engine as classic zod, but tree-shakable functions instead of
 * methods, so a bundle carries only what it uses (module-init time scales with bundle size). The
 * ingest loads it only for what its plain checks leave to a schema (docs/design.md). Use as
 * `import * as z from './zod-mini'`.
 * Classic zod installs its English messages itself; zod/mini does not, so without this every
 * issue would read "Invalid input".
 */
config(en());

/**
 * `extend(base, fields())` for a schema only some functions use: a call annotated `@__PURE__` whose
 * result a bundle never reads is dropped by esbuild, so, for example, a bundle that needs only
 * ingestEnvSchema does not build the worker's schemas.
 */
export const extendWhereUsed = <B extends ZodMiniObject, F extends core.$ZodLooseShape>(
  base: B,
  fields: () => F,
) => extend(base, fields());

export * from 'zod/mini';
