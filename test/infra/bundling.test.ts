import { esbuildOptions, LAMBDA_BUNDLING } from '../../infra/bundling';

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
