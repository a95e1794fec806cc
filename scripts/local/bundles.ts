import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../../infra/bundling';

const ROOT = path.resolve(__dirname, '..', '..');

export interface LambdaBundles {
  ingest: string;
  worker: string;
  remove(): void;
}

/**
 * Builds the ingest and worker bundles with the stack's own bundling options (infra/bundling.ts)
 * into a temporary folder: `npm start -- --bundled` and the bundled e2e run what Lambda runs.
 */
export async function buildLambdaBundles(): Promise<LambdaBundles> {
  // Under the project's node_modules: the modules a bundle leaves to the Lambda runtime
  // (RUNTIME_PROVIDED_MODULES, e.g. the ingest's S3 client) resolve from there, as Lambda's do from its runtime.
  const cache = path.join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(path.join(cache, 'order-webhooks-bundles-'));
  const out = (name: string) => path.join(dir, name, 'index.js');
  await Promise.all(
    (['ingest', 'worker'] as const).map((name) =>
      build({
        ...esbuildOptions(name),
        entryPoints: [path.join(ROOT, 'functions', name, 'handler.ts')],
        outfile: out(name),
      }),
    ),
  );
  return {
    ingest: out('ingest'),
    worker: out('worker'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
