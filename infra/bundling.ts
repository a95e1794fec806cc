import * as path from 'node:path';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** Repository root: entry points, package-lock.json and tsconfig.json live here. */
const ROOT = path.resolve(__dirname, '..');

/**
 * Packages replaced in every Lambda bundle (esbuild `alias`, absolute paths). The SDK's default
 * credential chain becomes environment credentials only (shared/aws/env-credentials.ts): what the
 * Lambda runtime provides; SnapStart and container credentials are not used here.
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.join(ROOT, 'shared', 'aws', 'env-credentials.ts'),
};

/**
 * How every function is bundled for Lambda: the one definition the stack uses (AppFunction), the
 * benchmarks and the bundled local mode / end-to-end test (`esbuildOptions` below), so what is
 * tested is what ships.
 */
export const LAMBDA_BUNDLING = {
  forceDockerBundling: false,
  minify: true,
  // Error classes are told apart by name in logs and DLQ attributes; minification must keep them.
  keepNames: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node24',
  // Prefer ES module builds so esbuild tree-shakes the AWS SDK v3 clients we bundle.
  mainFields: ['module', 'main'],
  bundleAwsSDK: true,
  externalModules: [],
  tsconfig: path.join(ROOT, 'tsconfig.json'),
  esbuildArgs: { '--alias': Object.entries(LAMBDA_ALIASES).map(([from, to]) => `${from}=${to}`) },
} as const satisfies nodejs.BundlingOptions;

export type LambdaName = 'ingest' | 'worker';

/**
 * Modules a function's bundle leaves out, taken from the Lambda runtime (Node.js 24 ships AWS SDK
 * v3). Ingest: @aws-sdk/client-s3 serves only the claim check (bodies beyond the SQS limit, rare)
 * and is loaded by a dynamic import() then (shared/archive/s3-archive.ts); bundled, every cold start
 * parsed it (init vs the SQS-only bundle 1.37 -> 1.78, docs/benchmarks.md). Accepted risk: that one
 * PutObject runs on the runtime's SDK v3 release, not our pinned one. The bundle keeps it as a real
 * `import()`: Lambda's Node.js 18+ runtimes resolve ES imports through NODE_PATH (/var/runtime/node_modules),
 * and the runtime's CJS build names its exports for Node's loader. The worker archives every
 * record, so it bundles its pinned client and creates it at init.
 */
export const RUNTIME_PROVIDED_MODULES: Record<LambdaName, readonly string[]> = {
  ingest: ['@aws-sdk/client-s3'],
  worker: [],
};

/** LAMBDA_BUNDLING for one function (the stack's NodejsFunction `bundling`). */
export function lambdaBundling(name: LambdaName): nodejs.BundlingOptions {
  return {
    ...LAMBDA_BUNDLING,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    externalModules: [...LAMBDA_BUNDLING.externalModules, ...RUNTIME_PROVIDED_MODULES[name]],
  };
}

/**
 * esbuild options equal to what NodejsFunction runs for LAMBDA_BUNDLING (CommonJS for the node
 * platform, as NodejsFunction's default `format`), for building the same bundle outside CDK; with
 * `name`, that function's runtime-provided modules left external too (lambdaBundling).
 */
export function esbuildOptions(name?: LambdaName): BuildOptions {
  const b = LAMBDA_BUNDLING;
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: b.minify,
    keepNames: b.keepNames,
    sourcemap: b.sourceMap,
    sourcesContent: b.sourcesContent,
    target: b.target,
    mainFields: [...b.mainFields],
    // bundleAwsSDK + no externalModules: nothing is left external but the runtime-provided modules.
    external: [...b.externalModules, ...(name ? RUNTIME_PROVIDED_MODULES[name] : [])],
    tsconfig: b.tsconfig,
    alias: { ...LAMBDA_ALIASES },
    logLevel: 'error',
  };
}
