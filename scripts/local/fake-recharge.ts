import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signRechargeBody } from '../../shared/providers/recharge/signature';

/**
 * A real HTTP fake of the ReCharge REST API on 127.0.0.1: the write-backs the worker makes
 * (`PUT /orders/{id}`, `PUT /charges/{id}`) and their verification reads (`GET /orders/{id}`,
 * `GET /charges/{id}`, with the ids last PUT), `GET /orders` (both pagination styles, by the
 * request's X-Recharge-Version), and `GET/POST/DELETE /webhooks`. It keeps the orders it is told
 * about (`upsertOrder`, or `POST /__fake/orders`) and delivers their webhooks, signed, to the
 * subscribed addresses, dropping some on purpose when asked (`setDeliveryDrop`); a PUT on a kept
 * order updates it and sends the `order/updated` echo, as ReCharge does.
 * Used by the worker tests, the local mode (when no RECHARGE_API_URL is set) and the benchmarks.
 * It checks the auth and version headers like ReCharge does, records every request, and can be
 * told to misbehave (429, 500, 404, hang) for the next N calls or until changed; with `applyFirst`
 * a PUT is applied before the fault, so its answer comes late, as a 500, or never (an uncertain outcome).
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  /** The status the fake answered (undefined while a hung request is open). */
  status?: number;
  /** A write the fake applied whatever it answered (set with `applyFirst`). */
  applied?: boolean;
  at: number;
}

export type FakeRechargeMode = 'ok' | 429 | 500 | 401 | 403 | 404 | 405 | 422 | 'hang';

export interface FakeRechargeBehaviour {
  mode: FakeRechargeMode;
  /** Apply to the next N matching calls, then go back to answering normally; omit for "until changed". */
  times?: number;
  /** Only calls whose path starts with this (e.g. `/charges/`) are affected. */
  pathPrefix?: string;
  /** Only calls with this method (e.g. `GET`) are affected. */
  method?: string;
  /** Let this many matching calls through normally first (e.g. a 429 on the second page). */
  skip?: number;
  /** Added latency before answering, in ms. */
  latencyMs?: number;
  /**
   * PUT only: apply the write as soon as it arrives, then misbehave (answer late with `latencyMs`,
   * answer 500, or never answer with `hang`): the client cannot know it was applied.
   */
  applyFirst?: boolean;
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
  /**
   * Enforce ReCharge's leaky bucket strictly: a call that would overflow `capacity` (draining
   * `perSecond`, continuously) is answered 429 and not applied. Without it the bucket is only reported.
   */
  rateLimit?: { capacity: number; perSecond: number };
  /** Called for every write the fake applied (2xx), e.g. to send the `order/updated` echo ReCharge would. */
  onApplied?: (request: RecordedRequest) => void;
  /** Client secret deliveries are signed with (timestamp scheme); without it nothing is delivered. */
  webhookSecret?: string;
}

/** A ReCharge order as JSON (either API version's shape); `id` and `updated_at` are read. */
// biome-ignore lint/suspicious/noExplicitAny: orders are free-form ReCharge JSON
export type FakeOrder = Record<string, any>;

export interface FakeWebhook {
  id: number;
  address: string;
  topic: string;
}

export interface FakeDelivery {
  topic: string;
  orderId: string;
  address: string;
  /** HTTP status the receiver answered, or what happened instead. */
  outcome: number | 'dropped' | 'unreachable';
  at: number;
}

/** Which deliveries to drop: a share (0..1, deterministic per order and topic) or a predicate. */
export type DeliveryDrop = number | ((delivery: { topic: string; orderId: string }) => boolean);

