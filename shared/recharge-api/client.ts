import * as z from 'zod';
import type { ExternalOrderRef } from '../domain/order';
import { ConfigError, PermanentError, TransientError } from '../errors';
import { type RateBudget, RateLimitedError, rateBudgetScope } from './rate-budget';

export type RechargeApiVersion = '2021-01' | '2021-11';

export interface RechargeCallEvent {
  method: string;
  path: string;
  status: number | 'network' | 'timeout';
  attempt: number;
  durationMs: number;
}

export interface RechargeClientOptions {
  baseUrl: string;
  version: RechargeApiVersion;
  /** Reads RECHARGE_API_TOKEN (rotation is picked up through the secrets provider). */
  token: () => Promise<string | undefined>;
  timeoutMs: number;
  /** The token's shared rate budget (DynamoRateBudget in AWS and the local mode). */
  budget: RateBudget;
  /** Called after every HTTP attempt (metrics, logs). */
  onCall?: (event: RechargeCallEvent) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** A 2xx answer read in full: its JSON body (undefined when empty) and headers (e.g. `Link`). */
export interface RechargeAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * What one run of a write-back knows and learns about whether an earlier PUT may have taken effect.
 * ReCharge has no idempotency key, so an uncertain PUT is verified with a GET before it is sent again.
 */
export interface WriteAttempt {
  /** An earlier attempt (another invocation, a crash) ended with an unknown outcome: read first. */
  verifyFirst?: boolean;
  /**
   * Set by the client: true while a PUT it sent (or was told about) has an unknown outcome (timeout,
   * network error, 5xx) that no later answer or read has settled. The worker keeps it on the step.
   */
  uncertain?: boolean;
  /**
   * A slot reserved ahead for this write's first PUT (see `reserveWrites`): used instead of asking the
   * budget, once; retries, 429s and verification reads take their own slots as always.
   */
  slot?: ReservedSlot;
}

/** One rate-budget slot reserved ahead: not to be used before `dueAt` (epoch ms). */
export interface ReservedSlot {
  dueAt: number;
  /** When it was reserved: a 429 seen since then voids it (the wait the 429 asked for comes first). */
  reservedAt: number;
}

/**
 * What a verification read saw: our ids already there, not there, the resource gone, no answer, or
 * (fill mode) another integration's ids there, which are kept: nothing is written.
 */
type Verified = 'applied' | 'absent' | 'gone' | 'unknown' | 'kept';

/** What a ReCharge order or charge holds in its external id fields (either API version's shape). */
export interface HeldIds {
  id?: string;
  number?: string;
}

/** Outcome of an order write-back: written (or found already written), or kept as another's (fill). */
export type OrderWriteOutcome = { outcome: 'written' } | { outcome: 'held-by-other'; held: HeldIds };

/** Outcome of a charge write-back: the endpoint may not exist in 2021-11 (see the reference). */
export type ChargeWriteOutcome = { outcome: 'updated' } | { outcome: 'unsupported'; status: number };

/** Statuses ReCharge documents as permanent; 429 and 5xx are retried; 401/403 are the token's fault. */
const PERMANENT = new Set([400, 404, 405, 406, 409, 415, 422, 426]);
/** The token is missing a scope, was rotated or revoked: a configuration problem, not a bad message. */
const AUTH_FAILED = new Set([401, 403]);
const MIN_429_WAIT_MS = 2000;
const MAX_BACKOFF_MS = 8000;
/** A slot due later than this before the deadline leaves too little time for the call itself. */
const CALL_ROOM_MS = 1000;

const limitHeader = z.string().regex(/^\d+\s*\/\s*\d+$/);

/** An HTTP answer ReCharge gave that is not 2xx and is not retried. */
export class RechargeHttpError extends PermanentError {
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`recharge ${path} answered ${status}`);
  }
}

/**
 * ReCharge refused the API token (401/403). A ConfigError: the record is kept and retried while
 * someone fixes RECHARGE_API_TOKEN (or its scopes), never dead-lettered as if the message were bad.
 */
