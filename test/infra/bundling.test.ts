import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  esbuildOptions,
  LAMBDA_BUNDLING,
  lambdaBundling,
  RUNTIME_PROVIDED_MODULES,
} from '../../infra/bundling';
import { buildLambdaBundles } from '../../scripts/local/bundles';

/**
 * The bundles the bundled e2e run and the benchmarks build come from the stack's own bundling
 * options. Each NodejsFunction option must have its esbuild counterpart here: adding one to
 * LAMBDA_BUNDLING without translating it fails this test.
 */
describe('one bundling definition', () => {
  const esbuild = esbuildOptions();
  const counterpart: Record<string, () => unknown> = {
    forceDockerBundling: () => LAMBDA_BUNDLING.forceDockerBundling === false, // local esbuild only
    minify: () => esbuild.minify === LAMBDA_BUNDLING.minify,
    keepNames: () => esbuild.keepNames === LAMBDA_BUNDLING.keepNames,
    sourceMap: () => esbuild.sourcemap === LAMBDA_BUNDLING.sourceMap,
    sourcesContent: () => esbuild.sourcesContent === LAMBDA_BUNDLING.sourcesContent,
    target: () => esbuild.target === LAMBDA_BUNDLING.target,
    mainFields: () => JSON.stringify(esbuild.mainFields) === JSON.stringify(LAMBDA_BUNDLING.mainFields),
    bundleAwsSDK: () => LAMBDA_BUNDLING.bundleAwsSDK && (esbuild.external ?? []).length === 0,
    externalModules: () =>
      JSON.stringify(esbuild.external) === JSON.stringify(LAMBDA_BUNDLING.externalModules),
    tsconfig: () => esbuild.tsconfig === LAMBDA_BUNDLING.tsconfig,
  };

  it.each(Object.keys(LAMBDA_BUNDLING))('carries %s into the esbuild options', (key) => {
    expect(counterpart[key]?.()).toBe(true);
  });

  it('builds CommonJS for node, as NodejsFunction does by default', () => {
    expect(esbuild).toMatchObject({ bundle: true, platform: 'node', format: 'cjs' });
  });
});

describe('modules left to the Lambda runtime', () => {
  it('are the same for the stack and the esbuild builds, per function', () => {
    for (const name of ['ingest', 'worker'] as const)
      expect(esbuildOptions(name).external).toEqual(lambdaBundling(name).externalModules);
    expect(RUNTIME_PROVIDED_MODULES.ingest).toEqual(['@aws-sdk/client-s3']);
    expect(RUNTIME_PROVIDED_MODULES.worker).toEqual([]);
  });

  it('keep the S3 client out of the ingest bundle, and resolve where the bundled local mode loads it', async () => {
    const bundles = await buildLambdaBundles();
    try {
      const ingest = readFileSync(bundles.ingest, 'utf8');
      const worker = readFileSync(bundles.worker, 'utf8');
      // An S3 command our code never names: in the worker's bundled client, absent from the ingest.
      expect(worker).toContain('ListBucketsCommand');
      expect(ingest).not.toContain('ListBucketsCommand');
      expect(ingest).toContain('@aws-sdk/client-s3');
      expect(() => createRequire(bundles.ingest).resolve('@aws-sdk/client-s3')).not.toThrow();
    } finally {
      bundles.remove();
    }
  }, 60_000);
});
