import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROVIDERS, type Provider } from '../../shared/queue/message';
import { CliError } from '../cli/errors';
import { type ConsoleData, DLQ_MAX } from './data';
import {
  CONSOLE_CSS,
  confirmPage,
  deliveryPage,
  dlqMessagePage,
  dlqPage,
  errorPage,
  orderPage,
  ordersPage,
  overviewPage,
  type PageContext,
} from './pages';

/**
 * The console's web server: loopback only, one session per run. The URL printed at start carries a
 * one-time token; its first use sets an HttpOnly SameSite=Strict session cookie and redirects to the
 * same page without it, so the token never stays in the address bar or the history. Every change is
 * a POST carrying the run's CSRF token, and asks for a confirmation first. The Host header must name
 * the loopback address (a DNS-rebinding page in the browser cannot reach it under another name).
 */
export interface ConsoleServerOptions {
  data: ConsoleData;
  readOnly: boolean;
  /** 0 (default): a free port. */
  port?: number;
  targetLabel: string;
  /** One line per refusal and per action (stderr by default). Never a token. */
  log?: (line: string) => void;
}

export interface RunningConsole {
  /** The URL to open, with the one-time token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on a form POST.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Form bodies above this are refused (a "redrive all" of DLQ_MAX ids fits easily). */
const MAX_FORM_BYTES = 256 * 1024;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Refusal(413, 'form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

/** A path of this console to go back to; anything else (another origin, `//host`) becomes `/`. */
function safeBack(value: string | null): string {
  return value?.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/';
}

function isProvider(value: string | null): value is Provider {
  return (PROVIDERS as readonly string[]).includes(value ?? '');
}

export async function startConsole(options: ConsoleServerOptions): Promise<RunningConsole> {
  const { data, readOnly } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const token = randomBytes(24).toString('base64url');
  const session = randomBytes(24).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  let tokenUsed = false;
  const flashes = new Map<string, string>();
  let port = 0;
  let cookieName = '';

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      ...headers,
    });
    res.end(body);
  };
  const redirect = (res: ServerResponse, location: string, headers: Record<string, string> = {}) => {
    res.writeHead(303, { ...SECURITY_HEADERS, location, ...headers });
    res.end();
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, reason: string) => {
    log(`console: refused ${req.method} ${(req.url ?? '').split('?')[0]}: ${reason}`);
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${reason}\n`);
  };
  const withFlash = (back: string, text: string) => {
    const id = randomBytes(8).toString('hex');
    flashes.set(id, text);
    if (flashes.size > 50) flashes.delete(flashes.keys().next().value as string);
    const url = new URL(back, 'http://console');
    url.searchParams.set('flash', id);
    return `${url.pathname}${url.search}`;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
      return refuse(req, res, 421, `wrong Host "${host.slice(0, 100)}": open the URL the console printed`);
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (req.method === 'GET' && url.pathname === '/static/console.css') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/css; charset=utf-8' });
      res.end(CONSOLE_CSS);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS);
      res.end();
      return;
    }
    const offered = url.searchParams.get('token');
    if (offered !== null) {
      if (tokenUsed || !sameSecret(offered, token))
        return refuse(
          req,
          res,
          403,
          "this link was used already or is not this run's: restart `order-webhooks console` for a new one",
        );
      tokenUsed = true;
      url.searchParams.delete('token');
      log('console: session opened');
      return redirect(res, `${url.pathname}${url.search}`, {
        'set-cookie': `${cookieName}=${session}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (!sameSecret(cookies(req)[cookieName] ?? '', session))
      return refuse(req, res, 401, 'no session: open the URL the console printed when it started');

    const flashId = url.searchParams.get('flash');
    const flash = flashId ? flashes.get(flashId) : undefined;
    if (flashId) flashes.delete(flashId);
    const path = (() => {
      const clean = new URL(url);
      clean.searchParams.delete('flash');
      return `${clean.pathname}${clean.search}`;
    })();
    const ctx: PageContext = { csrf, readOnly, targetLabel: options.targetLabel, path, flash };

    if (req.method === 'POST') return handleAction(req, res, url, ctx);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(req, res, 405, 'method not allowed');

    const q = url.searchParams;
    switch (url.pathname) {
      case '/':
        return send(res, 200, overviewPage(ctx, await data.overview(q.get('checks') === 'fresh')));
      case '/orders': {
        const text = q.get('q')?.trim() || undefined;
        const provider = isProvider(q.get('provider')) ? (q.get('provider') as Provider) : undefined;
        const all = await data.orders({ provider, id: text });
        return send(
          res,
          200,
          ordersPage(
            ctx,
            { q: text, provider },
            text ? all : all.slice(0, 50),
            text ? undefined : all.length,
          ),
        );
      }
      case '/order': {
        const provider = q.get('provider');
        const id = q.get('id');
        if (!isProvider(provider) || !id)
          return send(res, 400, errorPage(ctx, 'Order', 'provider and id needed'));
        const view = await data.order(provider, id);
        if (!view) return send(res, 404, errorPage(ctx, 'Order', `no ${provider} order ${id} in the ledger`));
        return send(res, 200, orderPage(ctx, view));
      }
      case '/delivery': {
        const provider = q.get('provider');
        const key = q.get('key');
        if (!isProvider(provider) || !key)
          return send(res, 400, errorPage(ctx, 'Delivery', 'provider and key needed'));
        const shown = await data.archived(provider, key).catch((error: unknown) => {
          if (error instanceof CliError) return error;
          throw error;
        });
        if (shown instanceof CliError) return send(res, 404, errorPage(ctx, 'Delivery', shown.message));
        return send(res, 200, deliveryPage(ctx, shown, q.get('order') ?? undefined));
      }
      case '/dlq': {
        const read = await data.dlq(q.get('fresh') === '1');
        return send(res, 200, dlqPage(ctx, read.entries, read.scan, Date.now()));
      }
      case '/dlq/message': {
        const id = q.get('id');
        if (!id) return send(res, 400, errorPage(ctx, 'Dead-letter message', 'id needed'));
        const entry = await data.dlqMessage(id);
        if (!entry)
          return send(
            res,
            404,
            errorPage(
              ctx,
              'Dead-letter message',
              `message ${id} is not in the dead-letter queue (redriven already?)`,
            ),
          );
        return send(res, 200, dlqMessagePage(ctx, entry, Date.now()));
      }
      default:
        return send(res, 404, errorPage(ctx, 'Not found', `no page ${url.pathname}`));
    }
  }

  async function handleAction(req: IncomingMessage, res: ServerResponse, url: URL, ctx: PageContext) {
    if (readOnly) return refuse(req, res, 403, 'the console runs with --read-only: no changes');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`)
      return refuse(req, res, 403, `cross-origin POST from ${origin.slice(0, 100)}`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return refuse(req, res, 415, 'a form POST was expected');
    const form = await readForm(req);
    if (!sameSecret(form.get('csrf') ?? '', csrf))
      return refuse(req, res, 403, 'missing or wrong CSRF token');
    const back = safeBack(form.get('back'));
    const confirmed = form.get('confirmed') === 'yes';

    if (url.pathname === '/actions/redrive') {
      const ids = [...new Set(form.getAll('id').filter(Boolean))];
      if (ids.length === 0 || ids.length > DLQ_MAX)
        return refuse(req, res, 400, `between 1 and ${DLQ_MAX} message ids needed`);
      if (!confirmed)
        return send(
          res,
          200,
          confirmPage(
            ctx,
            url.pathname,
            `Move ${ids.length} message(s) from the dead-letter queue back to the main queue?`,
            { id: ids },
            back,
            ids,
          ),
        );
      const result = await data.redrive(new Set(ids));
      log(`console: redrive ${result.requested} message(s): moved ${result.moved}`);
      const text =
        result.moved === result.requested
          ? `Moved ${result.moved} message(s) back to the main queue.`
          : `Moved ${result.moved} of ${result.requested} message(s); the others were no longer in the dead-letter queue.`;
      return redirect(res, withFlash(back, text));
    }
    if (url.pathname === '/actions/replay') {
      const provider = form.get('provider');
      const key = form.get('key');
      if (!isProvider(provider) || !key) return refuse(req, res, 400, 'provider and delivery key needed');
      if (!confirmed)
        return send(
          res,
          200,
          confirmPage(
            ctx,
            url.pathname,
            `Send 1 archived ${provider} delivery again through the queue, as a replay?`,
            { provider, key },
            back,
            [key],
          ),
        );
      const result = await data.replay(provider, key);
      log(`console: replay ${provider} ${key}: sent ${result.sent} as run ${result.runId || '-'}`);
      const text =
        result.sent > 0
          ? `Replayed 1 delivery as run ${result.runId}.`
          : 'Nothing replayed: the delivery is not in the archive.';
      return redirect(res, withFlash(back, text));
    }
    return refuse(req, res, 404, `no action ${url.pathname}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Refusal) return refuse(req, res, error.status, error.message);
      const e = error as Error;
      log(`console: ${req.method} ${(req.url ?? '').split('?')[0]} failed: ${e?.name}: ${e?.message}`);
      if (res.headersSent) return res.end();
      send(
        res,
        500,
        errorPage(
          { csrf, readOnly, targetLabel: options.targetLabel, path: '/' },
          'Error',
          `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`,
        ),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  // Cookies are not scoped by port: a name per port keeps two consoles apart.
  cookieName = `order_webhooks_console_${port}`;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
