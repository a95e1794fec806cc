import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyOrderSystemRequest } from '../../shared/order-system/signing';

/**
 * A merchant's HTTP order system for tests: verifies the request signature as docs/design.md tells a
 * receiver to (webhook-id / webhook-timestamp / webhook-signature over id, timestamp, method, path
 * and body; 5-minute tolerance; constant-time compare; a webhook-id seen before is a replay) and the
 * idempotency key itself (rejecting with 401/400 like a real one would), creates orders once per key,
 * answers 409 with the existing ids and the version it holds on a repeated key (and the version held
 * on a push it refuses), and can be told to fail, hang, or apply a request and lose its answer.
 */
export interface FakeOrderSystemRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: unknown;
  status?: number;
  /** Why the signature check refused it (401), when it did. */
  rejection?: string;
}

export interface FakeOrderSystem {
  url: string;
  requests: FakeOrderSystemRequest[];
  /** Orders created, by idempotency key. */
  orders: Map<string, { id: string; number: string; body: unknown }>;
  /**
   * What the merchant's system holds per external id, as a real one following docs/design.md would:
   * the create's state, then each push whose X-Order-Webhooks-Version is higher (older: 409).
   */
  states: Map<
    string,
    {
      version: number;
      status?: string;
      paymentStatus?: string;
      fulfilmentStatus?: string;
      providerStatus?: string;
      subscriptionStatus?: string;
    }
  >;
  /** Next N requests answer this status (or hang). */
  failNext(status: number | 'hang', times?: number): void;
  /** The next request is applied as usual, then its connection is cut before the answer. */
  loseNextAnswer(): void;
  /**
   * false: answers like an order system that predates the `version` field (409s carry only the ids,
   * or nothing on a push). Default true.
   */
  reportVersion: boolean;
  /**
   * Holds the next request before it is answered: `reached` resolves when it arrives, `release()`
   * lets it be answered normally (to run other work while a create is in flight).
   */
  holdNext(): { reached: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function startFakeOrderSystem(secret: string): Promise<FakeOrderSystem> {
  const requests: FakeOrderSystemRequest[] = [];
  const orders = new Map<string, { id: string; number: string; body: unknown }>();
  const states: FakeOrderSystem['states'] = new Map();
  const stateOf = (version: number, body: unknown) => {
    const b = (body ?? {}) as Record<string, string | undefined>;
    return {
      version,
      status: b.status,
      paymentStatus: b.paymentStatus,
      fulfilmentStatus: b.fulfilmentStatus,
      providerStatus: b.providerStatus,
      subscriptionStatus: b.subscriptionStatus,
    };
  };
  const seenIds = new Set<string>();
  let failure: { status: number | 'hang'; times: number } | undefined;
  let loseAnswer = false;
  let number = 5000;
  let hold: { arrived(): void; released: Promise<void> } | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (hold) {
        const held = hold;
        hold = undefined;
        held.arrived();
        await held.released;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const recorded: FakeOrderSystemRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body: raw ? JSON.parse(raw) : undefined,
      };
      requests.push(recorded);
      const answer = (status: number, body: unknown) => {
        recorded.status = status;
        if (loseAnswer) {
          loseAnswer = false;
          res.socket?.destroy();
          return;
        }
        const { version: _held, ...withoutVersion } = body as Record<string, unknown>;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(fake.reportVersion || status < 300 ? body : withoutVersion));
      };
      if (failure && failure.times > 0) {
        failure.times -= 1;
        if (failure.status === 'hang') return;
        answer(failure.status, { error: 'injected' });
        return;
      }
      const verified = verifyOrderSystemRequest(secret, {
        method: recorded.method,
        path: recorded.path,
        body: raw,
        headers: req.headers,
      });
      if (!verified.ok || seenIds.has(verified.id)) {
        recorded.rejection = verified.ok ? 'replayed webhook-id' : verified.reason;
        answer(401, { error: recorded.rejection });
        return;
      }
      seenIds.add(verified.id);
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || !key) {
        answer(400, { error: 'Idempotency-Key required' });
        return;
      }
      if (req.method === 'POST' && req.url === '/orders') {
        const existing = orders.get(key);
        if (existing) {
          const held = states.get(existing.id);
          answer(409, {
            id: existing.id,
            number: existing.number,
            ...(held ? { version: held.version } : {}),
          });
          return;
        }
        number += 1;
        const created = { id: `ext-${number}`, number: String(number), body: recorded.body };
        orders.set(key, created);
        states.set(created.id, stateOf(Number(req.headers['x-order-webhooks-version']), recorded.body));
        answer(201, { id: created.id, number: created.number });
        return;
      }
      if (req.method === 'PATCH' && req.url?.startsWith('/orders/')) {
        const id = decodeURIComponent(req.url.slice('/orders/'.length));
        const version = Number(req.headers['x-order-webhooks-version']);
        const held = states.get(id);
        if (!held) {
          answer(404, { error: 'no such order' });
          return;
        }
        if (!(version > held.version)) {
          answer(409, { error: 'older version', version: held.version });
          return;
        }
        states.set(id, stateOf(version, recorded.body));
        answer(200, { ok: true });
        return;
      }
      answer(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeOrderSystem = {
    url: `http://127.0.0.1:${port}/orders`,
    requests,
    orders,
    states,
    reportVersion: true,
    failNext(status, times = 1) {
      failure = { status, times };
    },
    loseNextAnswer() {
      loseAnswer = true;
    },
    holdNext() {
      let arrived = () => {};
      let release = () => {};
      const reached = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      hold = { arrived, released };
      return { reached, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
