import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `npm run cli` and the `order-webhooks` bin run the CLI from a cached esbuild bundle instead of
 * compiling TypeScript on every call (scripts/cli/run.cjs); a source newer than the bundle rebuilds it.
 */
const ROOT = path.resolve(__dirname, '../../..');
let cache: string;

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [path.join(ROOT, 'scripts/cli/bin.cjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ORDER_WEBHOOKS_CLI_CACHE: cache, ...env },
  });
}

beforeEach(() => {
  cache = mkdtempSync(path.join(tmpdir(), 'cli-bundle-'));
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

describe('the CLI bundle', () => {
  it('is built on the first call and answers --help from it', () => {
    const result = cli(['--help']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: order-webhooks <command>');
    expect(existsSync(path.join(cache, 'main.cjs'))).toBe(true);
    const { inputs } = JSON.parse(readFileSync(path.join(cache, 'inputs.json'), 'utf8')) as {
      inputs: string[];
    };
    expect(inputs).toEqual(expect.arrayContaining(['scripts/cli/main.ts', 'scripts/cli/send.ts']));
  });

  it("runs a command's own help and usage errors (each command's module loads when it runs)", () => {
    expect(cli(['send', '--help']).stdout).toContain('Usage: order-webhooks send');
    const bad = cli(['dlq', '--bogus']);

    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown option');
  });

  it('is rebuilt when a source it was built from is newer', () => {
    cli(['--help']);
    const bundle = path.join(cache, 'main.cjs');
    const old = new Date('2020-01-01T00:00:00Z');
    utimesSync(bundle, old, old);

    expect(cli(['--help']).status).toBe(0);
    expect(statSync(bundle).mtimeMs).toBeGreaterThan(old.getTime());
  });

  it("keeps each source's own __dirname and makes imported pages text (assets a command reads)", () => {
    const src = mkdtempSync(path.join(tmpdir(), 'cli-bundle-src-'));
    try {
      writeFileSync(path.join(src, 'page.html'), '<h1>orders</h1>');
      writeFileSync(path.join(src, 'style.css'), 'h1 { color: red }');
      writeFileSync(
        path.join(src, 'entry.ts'),
        [
          "import { readFileSync } from 'node:fs';",
          "import path from 'node:path';",
          "import style from './style.css';",
          "const page: string = readFileSync(path.join(__dirname, 'page.html'), 'utf8');",
          'process.stdout.write(JSON.stringify({ page, style, url: import.meta.url }));',
        ].join('\n'),
      );
      const build = spawnSync(
        process.execPath,
        [
          '-e',
          `require(${JSON.stringify(path.join(ROOT, 'scripts/cli/run.cjs'))}).buildBundle(process.argv[1], process.argv[2])`,
          path.join(src, 'entry.ts'),
          cache,
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(build.stderr).toBe('');
      const run = spawnSync(process.execPath, [path.join(cache, 'main.cjs')], { encoding: 'utf8' });

      expect(JSON.parse(run.stdout)).toEqual({
        page: '<h1>orders</h1>',
        style: 'h1 { color: red }',
        url: pathToFileURL(path.join(src, 'entry.ts')).href,
      });
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('runs through tsx when the bundle is turned off', () => {
    const result = cli(['--help'], { ORDER_WEBHOOKS_CLI_NO_BUNDLE: '1' });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: order-webhooks <command>');
    expect(existsSync(path.join(cache, 'main.cjs'))).toBe(false);
  });
});
