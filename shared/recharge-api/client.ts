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

  /** Writes our ids onto the ReCharge order. Any permanent answer (404 included) throws. */
  async updateOrder(orderId: string, ids: ExternalOrderRef, deadline: number): Promise<void> {
    await this.request('PUT', `/orders/${encodeURIComponent(orderId)}`, this.orderWriteBody(ids), deadline);
  }

  /**
   * Writes our external order id onto a prepaid order's charge. 404/405/422 mean the endpoint or
   * field is not supported by this API version: returned as `unsupported`, not thrown.
   */
  async updateCharge(chargeId: string, ids: ExternalOrderRef, deadline: number): Promise<ChargeWriteOutcome> {
    try {
      await this.request(
        'PUT',
        `/charges/${encodeURIComponent(chargeId)}`,
        this.chargeWriteBody(ids),
        deadline,
      );
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
  ): Promise<RechargeAnswer> {
    const token = await this.options.token();
    if (!token) throw new ConfigError('RECHARGE_API_TOKEN is not set');
    const url = this.resolve(pathAndQuery);
    // Logged and put in errors without the query (it may carry a cursor, never a secret, but stays short).
    const path = pathAndQuery.split('?')[0] ?? pathAndQuery;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const scope = rateBudgetScope(token);
    for (let attempt = 1; ; attempt++) {
      // A slot free now is always taken; a wait for one must end CALL_ROOM_MS before the deadline.
      await this.options.budget.take(scope, Math.max(this.now(), deadline - CALL_ROOM_MS));
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
      if (res.ok) return answer ?? { status: res.status, headers: res.headers, body: undefined };
      if (res.status === 429) {
        const wait = Math.max(MIN_429_WAIT_MS, retryAfterMs(res.headers));
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
      await this.backoff(attempt, deadline, `recharge ${path} answered ${res.status}`);
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
