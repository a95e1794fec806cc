import { en } from 'zod/locales';
import { config, type core, extend, object, type ZodMiniObject } from 'zod/mini';

/**
 * zod/mini, for schemas on the ingest Lambda's import path: the same validation engine as classic
 * zod, but tree-shakable functions instead of methods, so the bundle carries only what it uses
 * (module-init time scales with bundle size). Use as `import * as z from './zod-mini'`.
 * Classic zod installs its English messages itself; zod/mini does not, so without this every
 * issue would read "Invalid input".
 */
config(en());

/**
 * `object(fields())` and `extend(base, fields())` for a schema only some functions use: a call
 * annotated `@__PURE__` whose result a bundle never reads is dropped by esbuild, so, for example,
 * the ingest does not build the worker's schemas at every cold start.
 */
export const objectWhereUsed = <F extends core.$ZodLooseShape>(fields: () => F) => object(fields());
export const extendWhereUsed = <B extends ZodMiniObject, F extends core.$ZodLooseShape>(
  base: B,
  fields: () => F,
) => extend(base, fields());

export * from 'zod/mini';