export class RechargeAuthError extends ConfigError {
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(
      `recharge refused the API token with ${status} on ${path}: check RECHARGE_API_TOKEN and its write scopes`,
    );
  }
}

/**
 * The two ReCharge calls the worker makes. Every attempt takes a slot from the token's shared rate
 * budget and has a timeout; a 429 pushes the shared budget back by its wait (>= 2 s, Retry-After or
 * X-Recharge-Limit when present) so every caller slows down; 5xx, timeouts and network errors back off
 * exponentially with full jitter, always within `deadline` (epoch ms). No slot before the deadline, or
 * a 429 wait past it, throws RateLimitedError (with when to come back).
 */
export class RechargeClient {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  /** When this client last saw a 429: slots reserved before it are not used (see `reserveWrites`). */
  private throttledAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: RechargeClientOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** The API version every call sends (`X-Recharge-Version`); list and webhook bodies depend on it. */
  get version(): RechargeApiVersion {
    return this.options.version;
  }

  /**
   * One API call whose answer is read (listing orders, webhook subscriptions): same bucket, timeout,
   * 429 and back-off rules as the write-backs. `pathAndQuery` is relative to the base URL; a 2xx
   * body that is not JSON is a TransientError (a proxy's error page), never parsed loosely.
   */
  async call(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    body: unknown,
    deadline: number,
  ): Promise<RechargeAnswer> {
    return this.request(method, pathAndQuery, body, deadline, true);
  }

  /**
   * Reserves the first-attempt slots of `n` writes about to be made in turn, with one call to the
   * budget instead of one each (a prepaid order's two PUTs). Empty when the budget cannot give all
   * of them before the deadline: each write then takes its own slot as usual. A reserved slot a
   * write never uses (the first PUT failed) is spent by the clock: wasted, never exceeding the limit.
   */
  async reserveWrites(n: number, deadline: number): Promise<ReservedSlot[]> {
    const token = await this.options.token();
    if (!token) throw new ConfigError('RECHARGE_API_TOKEN is not set');
    try {
      const dues = await this.options.budget.reserve(
        rateBudgetScope(token),
        n,
        Math.max(this.now(), deadline - CALL_ROOM_MS),
      );
      const reservedAt = this.now();
      return dues.map((dueAt) => ({ dueAt, reservedAt }));
    } catch (error) {
      if (error instanceof RateLimitedError) return [];
      throw error;
    }
  }

  /** The PUT /orders body for the configured API version. */
  orderWriteBody(ids: ExternalOrderRef): Record<string, unknown> {
    return this.options.version === '2021-01'
      ? { external_order_id: ids.id, external_order_number: ids.number }
      : { external_order_id: { ecommerce: ids.id }, external_order_number: { ecommerce: ids.number } };
  }

  /** The PUT /charges body for the configured API version. */
  chargeWriteBody(ids: ExternalOrderRef): Record<string, unknown> {
    return this.options.version === '2021-01'
      ? { external_order_id: ids.id }
      : { external_order_id: { ecommerce: ids.id } };
  }

  /**
   * Writes our ids onto the ReCharge order. Any permanent answer (404 included) throws. After an
   * uncertain attempt (or with `attempt.verifyFirst`) the order is read first and not written again
   * when it already holds our ids; with `keepOthers` (fill mode) that read also keeps another
   * integration's ids: nothing is written and the outcome says what is held.
   */
  async updateOrder(
    orderId: string,
    ids: ExternalOrderRef,
    deadline: number,
    attempt: WriteAttempt = {},
    options: { keepOthers?: boolean } = {},
  ): Promise<OrderWriteOutcome> {
    const path = `/orders/${encodeURIComponent(orderId)}`;
    let kept: HeldIds | undefined;
    await this.request('PUT', path, this.orderWriteBody(ids), deadline, false, {
      attempt,
      // An order the read cannot find is left to the PUT (its 404 is the permanent answer).
      check: async () => {
        const found = await this.readResource(path, 'order', deadline);
        if (found === 'gone' || found === 'unknown') return 'unknown';
        if (rechargeHoldsIds(found, ids, true)) return 'applied';
        const held = heldIdsOf(found);
        if (options.keepOthers && heldByOther(held, ids)) {
          kept = held;
          return 'kept';
        }
        return 'absent';
      },
    });
    return kept ? { outcome: 'held-by-other', held: kept } : { outcome: 'written' };
  }

