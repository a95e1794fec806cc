import * as path from 'node:path';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** Repository root: entry points, package-lock.json and tsconfig.json live here. */
const ROOT = path.resolve(__dirname, '..');

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
} as const satisfies nodejs.BundlingOptions;

/**
 * esbuild options equal to what NodejsFunction runs for LAMBDA_BUNDLING (CommonJS for the node
 * platform, as NodejsFunction's default `format`), for building the same bundle outside CDK.
 */
export function esbuildOptions(): BuildOptions {
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
    // bundleAwsSDK + no externalModules: nothing is left external.
    external: [...b.externalModules],
    tsconfig: b.tsconfig,
    logLevel: 'error',
  };
}