export interface FakeRecharge {
  readonly url: string;
  /** Every request received, in arrival order (including rejected ones). */
  readonly requests: RecordedRequest[];
  /**
   * The writes ReCharge applied: non-GET requests answered 2xx, or applied before an answer that
   * never came or failed (`applyFirst`). Reads (listings, verification GETs) are in `requests` only.
   */
  applied(): RecordedRequest[];
  /** Replaces the current behaviour; `setBehaviour({ mode: 'ok' })` restores normal answers. */
  setBehaviour(behaviour: FakeRechargeBehaviour): void;
  setLatency(ms: number): void;
  /** Forgets recorded requests and restores normal behaviour. */
  reset(): void;
  /** The orders it keeps, by id. */
  readonly orders: Map<string, FakeOrder>;
  /** Subscriptions, as `GET /webhooks` lists them. */
  readonly webhooks: FakeWebhook[];
  /** Every delivery attempted (or dropped), in order. */
  readonly deliveries: FakeDelivery[];
  /**
   * Keeps `order` (replacing the stored one) and, when `topic` is given, delivers it to the
   * subscriptions for that topic; resolves once those deliveries were answered or dropped.
   */
  upsertOrder(order: FakeOrder, topic?: string): Promise<void>;
  setDeliveryDrop(drop: DeliveryDrop): void;
  /** Resolves when no delivery is in flight (the echoes of PUTs included). */
  idle(): Promise<void>;
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
  let skipping = 0;
  const orders = new Map<string, FakeOrder>();
  const webhooks: FakeWebhook[] = [];
  const deliveries: FakeDelivery[] = [];
  const inFlight = new Set<Promise<void>>();
  let nextWebhookId = 1;
  let drop: DeliveryDrop = 0;
  let selfUrl = '';

  const dropped = (topic: string, orderId: string): boolean => {
    if (typeof drop === 'function') return drop({ topic, orderId });
    if (drop <= 0) return false;
    // Deterministic per order and topic, so a rerun drops the same deliveries.
    let hash = 2166136261;
    for (const ch of `${topic}:${orderId}`) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0;
    return hash / 2 ** 32 < drop;
  };

