import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { RetryLaterError } from '../errors';
import { type Log, processLog } from '../logger';

/**
 * One ReCharge rate budget per API token, shared by every caller that holds the token: all worker
 * containers, the reconciler and the CLI (every HTTP attempt of RechargeClient takes its slot here).
 *
 * Why GCRA (the leaky bucket as a "theoretical arrival time") in one DynamoDB item, one conditional
 * UpdateItem per call, rather than leases of several slots or a dedicated write-back queue:
 * - the whole state is one number (`tat`, epoch ms), so a reservation is an atomic `tat = tat + T`:
 *   callers never retry against each other and are served in arrival order;
 * - nothing is held: a reservation is a point in time, so a container that dies after reserving
 *   costs at most the slots it reserved, and those are spent by the clock, never waiting for a lease
 *   to expire (no lost capacity to give back);
 * - a write-back queue would need its own consumer at concurrency one and would split one record's
 *   work across two queues; the budget keeps the worker's exactly-once steps as they are.
 * Bound: grants are scheduled so that, for the bucket `limit` deep draining `rate` per second, the
 * slots handed out in any window of w seconds never exceed limit + rate * w. Extending from a `tat`
 * that passed during one round trip can over-credit by (round trip / interval) slots; the spare slot
 * of depth covers that while DynamoDB answers within one interval (513 ms at ReCharge's 2/s).
 * One call for a process's concurrent requests: requests of one scope that come while a call is
 * collecting (DEFAULT_COLLECT_MS) or in flight share the next call, which advances tat by their total
 * and gives each its own consecutive slots in arrival order: the schedule of their takes in a row,
 * so the bound holds. Each keeps its own deadline (a requester whose slot would come after it is
 * refused, taking nothing, and the others are asked for again) and waits for its own slot.
 */

/**
 * Thrown when no slot can be had before the caller's deadline (or a 429 pushed past it);
 * `retryAfterMs` is when budget is expected again.
 */
export class RateLimitedError extends RetryLaterError {}

export interface RateBudget {
  /**
   * Takes one call slot for `scope` (a hash of the token), waiting until it is due. Throws
   * RateLimitedError, without taking anything, when the slot would come after `deadline` (epoch ms).
   */
  take(scope: string, deadline: number): Promise<void>;
  /**
   * Reserves `n` consecutive slots for `scope` with one call (tat advances by n intervals) and
   * returns when each is due (epoch ms, ascending), without waiting: the caller must not use a slot
   * before its time. Throws RateLimitedError, taking nothing, when the last would come after `deadline`.
   */
  reserve(scope: string, n: number, deadline: number): Promise<number[]>;
  /** The server answered 429: nobody holding `scope` calls again for `waitMs`. */
  throttled(scope: string, waitMs: number): Promise<void>;
}

export interface RateBudgetLimits {
  /** Calls the bucket holds (ReCharge: 40). */
  capacity: number;
  /** Calls that leak out per second (ReCharge: 2). */
  perSecond: number;
  /**
   * Share of the rate kept back for clock drift between containers and for arrival jitter (must stay
   * under 5 %). Default 2.5 %: at 2 calls/s that is 1.95/s, i.e. one slot in 40 s.
   */
  headroom?: number;
}

export const DEFAULT_RATE_HEADROOM = 0.025;

/** The schedule both budgets share: spacing between calls and the bucket depth used. */
export function gcraParams(limits: RateBudgetLimits): { intervalMs: number; limit: number } {
  const headroom = limits.headroom ?? DEFAULT_RATE_HEADROOM;
  if (!(headroom >= 0 && headroom < 0.05)) throw new RangeError('rate headroom must be in [0, 0.05)');
  // One slot of depth kept back as well: a call is granted before it reaches ReCharge, and calls granted
  // in turn can arrive together; the spare slot absorbs that bunching during the opening burst.
  const limit = Math.max(1, limits.capacity - 1);
  return { intervalMs: 1000 / (limits.perSecond * (1 - headroom)), limit };
}

/** The budget's item key: never the token itself, only a hash of it. */
export function rateBudgetScope(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 32);
}

