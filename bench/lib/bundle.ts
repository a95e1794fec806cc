import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { build } from 'esbuild';
import { summarize } from './stats';

/** Bundles like the CDK stack does for Lambda: minified, node22, CommonJS, AWS SDK included. */
export async function bundleForLambda(options: {
  outfile: string;
  entryPoint?: string;
  stdin?: { contents: string; resolveDir: string };
}): Promise<{ outfile: string; bytes: number }> {
  await build({
    ...(options.entryPoint ? { entryPoints: [options.entryPoint] } : {}),
    ...(options.stdin ? { stdin: { ...options.stdin, loader: 'ts' } } : {}),
    outfile: options.outfile,
    bundle: true,
    minify: true,
    keepNames: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // As the CDK stack bundles: ES module builds first, so the AWS SDK tree-shakes.
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
  return { outfile: options.outfile, bytes: statSync(options.outfile).size };
}

/**
 * Median time to `require` a bundle in a fresh node process (module evaluation only, the node
 * start-up itself excluded), over `runs` processes.
 */
export function measureInit(
  file: string,
  runs = 10,
  env: NodeJS.ProcessEnv = {},
): { medianMs: number; runsMs: number[] } {
  const script = `const s=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-s)/1e6));`;
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`requiring ${file} failed: ${result.stderr}`);
    runsMs.push(Number(result.stdout.trim()));
  }
  return { medianMs: summarize(runsMs).p50, runsMs };
}
