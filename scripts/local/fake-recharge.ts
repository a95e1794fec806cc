import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP fake of the ReCharge REST API (the two calls the worker makes), on 127.0.0.1.
 * Used by the worker tests, the local mode (when no RECHARGE_API_URL is set) and the benchmarks.
 * It checks the auth and version headers like ReCharge does, records every request, and can be
 * told to misbehave (429, 500, 404, hang) for the next N calls or until changed.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  /** The status the fake answered (undefined while a hung request is open). */
  status?: number;
  at: number;
}

export type FakeRechargeMode = 'ok' | 429 | 500 | 401 | 403 | 404 | 405 | 422 | 'hang';

export interface FakeRechargeBehaviour {
  mode: FakeRechargeMode;
  /** Apply to the next N matching calls, then go back to answering normally; omit for "until changed". */
  times?: number;
  /** Only calls whose path starts with this (e.g. `/charges/`) are affected. */
  pathPrefix?: string;
  /** Added latency before answering, in ms. */
  latencyMs?: number;
  /** 429 only: value of the Retry-After header (seconds), if any. */
  retryAfterSeconds?: number;
}

export interface FakeRechargeOptions {
  /** Accepted access tokens; default `test-recharge-token`. */
  tokens?: string[];
  /** Accepted X-Recharge-Version values; default both supported versions. */
  versions?: string[];
  /** Latency applied to every answer, in ms (default 0). */
  latencyMs?: number;
  port?: number;
  /** Told of every answered call (the local mode logs them: what "ReCharge" received). */
  onAnswer?: (call: { method: string; path: string; status: number }) => void;
}

export interface FakeRecharge {
  readonly url: string;
  /** Every request received, in arrival order (including rejected ones). */
  readonly requests: RecordedRequest[];
  /** Requests that were answered 2xx: the writes ReCharge actually applied. */
  applied(): RecordedRequest[];
  /** Replaces the current behaviour; `setBehaviour({ mode: 'ok' })` restores normal answers. */
  setBehaviour(behaviour: FakeRechargeBehaviour): void;
  setLatency(ms: number): void;
  /** Forgets recorded requests and restores normal behaviour. */
  reset(): void;
  close(): Promise<void>;
}

export const FAKE_RECHARGE_TOKEN = 'test-recharge-token';

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Starts the fake on an ephemeral loopback port (or `options.port`). */
export async function startFakeRecharge(options: FakeRechargeOptions = {}): Promise<FakeRecharge> {
  const tokens = new Set(options.tokens ?? [FAKE_RECHARGE_TOKEN]);
  const versions = new Set(options.versions ?? ['2021-01', '2021-11']);
  let latencyMs = options.latencyMs ?? 0;
  let behaviour: FakeRechargeBehaviour = { mode: 'ok' };
  let remaining = Number.POSITIVE_INFINITY;
  const requests: RecordedRequest[] = [];
  const hung = new Set<ServerResponse>();
  // Bucket state as ReCharge reports it in X-Recharge-Limit (informational, never enforced here).
  let used = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        headers: req.headers,
        body,
        at: Date.now(),
      };
      requests.push(recorded);

      const answer = (status: number, payload: unknown, headers?: Record<string, string>) => {
        recorded.status = status;
        send(res, status, payload, headers);
        options.onAnswer?.({ method: recorded.method, path: recorded.path, status });
      };

      const token = req.headers['x-recharge-access-token'];
      if (typeof token !== 'string' || !tokens.has(token)) {
        answer(401, { errors: 'A valid access token is required' });
        return;
      }
      const version = req.headers['x-recharge-version'];
      if (typeof version !== 'string' || !versions.has(version)) {
        answer(400, { errors: 'Invalid or missing X-Recharge-Version' });
        return;
      }

      const affected =
        behaviour.mode !== 'ok' &&
        remaining > 0 &&
        (!behaviour.pathPrefix || url.pathname.startsWith(behaviour.pathPrefix));
      const current = affected ? behaviour : undefined;
      if (affected) {
        remaining -= 1;
        if (remaining <= 0) {
          behaviour = { mode: 'ok' };
          remaining = Number.POSITIVE_INFINITY;
        }
      }

      const respond = () => {
        if (current?.mode === 'hang') {
          hung.add(res);
          res.on('close', () => hung.delete(res));
          return;
        }
        if (current?.mode === 429) {
          const headers: Record<string, string> = { 'x-recharge-limit': '40/40' };
          if (current.retryAfterSeconds !== undefined)
            headers['retry-after'] = String(current.retryAfterSeconds);
          answer(429, { errors: 'Too Many Requests' }, headers);
          return;
        }
        if (typeof current?.mode === 'number') {
          answer(current.mode, { errors: `fake error ${current.mode}` });
          return;
        }
        used = Math.min(40, used + 1);
        const limit = { 'x-recharge-limit': `${used}/40` };
        const match = /^\/(orders|charges)\/(\d+)$/.exec(url.pathname);
        if (req.method === 'PUT' && match) {
          const resource = match[1] === 'orders' ? 'order' : 'charge';
          const fields = body && typeof body === 'object' ? body : {};
          answer(200, { [resource]: { id: Number(match[2]), ...fields } }, limit);
          return;
        }
        answer(404, { errors: 'Not Found' }, limit);
      };
      const delay = (current?.latencyMs ?? 0) + latencyMs;
      if (delay > 0) setTimeout(respond, delay);
      else respond();
    });
  });
  // The bucket leaks 2 calls per second, as ReCharge documents.
  const leak = setInterval(() => {
    used = Math.max(0, used - 1);
  }, 500);
  leak.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    applied: () => requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300),
    setBehaviour(next) {
      behaviour = next;
      remaining = next.times ?? Number.POSITIVE_INFINITY;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    reset() {
      requests.length = 0;
      behaviour = { mode: 'ok' };
      remaining = Number.POSITIVE_INFINITY;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(leak);
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
