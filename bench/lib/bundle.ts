import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { analyzeMetafile, build } from 'esbuild';
import { esbuildOptions, type LambdaName } from '../../infra/bundling';
import { lambdaNodeBinary } from '../../scripts/local/lambda-node';
import { summarize } from './stats';

/**
 * Bundles as the CDK stack does for Lambda (infra/bundling.ts, the one definition): minified,
 * class and function names kept, node24, CommonJS, ES module builds first, AWS SDK included.
 * `sourcemap`
 * adds the external source map the stack also ships (it matters only with --enable-source-maps).
 * `analyzeFile` receives esbuild's `--analyze` report of what is in the bundle.
 */
export async function bundleForLambda(options: {
  outfile: string;
  entryPoint?: string;
  stdin?: { contents: string; resolveDir: string };
  sourcemap?: boolean;
  analyzeFile?: string;
  /** The function bundled: its runtime-provided modules stay external, as in the stack. */
  lambda?: LambdaName;
  /** Keep the SDK's full default credential chain (no LAMBDA_ALIASES): a bundle as NodejsFunction makes it by default. */
  sdkDefaultCredentials?: boolean;
}): Promise<{ outfile: string; bytes: number }> {
  const result = await build({
    ...(options.entryPoint ? { entryPoints: [options.entryPoint] } : {}),
    ...(options.stdin ? { stdin: { ...options.stdin, loader: 'ts' } } : {}),
    ...esbuildOptions(options.lambda),
    ...(options.sdkDefaultCredentials ? { alias: {} } : {}),
    outfile: options.outfile,
    sourcemap: Boolean(options.sourcemap),
    metafile: Boolean(options.analyzeFile),
  });
  if (options.analyzeFile && result.metafile)
    writeFileSync(options.analyzeFile, await analyzeMetafile(result.metafile, { verbose: false }));
  return { outfile: options.outfile, bytes: statSync(options.outfile).size };
}

/** One fresh process requiring a bundle: wall time and the process's CPU time for the require. */
export interface InitSample {
  wallMs: number;
  cpuMs: number;
}

/**
 * Times `require` of a bundle in `runs` fresh processes of the Node version Lambda runs
 * (lambdaNodeBinary; module evaluation only, node's own start-up excluded). Wall time is the figure the targets use; CPU time (user + system, all
 * threads of that process) is reported too because it is far less disturbed by other load on a
 * shared machine.
 */
export function measureInit(file: string, runs = 10, env: NodeJS.ProcessEnv = {}): InitSample[] {
  const script = `const c=process.cpuUsage(),s=process.hrtime.bigint();require(${JSON.stringify(file)});const w=Number(process.hrtime.bigint()-s)/1e6,u=process.cpuUsage(c);process.stdout.write(JSON.stringify({wallMs:w,cpuMs:(u.user+u.system)/1e3}));`;
  const samples: InitSample[] = [];
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(lambdaNodeBinary(), ['-e', script], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`requiring ${file} failed: ${result.stderr}`);
    samples.push(JSON.parse(result.stdout) as InitSample);
  }
  return samples;
}

/** Median of a list (the lower middle value for an even count, as `summarize` does). */
export const median = (values: readonly number[]): number => summarize(values).p50;
