import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { runStartToExit, tempDir } from './helpers/local-process';

jest.setTimeout(60_000);

/**
 * `npm start` with a bad setting exits non-zero before it starts anything (no banner, no
 * emulators), naming each bad variable, instead of acknowledging webhooks it can never process.
 */
describe('npm start with bad settings', () => {
  it.each([
    [{ RECHARGE_API_VERSION: '2099-01' }, 'RECHARGE_API_VERSION'],
    [{ ORDER_SYSTEM: 'htp' }, 'ORDER_SYSTEM'],
    [{ ORDER_SYSTEM: 'http' }, 'ORDER_SYSTEM_URL: is required when ORDER_SYSTEM=http'],
    [{ RECHARGE_API_URL: 'notaurl' }, 'RECHARGE_API_URL'],
    [{ LOCAL_WORKER_TIMEOUT_SECONDS: '3' }, 'LOCAL_WORKER_TIMEOUT_SECONDS'],
    [{ PORT: '70000' }, 'PORT: expected an integer 0-65535'],
    [{ HOST: '999.1.1.1' }, 'HOST: expected an IP address or host name'],
    [{ WIX_CASHIER_PAY_PUBLIC_KEY: 'notapem' }, 'WIX_CASHIER_PAY_PUBLIC_KEY: expected a PEM RSA public key'],
  ])('%j exits non-zero naming %s, before the banner', async (env, named) => {
    const { code, output } = await runStartToExit(env);

    expect(code).toBe(1);
    expect(output).toContain(named);
    expect(output).not.toContain('local mode is running');
  });

  it('names every bad variable at once', async () => {
    const { code, output } = await runStartToExit({ RECHARGE_API_VERSION: '2099-01', ORDER_SYSTEM: 'htp' });

    expect(code).toBe(1);
    expect(output).toContain('RECHARGE_API_VERSION:');
    expect(output).toContain('ORDER_SYSTEM:');
  });

  describe('a busy port', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('is reported naming PORT, before the emulators start', async () => {
      const { code, output } = await runStartToExit({ PORT: String(port) });

      expect(code).toBe(1);
      expect(output).toContain(`PORT: port ${port} is in use`);
      expect(output).not.toContain('local mode is running');
    });

    it('held by another local mode on the same folder is reported as that run, not as a busy port', async () => {
      const data = tempDir('e2e-lock-');
      // A live process (this test's) owns the folder's endpoints file, as a running local mode does.
      writeFileSync(path.join(data.dir, 'endpoints.json'), JSON.stringify({ pid: process.pid }));
      try {
        const { code, output } = await runStartToExit({ PORT: String(port) }, ['--data-dir', data.dir]);

        expect(code).toBe(1);
        expect(output).toContain(`another local mode (pid ${process.pid}) is using ${data.dir}`);
        expect(output).not.toContain('is in use');
      } finally {
        data.remove();
      }
    });
  });
});