/** The budget item's partition key in the idempotency table. */
export function rateBudgetPk(scope: string): string {
  return `ratebudget#recharge#${scope}`;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Clock {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The same schedule held in this process only: for unit tests, benchmarks of the worker alone and
 * tools that run without the table. Not shared across processes (and with no call to share, each
 * request is served on its own).
 */
export class MemoryRateBudget implements RateBudget {
  private readonly tat = new Map<string, number>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly intervalMs: number;
  private readonly limit: number;

  constructor(limits: RateBudgetLimits, clock: Clock = {}) {
    ({ intervalMs: this.intervalMs, limit: this.limit } = gcraParams(limits));
    this.now = clock.now ?? Date.now;
    this.sleep = clock.sleep ?? sleepFor;
  }

  async take(scope: string, deadline: number): Promise<void> {
    const [due = 0] = await this.reserve(scope, 1, deadline);
    const now = this.now();
    if (due > now) await this.sleep(Math.ceil(due - now));
  }

  async reserve(scope: string, n: number, deadline: number): Promise<number[]> {
    const now = this.now();
    const tat = Math.max(this.tat.get(scope) ?? now, now) + n * this.intervalMs;
    const due = tat - this.limit * this.intervalMs;
    if (due > deadline)
      throw new RateLimitedError('recharge rate budget: no slot before the deadline', Math.ceil(due - now));
    this.tat.set(scope, tat);
    return slotDues(tat, n, this.intervalMs, this.limit, now);
  }

  async throttled(scope: string, waitMs: number): Promise<void> {
    const next = this.now() + waitMs + (this.limit - 1) * this.intervalMs;
    if ((this.tat.get(scope) ?? 0) < next) this.tat.set(scope, next);
  }
}

export interface DynamoRateBudgetOptions extends RateBudgetLimits, Clock {
  client: DynamoDBClient;
  /** The idempotency table (key `pk`, TTL `expiresAt`): the budget item lives beside the claims. */
  table: string;
  /** Reports each grant's scheduled time (tests, benchmarks). */
  onGrant?: (scope: string, dueAt: number) => void;
  /** Where the repair of an unreadable budget item is reported (default: the process logger). */
  log?: Pick<Log, 'warn'>;
  /**
   * How long the first request after a quiet spell waits for others of its scope to share its call
   * (ms, default DEFAULT_COLLECT_MS; 0: it goes at once, and only requests arriving while a call is
   * in flight share the next one).
   */
  collectMs?: number;
}

/**
 * Trade-off: the first request after a quiet spell waits 5 ms for the others of a worker batch, which
 * reach the budget within milliseconds of each other. bench:cost (batches of 10): 0.17-0.21 budget WRU
 * per webhook instead of 0.28 with no window (0.30 with no sharing), about $0.07 per million; a lone record
 * pays 5 ms of its invocation (256 MB arm64: $0.02 per million). 20 ms measured 0.13: not worth 4x the wait.
 */
export const DEFAULT_COLLECT_MS = 5;

/** Budget items outlive a quiet day, and vanish (TTL) once a rotated token is no longer used. */
const ITEM_TTL_SECONDS = 86_400;

/**
 * The shared budget: item `pk = ratebudget#recharge#<token hash>` with `tat` (epoch ms). A
 * reservation is one conditional UpdateItem: `tat + T` while tat is in the future and the slot is due
 * before the deadline, or `now + T` once it has passed (two branches, because an update expression
 * cannot take a max). The branch tried first follows the last `tat` seen, so the usual cost is one call,
 * shared by the requests of the scope that come together in this process.
 */
export class DynamoRateBudget implements RateBudget {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly intervalMs: number;
  private readonly limit: number;
  private readonly lastTat = new Map<string, number>();
  private readonly collectMs: number;
  /** Requests per scope waiting for their shared call; a scope is here only while it has some. */
  private readonly queues = new Map<string, ScopeQueue>();

  constructor(private readonly options: DynamoRateBudgetOptions) {
    ({ intervalMs: this.intervalMs, limit: this.limit } = gcraParams(options));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepFor;
    this.collectMs = options.collectMs ?? DEFAULT_COLLECT_MS;
  }

  private key(scope: string) {
    return { pk: { S: rateBudgetPk(scope) } };
  }

  async take(scope: string, deadline: number): Promise<void> {
    // Sleeps from the clock read of the round that was granted, as before `reserve` existed.
    const { dues, now } = await this.reserveAt(scope, 1, deadline);
    const due = dues[0] ?? now;
    if (due > now) await this.sleep(Math.ceil(due - now));
  }

  /**
   * One conditional UpdateItem for all `n` slots (tat += n*T), the same schedule as n takes in a row:
   * the k-th slot is due when a k-th single take would have been, so the bound is unchanged.
   */
  async reserve(scope: string, n: number, deadline: number): Promise<number[]> {
    return (await this.reserveAt(scope, n, deadline)).dues;
  }

  /**
   * Queues the request with the others for the same scope in this process: they share one
   * UpdateItem (see `collectMs`), each with its own slots in arrival order and its own deadline.
   */
  private reserveAt(scope: string, n: number, deadline: number): Promise<Granted> {
    if (!(Number.isInteger(n) && n >= 1))
      return Promise.reject(new RangeError('slots to reserve must be a positive integer'));
    return new Promise<Granted>((resolve, reject) => {
      let queue = this.queues.get(scope);
      if (!queue) {
        queue = { waiting: [], busy: false };
        this.queues.set(scope, queue);
      }
      queue.waiting.push({ n, deadline, resolve, reject });
      if (!queue.busy) {
        queue.busy = true;
        void this.drain(scope, queue);
      }
    });
  }

  /** Sends the scope's waiting requests, all of them in one call, until none is left. */
  private async drain(scope: string, queue: ScopeQueue): Promise<void> {
    if (this.collectMs > 0) await new Promise<void>((resolve) => setTimeout(resolve, this.collectMs));
    try {
      while (queue.waiting.length > 0) await this.reserveJoint(scope, queue.waiting.splice(0));
    } finally {
      queue.busy = false;
      if (queue.waiting.length === 0) this.queues.delete(scope);
    }
  }

  /**
   * Reserves the slots of every requester in `group` (in arrival order) with one conditional
   * UpdateItem: tat advances by their total, the i-th requester's slots follow the slots of those
   * before it, and the condition holds each requester's last slot to its own deadline. A requester
   * whose slot would come after its deadline, at a `tat` the table returned, is refused
   * (RateLimitedError) and taken out; the others are asked for again, so a refused requester takes
   * nothing and never pushes those after it back. Settles every requester; never throws.
   */
  private async reserveJoint(scope: string, group: Requester[]): Promise<void> {
    let members = group;
    try {
      // A value `tat` is known to have reached (it only ever grows): once a restart was refused because
      // tat >= its now, extending from that floor cannot be refused for being in the past again, so a
      // reservation costs at most three round trips even when tat hovers around now, plus one for each
      // requester taken out for its deadline.
      let floor: number | undefined;
      for (let round = 0; round < 4 + group.length && members.length > 0; round++) {
        const now = this.now();
        const extending = floor !== undefined || (this.lastTat.get(scope) ?? 0) >= now;
        // From an empty bucket (restart): whoever cannot be served even then (more slots than its
        // deadline leaves) is refused before asking.
        if (!extending) members = this.within(members, now, now);
        if (members.length === 0) return;
        let outcome = extending
          ? await this.extend(scope, members, floor ?? now, now)
          : await this.restart(scope, total(members), now);
        if (outcome.kind === 'unreadable') {
          members = this.within(members, now, now);
          if (members.length === 0) return;
          outcome = await this.heal(scope, total(members), now, outcome.value);
          if (outcome.kind !== 'granted') {
            floor = undefined; // another caller repaired it first: read it as it stands now
            continue;
          }
        }
        this.lastTat.set(scope, outcome.tat);
        if (outcome.kind === 'granted') {
          this.grant(scope, members, outcome.tat, now);
          return;
        }
        if (extending && outcome.tat >= (floor ?? now)) {
          // Refused only because someone's slot comes after its deadline: those are taken out.
          const kept = this.within(members, outcome.tat, now);
          // The table's decimal and this float can disagree at the very edge: the tightest goes.
          members = kept.length < members.length ? kept : this.refuseTightest(kept, outcome.tat, now);
          continue;
        }
        if (extending) {
          floor = undefined; // tat had passed: restart from now
          continue;
        }
        // Restart refused: tat >= now, someone took a slot in the meantime.
        members = this.within(members, outcome.tat, now);
        floor = now;
      }
      // Unreachable in practice (see `floor`); a transient failure rather than an endless loop.
      for (const m of members)
        m.reject(new RateLimitedError('recharge rate budget: contended', Math.ceil(this.intervalMs)));
    } catch (error) {
      for (const m of members) m.reject(error);
    }
  }

  /**
   * The latest `tat` a requester can be served from when its last slot is the `through`-th of the
   * call: due by its deadline (tat + through*T - limit*T <= deadline). No deadline (a CLI): still a
   * number DynamoDB accepts.
   */
  private latest(m: Requester, through: number, now: number): number {
    return Math.min(m.deadline, now + ITEM_TTL_SECONDS * 1000) + (this.limit - through) * this.intervalMs;
  }

  /** What every member of a call allows: the i-th's last slot follows the slots of those before it. */
  private latestOf(members: Requester[], now: number): number[] {
    let through = 0;
    return members.map((m) => {
      through += m.n;
      return this.latest(m, through, now);
    });
  }

  /**
   * The members that can be served from `base`, in arrival order, each after those kept before it;
   * the others are refused, with when their slot would have come.
   */
  private within(members: Requester[], base: number, now: number): Requester[] {
    const kept: Requester[] = [];
    let through = 0;
    for (const m of members) {
      if (base <= this.latest(m, through + m.n, now)) {
        kept.push(m);
        through += m.n;
      } else this.refuse(m, base + (through + m.n - this.limit) * this.intervalMs, now);
    }
    return kept;
  }

  /** Refuses the member whose deadline binds the call (the table refused at a `tat` this float allows). */
  private refuseTightest(members: Requester[], base: number, now: number): Requester[] {
    const latest = this.latestOf(members, now);
    const tightest = latest.indexOf(Math.min(...latest));
    const through = total(members.slice(0, tightest + 1));
    this.refuse(members[tightest] as Requester, base + (through - this.limit) * this.intervalMs, now);
    return members.filter((_, i) => i !== tightest);
  }

  private refuse(m: Requester, due: number, now: number): void {
    m.reject(new RateLimitedError('recharge rate budget: no slot before the deadline', Math.ceil(due - now)));
  }

  /** Hands each member its slots of the `n` ending at `tat`, in arrival order. */
  private grant(scope: string, members: Requester[], tat: number, now: number): void {
    let after = total(members);
    for (const m of members) {
      after -= m.n;
      const dues = slotDues(tat - after * this.intervalMs, m.n, this.intervalMs, this.limit, now);
      for (const due of dues) this.options.onGrant?.(scope, due);
      m.resolve({ dues, now });
    }
  }

  /** tat is in the future and every member's last slot is due by its deadline: tat += n*T. */
  private async extend(scope: string, members: Requester[], floor: number, now: number): Promise<Outcome> {
    const latest = Math.min(...this.latestOf(members, now));
    return this.update(scope, {
      UpdateExpression: 'SET tat = tat + :t, expiresAt = :exp',
      ConditionExpression: 'tat >= :floor AND tat <= :latest',
      ExpressionAttributeValues: {
        ':t': { N: String(total(members) * this.intervalMs) },
        ':floor': { N: String(floor) },
        ':latest': { N: String(latest) },
        ':exp': { N: String(Math.floor(now / 1000) + ITEM_TTL_SECONDS) },
      },
    });
  }

  /** No item, or tat has passed: the bucket has leaked empty, tat = now + n*T. */
  private async restart(scope: string, n: number, now: number): Promise<Outcome> {
    return this.update(scope, {
      UpdateExpression: 'SET tat = :next, expiresAt = :exp',
      ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
      ExpressionAttributeValues: {
        ':next': { N: String(now + n * this.intervalMs) },
        ':now': { N: String(now) },
        ':exp': { N: String(Math.floor(now / 1000) + ITEM_TTL_SECONDS) },
      },
    });
  }

  /**
   * The item's `tat` is not a number the schedule can use (a hand edit, a bad restore): every
   * conditional update would be refused and the token would make no ReCharge call again. It is read
   * as a fresh bucket (the worst case is one bucket's depth of calls early, which ReCharge answers
   * with 429s the client backs off from) and overwritten, conditioned on still being unreadable.
   */
  private async heal(scope: string, n: number, now: number, value: string): Promise<Outcome> {
    (this.options.log ?? processLog).warn('rate budget item unreadable: reset to a fresh bucket', {
      scope,
      tat: value.slice(0, 40),
    });
    return this.update(scope, {
      UpdateExpression: 'SET tat = :next, expiresAt = :exp',
      ConditionExpression: 'attribute_exists(tat) AND NOT attribute_type(tat, :number)',
      ExpressionAttributeValues: {
        ':next': { N: String(now + n * this.intervalMs) },
        ':number': { S: 'N' },
        ':exp': { N: String(Math.floor(now / 1000) + ITEM_TTL_SECONDS) },
      },
    });
  }

  private async update(
    scope: string,
    input: Pick<
      ConstructorParameters<typeof UpdateItemCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'
    >,
  ): Promise<Outcome> {
    try {
      const out = await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: this.key(scope),
          ...input,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'granted', tat: Number(out.Attributes?.tat?.N) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const held = error.Item?.tat;
      if (held !== undefined && !Number.isFinite(Number(held.N ?? Number.NaN)))
        return { kind: 'unreadable', value: JSON.stringify(held) };
      return { kind: 'refused', tat: Number(held?.N ?? 0) };
    }
  }

  /**
   * Pushes `tat` so the next slot anyone gets is due after `waitMs`: tat = now + wait + (limit-1)*T,
   * only ever forward. Every container slows down, not only the one that was told.
   */
  async throttled(scope: string, waitMs: number): Promise<void> {
    const now = this.now();
    const next = now + waitMs + (this.limit - 1) * this.intervalMs;
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: this.key(scope),
          UpdateExpression: 'SET tat = :next, expiresAt = :exp',
          // An unreadable tat is replaced too (see `heal`).
          ConditionExpression: 'attribute_not_exists(tat) OR NOT attribute_type(tat, :number) OR tat < :next',
          ExpressionAttributeValues: {
            ':next': { N: String(next) },
            ':number': { S: 'N' },
            ':exp': { N: String(Math.floor(now / 1000) + ITEM_TTL_SECONDS) },
          },
        }),
      );
      this.lastTat.set(scope, next);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

type Outcome = { kind: 'granted' | 'refused'; tat: number } | { kind: 'unreadable'; value: string };

/** Slots handed to one requester, and the clock read of the round that granted them. */
interface Granted {
  dues: number[];
  now: number;
}

/** One request for slots waiting to be sent with the others for its scope. */
interface Requester {
  n: number;
  deadline: number;
  resolve: (granted: Granted) => void;
  reject: (error: unknown) => void;
}

interface ScopeQueue {
  waiting: Requester[];
  /** A call for the scope is collecting or in flight: new requests wait for the next one. */
  busy: boolean;
}

const total = (members: Requester[]) => members.reduce((sum, m) => sum + m.n, 0);

/** When each of the n slots ending at `tat` is due: the k-th at tat - (n-k)*T - limit*T, never before now. */
function slotDues(tat: number, n: number, intervalMs: number, limit: number, now: number): number[] {
  return Array.from({ length: n }, (_, i) =>
    Math.max(now, tat - (n - 1 - i) * intervalMs - limit * intervalMs),
  );
}

/**
 * The token's shared budget for any process that calls ReCharge (worker, reconciler, CLI): the
 * idempotency table and the configured limits (`rechargeRateFields` in shared/config).
 */
export function sharedRateBudget(
  client: DynamoDBClient,
  idempotencyTable: string,
  env: { RECHARGE_RATE_CAPACITY: number; RECHARGE_RATE_PER_SECOND: number },
  log?: Pick<Log, 'warn'>,
): DynamoRateBudget {
  return new DynamoRateBudget({
    client,
    ...(log ? { log } : {}),
    table: idempotencyTable,
    capacity: env.RECHARGE_RATE_CAPACITY,
    perSecond: env.RECHARGE_RATE_PER_SECOND,
  });
}
