import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stateFilePath } from '../../../scripts/cli/target';
import { resolveStartOptions } from '../../../scripts/local/start-options';
import { assertStateFileFree, defaultStateFile } from '../../../scripts/local/state';

/**
 * `npm start -- --in-memory` keeps nothing in `.local`, so it must not take `.local`'s lock: a
 * persistent run there and an in-memory run beside it both start, and the CLI finds either.
 */
describe('an in-memory run and the .local lock', () => {
  let project: string;
  const saved = process.env.LOCAL_DATA_DIR;
  beforeEach(() => {
    project = mkdtempSync(path.join(tmpdir(), 'in-memory-lock-'));
    writeFileSync(path.join(project, 'package.json'), '{}');
    mkdirSync(path.join(project, '.local'));
    delete process.env.LOCAL_DATA_DIR;
  });
  afterEach(() => rmSync(project, { recursive: true, force: true }));
  afterAll(() => {
    if (saved !== undefined) process.env.LOCAL_DATA_DIR = saved;
  });
  const live = (file: string) => writeFileSync(file, JSON.stringify({ pid: process.pid }));
  // A pid that exists (this test's parent) but is not this process: "another local mode".
  const other = (file: string) => writeFileSync(file, JSON.stringify({ pid: process.ppid }));

  it('writes its endpoints file beside .local/endpoints.json, not over it', () => {
    const options = resolveStartOptions({ 'in-memory': true }, {});

    expect(options.dataDir).toBeNull();
    expect(options.stateFile).toBe(path.resolve('.local', 'endpoints.in-memory.json'));
    expect(options.stateFile).not.toBe(defaultStateFile(null));
  });

  it('starts while a persistent run holds .local', () => {
    const persistent = path.join(project, '.local', 'endpoints.json');
    other(persistent);
    const inMemory = resolveStartOptions(
      { 'in-memory': true },
      { LOCAL_DATA_DIR: path.join(project, '.local') },
    );

    expect(() => assertStateFileFree(persistent)).toThrow('another local mode');
    expect(() => assertStateFileFree(inMemory.stateFile as string)).not.toThrow();
  });

  it('is found by the CLI when no persistent run is up, and the persistent one wins when both are', () => {
    const own = path.join(project, '.local', 'endpoints.json');
    const inMemory = path.join(project, '.local', 'endpoints.in-memory.json');
    live(inMemory);

    expect(stateFilePath({}, project)).toBe(inMemory);
    live(own);
    expect(stateFilePath({}, project)).toBe(own);
  });
});
