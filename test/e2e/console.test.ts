import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { DEV_SECRETS } from '../../scripts/local/dev-defaults';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { samplePayload } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, TSX_LOADER, tempDir, waitFor } from './helpers/local-process';
import { deliver, depths, orders } from './helpers/webhooks';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// biome-ignore lint/suspicious/noExplicitAny: sample payloads are edited freely
type Json = Record<string, any>;

/** Payload values are attacker-controlled: this one must show as text, never run. */
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

function rechargeOrder(id: number, note?: string): string {
  const p = samplePayload<Json>('recharge', '2021-11-created-regular');
  p.order.id = id;
  if (note) p.order.note = note;
  return JSON.stringify(p);
}

interface RunningConsole {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** `order-webhooks console` as an operator starts it, until it prints its URL. */
async function startConsoleProcess(stateFile: string, extra: string[] = []): Promise<RunningConsole> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      TSX_LOADER,
      path.join(ROOT, 'scripts/cli/main.ts'),
      'console',
      '--state-file',
      stateFile,
      ...extra,
    ],
    {
      cwd: path.dirname(stateFile),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`console exited: ${out}`);
      return /open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out)?.[1];
    },
    'the console to print its URL',
    60_000,
    100,
  ).catch((e: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n${out}`);
  });
  return {
    child,
    url,
    port: Number(new URL(url).port),
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

/** A raw HTTP request (fetch would not let a test set Host). */
function raw(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Waits for a line on the console's stderr (written right after the answer, so it may trail it). */
function logged(running: { output: () => string }, line: RegExp): Promise<true> {
  return waitFor(() => line.test(running.output()), `the console to log ${line}`, 10_000, 50);
}

/** The credential values the local mode runs on: none may ever reach a page. */
const SECRETS = [...Object.values(DEV_SECRETS), FAKE_RECHARGE_TOKEN];

describe('order-webhooks console in a real browser', () => {
  let fake: FakeRecharge;
  let local: LocalProcess;
  let browser: BrowserContext | undefined;
  let consoleProcess: RunningConsole | undefined;
  const profile = tempDir('e2e-chromium-');
  const applied = 870_000_001;
  const deadLettered = 870_000_002;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium with \`apt-get update && apt-get install -y chromium\` (.ci/run does this)`,
      );
    fake = await startFakeRecharge();
    local = await startLocalProcess({
      env: { RECHARGE_API_URL: fake.url, RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await consoleProcess?.stop();
    await local?.stop();
    await fake?.close();
    profile.remove();
  });

  /** Every page the browser showed, as HTML and as text, for the secrets check. */
  const seen: string[] = [];
  async function look(page: Page): Promise<string> {
    const text = await page.locator('body').innerText();
    seen.push(await page.content(), text);
    return text;
  }

  it('finds an order, shows its deliveries and effects, and redrives its dead-lettered message until it is applied', async () => {
    // Arrange: one delivery applied (then delivered again: a duplicate), one dead-lettered for good.
    const body = rechargeOrder(applied, XSS);
    expect(
      (await deliver(local.state.apiUrl, { provider: 'recharge', body, topic: 'order/created' })).status,
    ).toBe(200);
    await waitFor(
      async () =>
        (await orders(local)).find((o) => o.providerOrderId === String(applied))?.steps?.[
          'recharge-put-order'
        ]?.status === 'COMPLETED',
      'the first order to sync',
    );
    expect(
      (await deliver(local.state.apiUrl, { provider: 'recharge', body, topic: 'order/created' })).status,
    ).toBe(200);
    fake.setBehaviour({ mode: 404, pathPrefix: `/orders/${deadLettered}` });
    expect(
      (
        await deliver(local.state.apiUrl, {
          provider: 'recharge',
          body: rechargeOrder(deadLettered),
          topic: 'order/created',
        })
      ).status,
    ).toBe(200);
    await waitFor(async () => {
      const d = await depths(local);
      return d.queueEmpty && d.dlq.visible === 1;
    }, 'the duplicate to be processed and the second order in the dead-letter queue');

    consoleProcess = await startConsoleProcess(local.stateFile);
    browser = await chromium.launchPersistentContext(profile.dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    // The one-time link becomes an HttpOnly session cookie and disappears from the address bar.
    await page.goto(consoleProcess.url);
    expect(page.url()).toBe(`http://127.0.0.1:${consoleProcess.port}/`);
    const cookies = await browser.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({
        httpOnly: true,
        sameSite: 'Strict',
        name: `order_webhooks_console_${consoleProcess.port}`,
      }),
    ]);
    const overview = await look(page);
    expect(overview).toMatch(/Last hour/);
    // received (every receipt), applied, duplicates / no change, dead-lettered, in the DLQ
    expect(overview).toMatch(/recharge\s+3\s+2\s+1\s+1\s+1/);

    // Orders: find the applied one by its id, open it.
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.getByRole('searchbox').fill(String(applied));
    await page.getByRole('button', { name: 'Find' }).click();
    await look(page);
    await page.getByRole('link', { name: String(applied) }).click();
    const orderText = await look(page);
    expect(orderText).toContain(`recharge order ${applied}`);
    // Delivered twice: both receipts on the timeline, the first applied, the second a duplicate that
    // did nothing (one external order, one write-back).
    const deliveries = page.locator('table.timeline tr.delivery');
    await expect(deliveries.count()).resolves.toBe(2);
    expect(await deliveries.nth(0).innerText()).toMatch(/order\/created[\s\S]*recharge-hmac[\s\S]*applied/);
    expect(await deliveries.nth(1).innerText()).toMatch(
      /order\/created[\s\S]*recharge-hmac[\s\S]*duplicate: received again, nothing done twice/,
    );
    const effects = await page.locator('table.timeline tr.effect').allInnerTexts();
    expect(effects.find((e) => e.includes('create-order'))).toMatch(/COMPLETED/);
    expect(effects.find((e) => e.includes('recharge-put-order'))).toMatch(/COMPLETED/);
    expect(effects.filter((e) => e.includes('create-order'))).toHaveLength(1);
    expect(await page.locator('table.timeline tr.change').allInnerTexts()).toEqual([
      expect.stringMatching(/status: - → paid[\s\S]*applied/),
    ]);
    expect(fake.applied().filter((r) => r.path === `/orders/${applied}`)).toHaveLength(1);
    // Each completed effect carries the time it completed.
    for (const row of effects) expect(row).toMatch(/^20\d\d-\d\d-\d\dT[\d:.]+Z/);
    // CONSOLE_SCREENSHOT=$PWD/docs/img/console-order.png npx jest test/e2e/console.test.ts: the docs' picture.
    if (process.env.CONSOLE_SCREENSHOT) {
      mkdirSync(path.dirname(process.env.CONSOLE_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: process.env.CONSOLE_SCREENSHOT, fullPage: true });
    }

    // The same order found by its external order number.
    const number = (await orders(local)).find((o) => o.providerOrderId === String(applied))
      ?.externalNumber as string;
    await page.goto(`http://127.0.0.1:${consoleProcess.port}/orders?q=${number}`);
    expect(await look(page)).toContain(`1 order(s) match ${number}.`);
    await page.getByRole('link', { name: String(applied) }).click();

    // Replay one delivery: asked first, sent through the queue, and nothing is written twice.
    await page.getByRole('button', { name: 'Replay' }).first().click();
    expect(await look(page)).toContain(
      'Send 1 archived recharge delivery again through the queue, as a replay?',
    );
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    expect(await look(page)).toMatch(/Replayed 1 delivery as run \S+/);
    expect(new URL(page.url()).pathname).toBe('/order');
    await waitFor(async () => (await depths(local)).queueEmpty, 'the replay to be processed');
    expect(fake.applied().filter((r) => r.path === `/orders/${applied}`)).toHaveLength(1);

    // The archived body on demand: attacker-controlled values show as text and never run.
    await page.getByRole('link', { name: 'body' }).first().click();
    const bodyText = await look(page);
    expect(bodyText).toContain(`"id": ${applied}`);
    expect(bodyText).toContain(XSS.replace(/"/g, '\\"'));
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();

    // The dead-letter queue, grouped by reason.
    await page.getByRole('link', { name: 'Dead-letter queue' }).click();
    const dlq = await look(page);
    expect(dlq).toContain('1 message(s) in 1 group(s) by reason.');
    expect(dlq).toMatch(/1\s+\[recharge-put-order\] recharge \/orders\/\* answered 404/);

    // The dead-lettered order: its message is on the timeline; open it, redrive it, see it applied.
    fake.setBehaviour({ mode: 'ok' });
    await page.goto(`http://127.0.0.1:${consoleProcess.port}/orders?q=${deadLettered}`);
    await page.getByRole('link', { name: String(deadLettered) }).click();
    await look(page);
    const dead = page.locator('table.timeline tr.dead');
    await expect(dead.count()).resolves.toBe(1);
    expect(await dead.innerText()).toMatch(/\[recharge-put-order\][\s\S]*404[\s\S]*in the DLQ/);
    await dead.getByRole('link').click();
    const message = await look(page);
    expect(message).toMatch(/failureClass\s+permanent/);
    await page.getByRole('button', { name: 'Redrive this message' }).click();
    const confirm = await look(page);
    expect(confirm).toContain('Move 1 message(s) from the dead-letter queue back to the main queue?');
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    expect(await look(page)).toContain('Moved 1 message(s) back to the main queue.');
    expect(new URL(page.url()).pathname).toBe('/dlq');

    await page.goto(`http://127.0.0.1:${consoleProcess.port}/order?provider=recharge&id=${deadLettered}`);
    await waitFor(
      async () => {
        await page.reload();
        const rows = await page.locator('table.timeline tr.effect').allInnerTexts();
        return (
          (await page.locator('table.timeline tr.dead').count()) === 0 &&
          rows.some((r) => /recharge-put-order[\s\S]*COMPLETED/.test(r))
        );
      },
      'the redriven order to show its write-back completed',
      90_000,
      1000,
    );
    const after = await look(page);
    expect(after).toMatch(/order\/created[\s\S]*applied/);
    expect(fake.applied().filter((r) => r.path === `/orders/${deadLettered}`)).toHaveLength(1);

    await page.getByRole('link', { name: 'Dead-letter queue' }).click();
    expect(await look(page)).toContain('0 message(s) in 0 group(s)');

    // Nothing secret on any page: no credential, and not the one-time token either.
    const token = new URL(consoleProcess.url).searchParams.get('token') as string;
    for (const content of seen) {
      for (const secret of SECRETS) expect(content).not.toContain(secret);
      expect(content).not.toContain(token);
    }
    expect(dialogs).toEqual([]);

    expect(await consoleProcess.stop()).toBe(0);
    expect(consoleProcess.output()).toContain('console stopped');
    consoleProcess = undefined;
  });

  it('refuses another Host, a missing session, a reused link, a POST without the CSRF token or from another origin, and any change with --read-only', async () => {
    const running = await startConsoleProcess(local.stateFile, ['--read-only']);
    try {
      const { port } = running;
      const token = new URL(running.url).searchParams.get('token') as string;

      expect((await raw(port, { headers: { host: `evil.example:${port}` } })).status).toBe(421);
      expect((await raw(port, {})).status).toBe(401);
      const opened = await raw(port, { path: `/?token=${token}` });
      expect(opened.status).toBe(303);
      expect(opened.headers['content-security-policy']).toMatch(/default-src 'none'/);
      const cookie = String(opened.headers['set-cookie']).split(';')[0] as string;
      expect(String(opened.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
      expect((await raw(port, { path: `/?token=${token}` })).status).toBe(403);

      const page = await raw(port, { path: '/dlq', headers: { cookie } });
      expect(page.status).toBe(200);
      expect(page.body).toContain('read-only');
      const post = (headers: Record<string, string>, body: string) =>
        raw(port, {
          method: 'POST',
          path: '/actions/redrive',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        });
      const refused = await post({}, 'id=x&confirmed=yes');
      expect(refused.status).toBe(403);
      expect(refused.body).toMatch(/read-only/);
      await logged(running, /console: refused POST \/actions\/redrive: the console runs with --read-only/);
      await logged(running, /console: refused GET \/: wrong Host/);
    } finally {
      expect(await running.stop()).toBe(0);
    }

    const writable = await startConsoleProcess(local.stateFile);
    try {
      const { port } = writable;
      const token = new URL(writable.url).searchParams.get('token') as string;
      const cookie = String((await raw(port, { path: `/?token=${token}` })).headers['set-cookie']).split(
        ';',
      )[0] as string;
      const post = (headers: Record<string, string>, body: string) =>
        raw(port, {
          method: 'POST',
          path: '/actions/redrive',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        });
      // Unknown things are a plain 404 with the reason, not an error page.
      const missingOrder = await raw(port, { path: '/order?provider=recharge&id=1', headers: { cookie } });
      expect(missingOrder.status).toBe(404);
      expect(missingOrder.body).toContain('no recharge order 1 in the ledger');
      const missingDelivery = await raw(port, {
        path: '/delivery?provider=sevi&key=sevi:nope',
        headers: { cookie },
      });
      expect(missingDelivery.status).toBe(404);
      expect(missingDelivery.body).toContain('no archived webhook with delivery key sevi:nope');

      expect((await post({}, 'id=x&confirmed=yes')).status).toBe(403);
      expect((await post({}, 'id=x&csrf=wrong&confirmed=yes')).status).toBe(403);
      expect((await post({ origin: 'http://evil.example' }, 'id=x&csrf=wrong')).status).toBe(403);
      await logged(writable, /refused POST \/actions\/redrive: missing or wrong CSRF token/);
      await logged(
        writable,
        /refused POST \/actions\/redrive: cross-origin POST from http:\/\/evil\.example/,
      );
    } finally {
      expect(await writable.stop()).toBe(0);
    }
  });
});