  /**
   * One read of what a ReCharge order holds in its external id fields (`GET /orders/<id>`): the
   * repair of a write-back that did not stick reads before it writes. Never retried, never throws:
   * `unknown` when there was no usable answer, `gone` for a 404.
   */
  async readOrderIds(orderId: string, deadline: number): Promise<HeldIds | 'gone' | 'unknown'> {
    const found = await this.readResource(`/orders/${encodeURIComponent(orderId)}`, 'order', deadline);
    return typeof found === 'string' ? found : heldIdsOf(found);
  }

  /**
   * Writes our external order id onto a prepaid order's charge. 404/405/422 mean the endpoint or
   * field is not supported by this API version: returned as `unsupported`, not thrown.
   */
  async updateCharge(
    chargeId: string,
    ids: ExternalOrderRef,
    deadline: number,
    attempt: WriteAttempt = {},
  ): Promise<ChargeWriteOutcome> {
    const path = `/charges/${encodeURIComponent(chargeId)}`;
    try {
      await this.request('PUT', path, this.chargeWriteBody(ids), deadline, false, {
        attempt,
        check: async () => {
          const found = await this.readResource(path, 'charge', deadline);
          if (typeof found === 'string') return found;
          return rechargeHoldsIds(found, ids, false) ? 'applied' : 'absent';
        },
      });
      return { outcome: 'updated' };
    } catch (error) {
      if (error instanceof RechargeHttpError && [404, 405, 422].includes(error.status))
        return { outcome: 'unsupported', status: error.status };
      throw error;
    }
  }