  const deliver = (order: FakeOrder, topic: string): Promise<void> => {
    const orderId = String(order.id);
    const targets = webhooks.filter((w) => w.topic === topic);
    const work = Promise.all(
      targets.map(async (target) => {
        const at = Date.now();
        if (!options.webhookSecret || dropped(topic, orderId)) {
          deliveries.push({ topic, orderId, address: target.address, outcome: 'dropped', at });
          return;
        }
        const body = JSON.stringify({ order });
        try {
          const res = await fetch(target.address, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-recharge-topic': topic,
              ...signRechargeBody(body, options.webhookSecret),
            },
            body,
            // ReCharge waits 5 s for an answer.
            signal: AbortSignal.timeout(5000),
          });
          await res.body?.cancel().catch(() => undefined);
          deliveries.push({ topic, orderId, address: target.address, outcome: res.status, at });
        } catch {
          deliveries.push({ topic, orderId, address: target.address, outcome: 'unreachable', at });
        }
      }),
    ).then(() => undefined);
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    return work;
  };

  const nextUpdatedAt = (previous: unknown): string => {
    const prev = typeof previous === 'string' ? Date.parse(`${previous.replace(/Z$/, '')}Z`) : Number.NaN;
    const now = Math.floor(Date.now() / 1000) * 1000;
    const at = Number.isNaN(prev) ? now : Math.max(now, prev + 1000);
    return new Date(at).toISOString().slice(0, 19);
  };
  /** Fields last PUT on resources the fake does not keep as orders (`orders/<id>`, `charges/<id>`). */
  const written = new Map<string, Record<string, unknown>>();
  /** An external id field in the shape the reading API version returns. */
  const inVersion = (value: unknown, version: string): unknown => {
    const plain =
      value && typeof value === 'object' && 'ecommerce' in value
        ? (value as { ecommerce: unknown }).ecommerce
        : value;
    if (plain === undefined || plain === null) return value;
    return version === '2021-11' ? { ecommerce: plain } : plain;
  };
  const asVersion = (resource: FakeOrder, version: string): FakeOrder => {
    const out: FakeOrder = { ...resource };
    for (const field of ['external_order_id', 'external_order_number'])
      if (field in out) out[field] = inVersion(out[field], version);
    return out;
  };
  /** Applies a PUT: a kept order is updated (and its order/updated echo sent), anything else remembered. */
  const applyPut = (resource: 'order' | 'charge', id: string, fields: object, recorded: RecordedRequest) => {
    recorded.applied = true;
    const kept = resource === 'order' ? orders.get(id) : undefined;
    if (kept) {
      // ReCharge applies the write, moves updated_at and sends order/updated for it (the echo).
      const updated = { ...kept, ...fields, updated_at: nextUpdatedAt(kept.updated_at) };
      orders.set(id, updated);
      void deliver(updated, 'order/updated');
      return { order: updated };
    }
    const key = `${resource}s/${id}`;
    written.set(key, { ...written.get(key), ...fields });
    options.onApplied?.(recorded);
    return { [resource]: { id: Number(id), ...written.get(key) } };
  };
  const requests: RecordedRequest[] = [];
  const hung = new Set<ServerResponse>();
  // Bucket state as ReCharge reports it in X-Recharge-Limit (informational unless rateLimit is set).
  let used = 0;
  const strict = options.rateLimit;
  let level = 0;
  let levelAt = Date.now();
  /** Strict mode: drains the bucket to now, then admits the call if it fits. */
  const admit = (): { ok: boolean; used: number } => {
    if (!strict) return { ok: true, used: 0 };
    const now = Date.now();
    level = Math.max(0, level - ((now - levelAt) / 1000) * strict.perSecond);
    levelAt = now;
    // A hair of tolerance for float rounding only.
    if (level + 1 > strict.capacity + 1e-9) return { ok: false, used: Math.ceil(level) + 1 };
    level += 1;
    return { ok: true, used: Math.ceil(level) };
  };

  type Answer = (status: number, payload: unknown, headers?: Record<string, string>) => void;
  const toMs = (value: unknown) =>
    typeof value === 'string' ? Date.parse(`${value.replace(/Z$/, '')}Z`) : Number.NaN;

  /**
   * GET /orders: `updated_at_min` and `limit` (default 50, at most 250), sorted by id. 2021-11
   * pages with a body cursor (and refuses filters repeated beside it, as ReCharge does); 2021-01
   * with `page` and a `Link: <...>; rel="next"` header.
   */
  const listOrders = (url: URL, version: string, answer: Answer, headers: Record<string, string>) => {
    const limit = Number(url.searchParams.get('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) {
      answer(422, { errors: 'limit must be 1-250' }, headers);
      return;
    }
    let min = url.searchParams.get('updated_at_min') ?? undefined;
    let afterId = 0;
    const cursor = url.searchParams.get('cursor');
    if (cursor) {
      if ([...url.searchParams.keys()].some((k) => k !== 'cursor' && k !== 'limit')) {
        answer(422, { errors: 'filters cannot be combined with cursor' }, headers);
        return;
      }
      try {
        const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        min = decoded.min ?? undefined;
        afterId = Number(decoded.afterId);
      } catch {
        answer(422, { errors: 'invalid cursor' }, headers);
        return;
      }
    }
    const minMs = min ? toMs(min) : Number.NEGATIVE_INFINITY;
    if (Number.isNaN(minMs)) {
      answer(422, { errors: 'invalid updated_at_min' }, headers);
      return;
    }
    const matching = [...orders.values()]
      .filter((o) => toMs(o.updated_at) >= minMs)
      .sort((a, b) => Number(a.id) - Number(b.id));
    if (version === '2021-11') {
      const rest = matching.filter((o) => Number(o.id) > afterId);
      const page = rest.slice(0, limit);
      const last = page.at(-1);
      const next =
        rest.length > limit && last
          ? Buffer.from(JSON.stringify({ min, afterId: Number(last.id) })).toString('base64url')
          : null;
      answer(200, { orders: page, next_cursor: next, previous_cursor: null }, headers);
      return;
    }
    const pageNo = Number(url.searchParams.get('page') ?? 1);
    const page = matching.slice((pageNo - 1) * limit, pageNo * limit);
    const linkHeaders = { ...headers };
    if (matching.length > pageNo * limit) {
      const next = new URL('/orders', selfUrl);
      next.searchParams.set('limit', String(limit));
      next.searchParams.set('page', String(pageNo + 1));
      if (min) next.searchParams.set('updated_at_min', min);
      linkHeaders.link = `<${next.href}>; rel="next"`;
    }
    answer(200, { orders: page }, linkHeaders);
  };

  /** Control routes for the local mode and demos: tell the fake about an order, drop deliveries. */
  const control = (url: URL, body: unknown, answer: Answer) => {
    const fields = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if (url.pathname === '/__fake/orders') {
      const order = fields.order as FakeOrder | undefined;
      if (!order || typeof order !== 'object' || order.id === undefined) {
        answer(422, { errors: 'expected {"order": {...}, "topic"?: "order/created"}' });
        return;
      }
      void upsert(order, typeof fields.topic === 'string' ? fields.topic : undefined);
      answer(202, { kept: String(order.id) });
      return;
    }
    if (url.pathname === '/__fake/drop' && typeof fields.rate === 'number') {
      drop = Math.min(1, Math.max(0, fields.rate));
      answer(200, { rate: drop });
      return;
    }
    answer(404, { errors: 'Not Found' });
  };

  const upsert = (order: FakeOrder, topic?: string): Promise<void> => {
    orders.set(String(order.id), structuredClone(order));
    return topic ? deliver(structuredClone(order), topic) : Promise.resolve();
  };

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

      if (url.pathname.startsWith('/__fake/')) {
        control(url, body, answer);
        return;
      }
      let affected =
        behaviour.mode !== 'ok' &&
        remaining > 0 &&
        (!behaviour.pathPrefix || url.pathname.startsWith(behaviour.pathPrefix)) &&
        (!behaviour.method || behaviour.method === req.method);
      if (affected && skipping > 0) {
        skipping -= 1;
        affected = false;
      }
      const current = affected ? behaviour : undefined;
      if (affected) {
        remaining -= 1;
        if (remaining <= 0) {
          behaviour = { mode: 'ok' };
          remaining = Number.POSITIVE_INFINITY;
        }
      }
      const resourceMatch = /^\/(orders|charges)\/(\d+)$/.exec(url.pathname);
      let early: unknown;
      if (current?.applyFirst && req.method === 'PUT' && resourceMatch)
        early = applyPut(
          resourceMatch[1] === 'orders' ? 'order' : 'charge',
          String(resourceMatch[2]),
          body && typeof body === 'object' ? body : {},
          recorded,
        );

      const respond = () => {
        if (strict && current?.mode !== 'hang') {
          const admitted = admit();
          if (!admitted.ok) {
            answer(
              429,
              { errors: 'Too Many Requests' },
              { 'x-recharge-limit': `${admitted.used}/${strict.capacity}` },
            );
            return;
          }
        }
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
        const match = resourceMatch;
        if (req.method === 'PUT' && match) {
          const resource = match[1] === 'orders' ? 'order' : 'charge';
          const fields = body && typeof body === 'object' ? body : {};
          answer(200, early ?? applyPut(resource, String(match[2]), fields, recorded), limit);
          return;
        }
        if (req.method === 'GET' && match) {
          // Any id exists (the PUTs answer 200 for any id too): a kept order as kept, anything else
          // with the ids last PUT, in the reading version's shape.
          const resource = match[1] === 'orders' ? 'order' : 'charge';
          const id = String(match[2]);
          const found = (resource === 'order' ? orders.get(id) : undefined) ?? {
            id: Number(id),
            ...written.get(`${resource}s/${id}`),
          };
          answer(200, { [resource]: asVersion(found, version) }, limit);
          return;
        }
        if (req.method === 'GET' && url.pathname === '/orders') {
          listOrders(url, version, answer, limit);
          return;
        }
        if (url.pathname === '/webhooks' && req.method === 'GET') {
          answer(
            200,
            version === '2021-11' ? { webhooks, next_cursor: null, previous_cursor: null } : { webhooks },
            limit,
          );
          return;
        }
        if (url.pathname === '/webhooks' && req.method === 'POST') {
          const fields = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
          if (typeof fields.address !== 'string' || typeof fields.topic !== 'string') {
            answer(422, { errors: 'address and topic are required' }, limit);
            return;
          }
          const created = { id: nextWebhookId++, address: fields.address, topic: fields.topic };
          webhooks.push(created);
          answer(201, { webhook: created }, limit);
          return;
        }
        const webhookMatch = /^\/webhooks\/(\d+)$/.exec(url.pathname);
        if (webhookMatch && req.method === 'DELETE') {
          const index = webhooks.findIndex((w) => w.id === Number(webhookMatch[1]));
          if (index < 0) {
            answer(404, { errors: 'Not Found' }, limit);
            return;
          }
          webhooks.splice(index, 1);
          answer(200, {}, limit);
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
  selfUrl = `http://127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    applied: () =>
      requests.filter(
        (r) =>
          r.applied || (r.method !== 'GET' && r.status !== undefined && r.status >= 200 && r.status < 300),
      ),
    setBehaviour(next) {
      behaviour = next;
      remaining = next.times ?? Number.POSITIVE_INFINITY;
      skipping = next.skip ?? 0;
    },
    orders,
    webhooks,
    deliveries,
    upsertOrder: upsert,
    setDeliveryDrop(next) {
      drop = next;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    reset() {
      requests.length = 0;
      behaviour = { mode: 'ok' };
      remaining = Number.POSITIVE_INFINITY;
      skipping = 0;
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
