import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

/** `node_modules/a/node_modules/@aws-sdk/x` -> `@aws-sdk/x` */
const packageName = (lockPath: string) => lockPath.slice(lockPath.lastIndexOf('node_modules/') + 13);

/**
 * One AWS SDK release line: every client (and lib-dynamodb, released with them) pinned exactly at
 * one version, and one copy of every @aws-sdk and @smithy package installed, so each Lambda bundle
 * carries the SDK core once.
 */
describe('the AWS SDK in package.json and package-lock.json', () => {
  const pkg = readJson('package.json');
  const lock = readJson('package-lock.json');
  const sdk = Object.entries<string>({ ...pkg.dependencies, ...pkg.devDependencies }).filter(([name]) =>
    name.startsWith('@aws-sdk/'),
  );

  it('pins every @aws-sdk package exactly, at the version the lock installs', () => {
    for (const [name, version] of sdk) {
      expect({ name, version }).toEqual({ name, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
      expect({ name, locked: lock.packages[`node_modules/${name}`]?.version }).toEqual({
        name,
        locked: version,
      });
    }
  });

  it('has every client and lib-dynamodb on one version, and so every client the lock resolves', () => {
    const released = sdk.filter(([name]) => /^@aws-sdk\/(client|lib)-/.test(name));
    const pinned = new Set(released.map(([, version]) => version));
    const locked = new Set(
      Object.entries<{ version: string }>(lock.packages)
        .filter(([p]) => /^@aws-sdk\/client-/.test(packageName(p)))
        .map(([, entry]) => entry.version),
    );

    expect(released.length).toBeGreaterThan(1);
    expect([...pinned]).toHaveLength(1);
    expect([...locked]).toEqual([...pinned]);
  });

  it('installs one copy of each @aws-sdk and @smithy package', () => {
    const versions = new Map<string, Set<string>>();
    for (const [p, entry] of Object.entries<{ version: string }>(lock.packages)) {
      const name = packageName(p);
      if (!/^@(aws-sdk|smithy)\//.test(name)) continue;
      versions.set(name, (versions.get(name) ?? new Set()).add(entry.version));
    }
    const duplicated = [...versions].filter(([, v]) => v.size > 1).map(([name, v]) => `${name}@${[...v]}`);

    expect(versions.size).toBeGreaterThan(10);
    expect(duplicated).toEqual([]);
  });
});
