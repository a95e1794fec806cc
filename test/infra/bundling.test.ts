import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import {
  esbuildOptions,
  LAMBDA_ALIASES,
  LAMBDA_BUNDLING,
  type LambdaName,
  lambdaBundling,
  RUNTIME_PROVIDED_MODULES,
} from '../../infra/bundling';
import { buildLambdaBundles } from '../../scripts/local/bundles';
import { lambdaNodeBinary } from '../../scripts/local/lambda-node';
import { signRechargeBody } from '../../shared/providers/recharge/signature';
import { createTestQueues, testSqsClient } from '../support/aws';

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
    esbuildArgs: () =>
      JSON.stringify(LAMBDA_BUNDLING.esbuildArgs) ===
      JSON.stringify({
        '--alias': Object.entries(esbuild.alias ?? {}).map(([from, to]) => `${from}=${to}`),
      }),
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

/**
 * In Lambda the execution role's credentials are in the environment: the bundles carry environment
 * credentials only, not the SDK's full chain (SSO, ini/shared config, process, web identity,
 * container, instance metadata). The CLI and the local mode from sources keep the full chain.
 */
describe('credentials in the Lambda bundles', () => {
  const ROOT = path.resolve(__dirname, '..', '..');
  // Under node_modules, as buildLambdaBundles does: the ingest's runtime-provided S3 client resolves.
  const cache = path.join(ROOT, 'node_modules', '.cache');
  let dir: string;
  const metafiles: Partial<Record<LambdaName, Metafile>> = {};
  const bundle = (name: LambdaName) => path.join(dir, name, 'index.js');
  const SECRET = 'bundle-test-recharge-secret';
  let lambdaEnv: Record<string, string>;

  beforeAll(async () => {
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(path.join(cache, 'credential-bundles-'));
    for (const name of ['ingest', 'worker'] as const) {
      const result = await build({
        ...esbuildOptions(name),
        entryPoints: [path.join(ROOT, 'functions', name, 'handler.ts')],
        outfile: bundle(name),
        metafile: true,
      });
      metafiles[name] = result.metafile;
    }
    const { queueUrl } = await createTestQueues(testSqsClient());
    lambdaEnv = {
      AWS_LAMBDA_FUNCTION_NAME: 'bundle-test-ingest',
      AWS_REGION: 'us-east-1',
      QUEUE_URL: queueUrl,
      SQS_ENDPOINT: process.env.TEST_SQS_ENDPOINT as string,
      QUEUE_SEND_TIMEOUT_MS: '5000',
      RECHARGE_WEBHOOK_SECRETS: SECRET,
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['ingest', 'worker'] as const)(
    'the %s bundle holds no credential provider but the environment one',
    (name) => {
      const inputs = Object.keys(metafiles[name]?.inputs ?? {});
      const providers = inputs
        .map(
          (file) =>
            /node_modules\/(@(?:aws-sdk|smithy)\/(?:credential-provider-[a-z-]+|nested-clients|token-providers))\//.exec(
              file,
            )?.[1],
        )
        .filter((pkg): pkg is string => pkg !== undefined);

      expect([...new Set(providers)]).toEqual(['@aws-sdk/credential-provider-env']);
      expect(inputs).toContain(
        path.relative(process.cwd(), LAMBDA_ALIASES['@aws-sdk/credential-provider-node'] as string),
      );
    },
  );

  it("the ingest bundle builds none of the worker's or the reconciler's schemas at its cold start", () => {
    const ingest = readFileSync(bundle('ingest'), 'utf8');
    const worker = readFileSync(bundle('worker'), 'utf8');
    // Settings only workerEnvSchema and reconcileEnvSchema name.
    for (const name of ['IDEMPOTENCY_LEASE_SECONDS', 'RECONCILE_LOOKBACK_SECONDS'])
      expect({ name, inIngest: ingest.includes(name) }).toEqual({ name, inIngest: false });
    expect(worker).toContain('IDEMPOTENCY_LEASE_SECONDS');
  });

  it('the ingest bundle evaluates no zod at its cold start, wired as the stack deploys it', async () => {
    // zod's core registers its global config when it is evaluated.
    const script = `require(${JSON.stringify(bundle('ingest'))}); process.stdout.write('ZOD ' + String('__zod_globalConfig' in globalThis));`;
    const deployed = {
      AWS_LAMBDA_FUNCTION_NAME: 'bundle-test-ingest',
      AWS_REGION: 'us-east-1',
      QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/order-webhooks',
      SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ingest-AbCdEf',
      ARCHIVE_BUCKET: 'order-webhooks-archive',
      PUBLISH_DASHBOARD_METRICS: 'false',
    };
    const run = (env: Record<string, string>) =>
      promisify(execFile)(lambdaNodeBinary(), ['-e', script], { env: { PATH: process.env.PATH, ...env } });

    expect((await run(deployed)).stdout).toBe('ZOD false');
    // The same bundle with an emulator endpoint: the schema reads the settings, zod is loaded.
    expect((await run({ ...deployed, SQS_ENDPOINT: 'http://127.0.0.1:4566' })).stdout).toBe('ZOD true');
  }, 60_000);

  /** Requires the ingest bundle as Lambda does and sends it one signed webhook; its answer and output. */
  async function deliverToBundledIngest(
    env: Record<string, string>,
    body = JSON.stringify({ order: { id: 1001, status: 'success' } }),
  ) {
    const event = {
      path: '/webhooks/recharge/order/created',
      httpMethod: 'POST',
      headers: signRechargeBody(body, SECRET),
      multiValueHeaders: {},
      body,
      isBase64Encoded: false,
    };
    const script = `require(${JSON.stringify(bundle('ingest'))}).handler(${JSON.stringify(event)}).then((r) => process.stdout.write('RESULT ' + r.statusCode + ' ' + r.body + '\\n'));`;
    const { stdout, stderr } = await promisify(execFile)(lambdaNodeBinary(), ['-e', script], {
      env: { PATH: process.env.PATH, ...env },
    });
    const [, status, answer] = /RESULT (\d+) (.*)/.exec(stdout) ?? [];
    return { status: Number(status), body: answer, output: `${stdout}${stderr}` };
  }

  it('the ingest bundle queues a webhook with credentials from the environment', async () => {
    const result = await deliverToBundledIngest({
      ...lambdaEnv,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SESSION_TOKEN: 'test-session',
    });

    expect(result.status).toBe(200);
  }, 60_000);

  it("the ingest bundle refuses a bad envelope with the schema's issues (zod loaded on that path only)", async () => {
    const result = await deliverToBundledIngest(
      { ...lambdaEnv, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      JSON.stringify({ order: { id: -5 } }),
    );

    expect(result.status).toBe(400);
    expect(JSON.parse(result.body ?? '{}')).toMatchObject({
      error: 'invalid envelope',
      issues: [{ path: 'order.id', message: expect.any(String) }],
    });
  }, 60_000);

  it('the ingest bundle does not read a shared credentials file, which only the full chain would', async () => {
    const home = mkdtempSync(path.join(cache, 'credential-home-'));
    try {
      const file = path.join(home, 'credentials');
      writeFileSync(file, '[default]\naws_access_key_id = test\naws_secret_access_key = test\n');
      const result = await deliverToBundledIngest({
        ...lambdaEnv,
        HOME: home,
        AWS_SHARED_CREDENTIALS_FILE: file,
      });

      expect(result.status).toBe(503);
      expect(result.output).toContain('Unable to find environment variable credentials');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
