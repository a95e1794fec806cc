import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSend } from '../../../scripts/cli/send';
import { verifyRechargeSignature } from '../../../shared/providers/recharge/signature';

/** `send` takes a secret from a file (or stdin), never from the command line. */
describe('send --secret-file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'send-secret-'));
  const quiet = () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    return () => {
      out.mockRestore();
      err.mockRestore();
    };
  };

  it('refuses --secret on the command line', async () => {
    await expect(
      runSend(['recharge', '2021-11-created-regular', '--secret', 'on-the-command-line']),
    ).rejects.toThrow(/Unknown option '--secret'/);
  });

  it('signs with the secret read from the file (its trailing newline dropped)', async () => {
    const seen: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"queued"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const file = path.join(dir, 'recharge-secret');
    writeFileSync(file, 'secret-from-a-file-0001\n', { mode: 0o600 });
    const restore = quiet();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await expect(
        runSend(['recharge', '2021-11-created-regular', '--url', url, '--secret-file', file]),
      ).resolves.toBe(0);
    } finally {
      restore();
      server.close();
    }
    const request = seen[0] as (typeof seen)[number];
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
    const verify = (secret: string) =>
      verifyRechargeSignature(headers, request.body, {
        secrets: [secret],
        nowMs: Date.now(),
        toleranceSeconds: 300,
        requireTimestamp: true,
      });
    expect(verify('secret-from-a-file-0001')).toMatchObject({ ok: true });
    expect(verify('secret-from-a-file-0001\n')).toMatchObject({ ok: false });
  });

  it('says which file it cannot read, and never prints the contents of an empty one', async () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    await expect(
      runSend(['sevi', 'paid', '--url', 'http://127.0.0.1:9', '--secret-file', empty]),
    ).rejects.toThrow(`--secret-file ${empty} is empty`);
    await expect(
      runSend(['sevi', 'paid', '--url', 'http://127.0.0.1:9', '--secret-file', path.join(dir, 'missing')]),
    ).rejects.toThrow(/cannot read --secret-file .*missing: ENOENT/);
  });
});
