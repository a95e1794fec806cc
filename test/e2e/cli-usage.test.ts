import { spawn } from 'node:child_process';
import path from 'node:path';
import { TSX_LOADER, tempDir } from './helpers/local-process';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '../..');

/** Runs the CLI in a scratch folder (no local mode); `closeStdout` makes its reader leave at once. */
function cli(
  args: string[],
  closeStdout = false,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const scratch = tempDir('cli-usage-');
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, path.join(ROOT, 'scripts/cli/main.ts'), ...args],
    {
      cwd: scratch.dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      scratch.remove();
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('the CLI on usage mistakes', () => {
  it('send with no arguments says what it needs and points to --help once', async () => {
    const { code, stderr } = await cli(['send']);

    expect(code).toBe(2);
    expect(stderr).toContain('send needs exactly <provider> and <sample|file.json>');
    expect(stderr.match(/--help/g)).toHaveLength(1);
  });

  it('a mistyped flag is named with the flag it probably meant, not parseArgs text', async () => {
    const { code, stderr } = await cli(['orders', '--stauts', 'paid']);

    expect(code).toBe(2);
    expect(stderr).toContain('unknown option --stauts; did you mean --status?');
    expect(stderr).not.toContain('positional argument');
  });

  it('an unknown order status is rejected with the valid ones', async () => {
    const { code, stderr } = await cli(['orders', '--status', 'payed']);

    expect(code).toBe(2);
    expect(stderr).toContain('unknown status "payed": one of');
  });

  it('stops quietly when the reader of its output has gone (| head)', async () => {
    const { code, stderr } = await cli(['send', '--help'], true);

    expect(code).toBe(0);
    expect(stderr).not.toContain('EPIPE');
  });

  it('stats --aws without AWS credentials: one line saying what to do, no SDK error name', async () => {
    const nowhere = path.join(ROOT, 'no-such-aws-file');
    const { code, stdout, stderr } = await cli(['stats', '--aws', '--region', 'eu-west-1'], false, {
      AWS_CONFIG_FILE: nowhere,
      AWS_SHARED_CREDENTIALS_FILE: nowhere,
      AWS_EC2_METADATA_DISABLED: 'true',
    });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      'error: no AWS credentials found: run `aws configure` (or `aws sso login --profile <name>` and export AWS_PROFILE=<name>), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    ]);
  });
});