  private async request(
    method: string,
    pathAndQuery: string,
    body: unknown,
    deadline: number,
    read = false,
    verify?: { attempt: WriteAttempt; check: () => Promise<Verified> },
  ): Promise<RechargeAnswer> {
    const token = await this.options.token();
    if (!token) throw new ConfigError('RECHARGE_API_TOKEN is not set');
    const url = this.resolve(pathAndQuery);
    // Logged and put in errors without the query (it may carry a cursor, never a secret, but stays short).
    const path = pathAndQuery.split('?')[0] ?? pathAndQuery;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const scope = rateBudgetScope(token);
    if (verify?.attempt.verifyFirst) verify.attempt.uncertain = true;
    for (let attempt = 1; ; attempt++) {
      if (verify?.attempt.uncertain) {
        // Verify before writing again: ReCharge has no idempotency key, and a PUT that timed out may
        // have been applied. A read that fails says nothing: the PUT is sent again (same body, harmless).
        const seen = await verify.check();
        if (seen === 'applied' || seen === 'kept') {
          verify.attempt.uncertain = false;
          return { status: 200, headers: new Headers(), body: undefined };
        }
        if (seen === 'gone') throw new RechargeHttpError(404, path);
        if (seen === 'absent') verify.attempt.uncertain = false;
      }
      const reserved = attempt === 1 ? verify?.attempt.slot : undefined;
      if (verify) verify.attempt.slot = undefined;
      if (reserved && reserved.reservedAt > this.throttledAt) {
        // Reserved ahead by the caller (one budget call for several writes): only its time is awaited.
        const wait = reserved.dueAt - this.now();
        if (wait > 0) await this.sleep(Math.ceil(wait));
      }
      // A slot free now is always taken; a wait for one must end CALL_ROOM_MS before the deadline.
      else await this.options.budget.take(scope, Math.max(this.now(), deadline - CALL_ROOM_MS));
      const remaining = deadline - this.now();
      if (remaining <= 0) throw new TransientError(`recharge ${path}: no time left`);
      const started = this.now();
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            'X-Recharge-Access-Token': token,
            'X-Recharge-Version': this.options.version,
            ...(text === undefined ? {} : { 'Content-Type': 'application/json' }),
            Accept: 'application/json',
          },
          body: text,
          // Never replay the access token to wherever a redirect points: a 3xx is answered as permanent.
          redirect: 'manual',
          signal: AbortSignal.timeout(Math.min(this.options.timeoutMs, remaining)),
        });
      } catch (error) {
        const timedOut = (error as { name?: unknown } | undefined)?.name === 'TimeoutError';
        if (verify) verify.attempt.uncertain = true;
        this.options.onCall?.({
          method,
          path,
          status: timedOut ? 'timeout' : 'network',
          attempt,
          durationMs: this.now() - started,
        });
        await this.backoff(
          attempt,
          deadline,
          `recharge ${path} ${timedOut ? 'timed out' : 'unreachable'}`,
          error,
        );
        continue;
      }
      let answer: RechargeAnswer | undefined;
      if (res.ok && read) {
        try {
          const raw = await res.text();
          answer = { status: res.status, headers: res.headers, body: raw ? JSON.parse(raw) : undefined };
        } catch (error) {
          this.options.onCall?.({
            method,
            path,
            status: res.status,
            attempt,
            durationMs: this.now() - started,
          });
          throw new TransientError(`recharge ${path} answered ${res.status} with an unreadable body`, {
            cause: error,
          });
        }
      } else await res.body?.cancel().catch(() => undefined);
      this.options.onCall?.({ method, path, status: res.status, attempt, durationMs: this.now() - started });
      if (res.ok && verify) verify.attempt.uncertain = false;
      if (res.ok) return answer ?? { status: res.status, headers: res.headers, body: undefined };
      if (res.status === 429) {
        const wait = Math.max(MIN_429_WAIT_MS, retryAfterMs(res.headers));
        this.throttledAt = this.now();
        // Shared: the next slot of every container is pushed past the wait, so the retry below simply
        // takes its slot again (and waits in the budget) rather than sleeping on its own.
        await this.options.budget.throttled(scope, wait);
        if (this.now() + wait >= deadline - CALL_ROOM_MS)
          throw new RateLimitedError(`recharge ${path} throttled (429)`, wait);
        continue;
      }
      if (AUTH_FAILED.has(res.status)) throw new RechargeAuthError(res.status, path);
      if (
        PERMANENT.has(res.status) ||
        (res.status >= 300 && res.status < 400) ||
        (res.status >= 400 && res.status < 500 && res.status !== 408)
      )
        throw new RechargeHttpError(res.status, path);
      // A 5xx (or 408) may come from a proxy after ReCharge applied the write.
      if (verify) verify.attempt.uncertain = true;
      await this.backoff(attempt, deadline, `recharge ${path} answered ${res.status}`);
    }
  }

  /**
   * One verification read (GET of the written resource), from the same rate budget; only ever made
   * on the uncertain path and by the repair of a write-back that did not stick. Never retried and never throws: any failure is `unknown` (the caller
   * writes again), a 404 is `gone`.
   */
  private async readResource(
    path: string,
    key: 'order' | 'charge',
    deadline: number,
  ): Promise<Record<string, unknown> | 'gone' | 'unknown'> {
    const token = await this.options.token();
    if (!token) return 'unknown';
    let started: number | undefined;
    let status: RechargeCallEvent['status'] = 'network';
    try {
      const scope = rateBudgetScope(token);
      await this.options.budget.take(scope, Math.max(this.now(), deadline - CALL_ROOM_MS));
      const remaining = deadline - this.now();
      if (remaining <= 0) return 'unknown';
      started = this.now();
      const res = await fetch(this.resolve(path), {
        method: 'GET',
        headers: {
          'X-Recharge-Access-Token': token,
          'X-Recharge-Version': this.options.version,
          Accept: 'application/json',
        },
        redirect: 'manual',
        signal: AbortSignal.timeout(Math.min(this.options.timeoutMs, remaining)),
      });
      status = res.status;
      if (res.status === 404) {
        await res.body?.cancel().catch(() => undefined);
        return 'gone';
      }
      if (res.status === 429) {
        await res.body?.cancel().catch(() => undefined);
        this.throttledAt = this.now();
        await this.options.budget.throttled(scope, Math.max(MIN_429_WAIT_MS, retryAfterMs(res.headers)));
        return 'unknown';
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        return 'unknown';
      }
      const parsed = readBackSchema.safeParse(await res.json());
      const resource = parsed.success ? parsed.data[key] : undefined;
      return resource ?? 'unknown';
    } catch (error) {
      if ((error as { name?: unknown } | undefined)?.name === 'TimeoutError') status = 'timeout';
      return 'unknown';
    } finally {
      // Reported like every other call (metrics, logs); attempt 0 marks a verification read.
      if (started !== undefined)
        this.options.onCall?.({ method: 'GET', path, status, attempt: 0, durationMs: this.now() - started });
    }
  }

  /**
   * A path relative to the base URL, or an absolute URL ReCharge handed back (a `Link: rel="next"`):
   * the access token only ever goes to the configured origin and under its path.
   */
  private resolve(pathAndQuery: string): string {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    if (!/^https?:\/\//i.test(pathAndQuery)) return `${base}${pathAndQuery}`;
    const target = new URL(pathAndQuery);
    const root = new URL(`${base}/`);
    if (target.origin !== root.origin || !target.pathname.startsWith(root.pathname))
      throw new PermanentError('recharge answered a link outside the configured API URL: not followed');
    return target.href;
  }

  private async backoff(attempt: number, deadline: number, message: string, cause?: unknown): Promise<void> {
    const ceiling = Math.min(MAX_BACKOFF_MS, 200 * 2 ** (attempt - 1));
    const wait = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
    if (this.now() + wait >= deadline) throw new TransientError(message, { cause });
    await this.sleep(wait);
  }
}

