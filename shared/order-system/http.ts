import * as z from 'zod';
import { ConfigError, PermanentError, TransientError } from '../errors';
import type { ExternalCall } from '../external-call';
import { isLoopbackUrl } from '../secure-url';
import { signOrderSystemRequest } from './signing';
import type { CreatedOrder, CreateOrderInput, OrderStateInput, OrderSystem, PushAnswer } from './types';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/**
 * The state version of a create or push (also the body's `version`). The order system applies a
 * push only when this is higher than the version it holds, and answers 409 or 412 otherwise.
 */
export const VERSION_HEADER = 'X-Order-Webhooks-Version';

const idsSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  number: z.union([z.string().min(1), z.number()]).transform(String),
});

/**
 * The state version the order system reports holding (`version` in its JSON answer): on a create
 * answered 409 and on a push answered 409/412. Absent or unreadable: unknown.
 */
const heldVersionSchema = z.object({
  version: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]),
});

async function heldVersionOf(res: Response): Promise<number | undefined> {
  const body = await res.json().catch(() => undefined);
  const held = heldVersionSchema.safeParse(body);
  return held.success ? held.data.version : undefined;
}

export interface HttpOrderSystemOptions {
  url: string;
  timeoutMs: number;
  /** Reads ORDER_SYSTEM_SECRET (rotation is picked up through the secrets provider). */
  secret: () => Promise<string | undefined>;
  /** Called after every HTTP call (the effect log line). */
  onCall?: (call: ExternalCall) => void;
}

/**
 * The merchant's HTTP order system. POST {url} with the canonical order creates it and answers
 * `{id, number}`; PATCH {url}/{id} pushes the order's whole current state with its version. 2xx
 * succeeds; on a create 409 carrying the existing ids succeeds; on a push 409/412 means the system
 * holds a newer version (superseded, fine); 429, 5xx, timeouts and network errors are transient;
 * any other 4xx is permanent. A 409/412 answer says which version the system holds (`version`), so
 * a create whose first answer was lost learns what the system kept (see docs/design.md).
 */
export class HttpOrderSystem implements OrderSystem {
  readonly kind = 'http' as const;
  constructor(private readonly options: HttpOrderSystemOptions) {
    // Customer data and the signed requests must not travel in clear (loopback: tests, local mode).
    if (new URL(options.url).protocol !== 'https:' && !isLoopbackUrl(options.url))
      throw new ConfigError('ORDER_SYSTEM_URL must be https:// (http:// only to a loopback address)');
  }

  async createOrder(input: CreateOrderInput): Promise<CreatedOrder> {
    const body = JSON.stringify({
      ...input.order,
      version: input.version,
      status: input.status,
      paymentStatus: input.paymentStatus,
      fulfilmentStatus: input.fulfilmentStatus,
      providerStatus: input.providerStatus,
      subscriptionStatus: input.subscriptionStatus,
    });
    const res = await this.send(
      'POST',
      this.options.url,
      body,
      input.idempotencyKey,
      input.version,
      input.deadline,
      input.ref.orderId,
    );
    if (res.ok || res.status === 409) {
      const answer: unknown = await res.json().catch(() => undefined);
      const ids = idsSchema.safeParse(answer);
      if (!ids.success) throw new PermanentError(`order system answered ${res.status} without id and number`);
      const held = heldVersionSchema.safeParse(answer);
      // 2xx: it created the order with the state sent. 409: it kept an earlier create (one whose
      // answer was lost), whose state may be older than the one sent now: only its word counts.
      if (held.success) return { ...ids.data, heldVersion: held.data.version };
      return res.ok ? { ...ids.data, heldVersion: input.version } : ids.data;
    }
    throw classify(res.status, 'create');
  }

  async pushState(input: OrderStateInput): Promise<PushAnswer> {
    const body = JSON.stringify({
      id: input.external.id,
      number: input.external.number,
      source: input.ref,
      version: input.version,
      status: input.status,
      paymentStatus: input.paymentStatus,
      fulfilmentStatus: input.fulfilmentStatus,
      providerStatus: input.providerStatus,
      subscriptionStatus: input.subscriptionStatus,
      updatedAt: input.updatedAt,
    });
    const url = `${this.options.url.replace(/\/+$/, '')}/${encodeURIComponent(input.external.id)}`;
    const res = await this.send(
      'PATCH',
      url,
      body,
      input.idempotencyKey,
      input.version,
      input.deadline,
      input.ref.orderId,
    );
    if (res.status === 409 || res.status === 412) {
      const heldVersion = await heldVersionOf(res);
      if (heldVersion === undefined) return { outcome: 'superseded' };
      // Refusing a newer version while holding an older one breaks the contract: retrying the same
      // version cannot help, so it is refused with the reason (dead-letter queue, nothing lost).
      if (heldVersion < input.version)
        throw new PermanentError(
          `order system refused state version ${input.version} while holding older version ${heldVersion}`,
        );
      return { outcome: 'superseded', heldVersion };
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return { outcome: 'pushed' };
    throw classify(res.status, 'state push');
  }

  private async send(
    method: string,
    url: string,
    body: string,
    key: string,
    version: number,
    deadline = Number.POSITIVE_INFINITY,
    orderId?: string,
  ): Promise<Response> {
    const secret = await this.options.secret();
    if (!secret) throw new ConfigError('ORDER_SYSTEM_SECRET is not set');
    // A call cut short by the deadline is retried with the same Idempotency-Key: no second order.
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new TransientError('order system: no time left in this invocation');
    const started = Date.now();
    const target = new URL(url);
    const report = (status: ExternalCall['status']) =>
      this.options.onCall?.({
        target: 'order-system',
        method,
        path: target.pathname,
        orderId,
        status,
        durationMs: Date.now() - started,
        attempt: 1,
      });
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          'content-type': 'application/json',
          [IDEMPOTENCY_HEADER]: key,
          [VERSION_HEADER]: String(version),
          ...signOrderSystemRequest(secret, { method, path: target.pathname + target.search, body }),
        },
        body,
        // A redirect would carry the signed order and its Idempotency-Key to whatever host it names.
        redirect: 'manual',
        signal: AbortSignal.timeout(Math.min(this.options.timeoutMs, remaining)),
      });
      report(res.status);
    } catch (error) {
      const timedOut = (error as { name?: unknown } | undefined)?.name === 'TimeoutError';
      report(timedOut ? 'timeout' : 'network');
      throw new TransientError(timedOut ? 'order system timed out' : 'order system unreachable', {
        cause: error,
      });
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new PermanentError(
        `order system answered ${method} with a ${res.status} redirect; redirects are not followed (set ORDER_SYSTEM_URL to the final https:// URL)`,
      );
    }
    return res;
  }
}

function classify(status: number, what: string): Error {
  if (status === 429 || status >= 500) return new TransientError(`order system ${what} answered ${status}`);
  return new PermanentError(`order system rejected ${what} with ${status}`);
}