const readBackSchema = z.object({
  order: z.record(z.string(), z.unknown()).optional(),
  charge: z.record(z.string(), z.unknown()).optional(),
});

/** An external id field as either API version returns it: a string (2021-01) or `{ecommerce}` (2021-11). */
function externalIdValue(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    const ecommerce = (value as { ecommerce?: unknown }).ecommerce;
    if (typeof ecommerce === 'string' || typeof ecommerce === 'number') return String(ecommerce);
  }
  return undefined;
}

/** The external ids a ReCharge order or charge holds (either API version's shape); empty ones are absent. */
export function heldIdsOf(resource: Record<string, unknown>): HeldIds {
  const id = externalIdValue(resource.external_order_id);
  const number = externalIdValue(resource.external_order_number);
  return { ...(id ? { id } : {}), ...(number ? { number } : {}) };
}

/** Whether a field holds a value that is not ours (another integration's ids): `fill` never replaces it. */
export function heldByOther(held: HeldIds, ids: ExternalOrderRef): boolean {
  return (
    (held.id !== undefined && held.id !== ids.id) || (held.number !== undefined && held.number !== ids.number)
  );
}

/**
 * Whether a ReCharge order or charge (either API version's shape) already holds our ids:
 * `external_order_id`, and for an order also `external_order_number`.
 */
export function rechargeHoldsIds(
  resource: Record<string, unknown>,
  ids: ExternalOrderRef,
  withNumber: boolean,
): boolean {
  if (externalIdValue(resource.external_order_id) !== ids.id) return false;
  return !withNumber || externalIdValue(resource.external_order_number) === ids.number;
}

/** Wait a 429 asks for: Retry-After seconds, or the overflow of `X-Recharge-Limit: used/size` at 2/s. */
export function retryAfterMs(headers: Headers): number {
  const retryAfter = Number(headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const limit = headers.get('x-recharge-limit');
  if (limit && limitHeader.safeParse(limit).success) {
    const [used, size] = limit.split('/').map((n) => Number(n.trim()));
    if (used !== undefined && size !== undefined && used >= size) return ((used - size + 1) / 2) * 1000;
  }
  return 0;
}
