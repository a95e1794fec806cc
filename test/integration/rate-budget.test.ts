import { spawn } from 'node:child_process';
import path from 'node:path';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { RechargeClient } from '../../shared/recharge-api/client';
import {
  DynamoRateBudget,
  gcraParams,
  RateLimitedError,
  rateBudgetScope,
} from '../../shared/recharge-api/rate-budget';
import { TSX_LOADER } from '../e2e/helpers/local-process';
import { createTestTables, testDynamoClient } from '../support/aws';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');
const dynamo = testDynamoClient();

interface Grant {
  pid: number;
  dueAt: number;
}

/** Runs one budget "container" as its own OS process; resolves with its grants and how it ended. */
function runChild(
  env: Record<string, string>,
): Promise<{ grants: Grant[]; signal: string | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX_LOADER, path.join(ROOT, 'test/support/rate-budget-child.ts')],
      {
        env: {
          PATH: process.env.PATH,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          BUDGET_ENDPOINT: process.env.TEST_DYNAMODB_ENDPOINT as string,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const grants = out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Grant);
      resolve({ grants, signal, code, stderr });
    });
  });
}

/** Largest number of grants in any window [a, b] minus what ReCharge's bucket allows in it. */
function worstExcess(dues: number[], capacity: number, perSecond: number): number {
  const sorted = [...dues].sort((a, b) => a - b);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < sorted.length; i++)
    for (let j = i; j < sorted.length; j++) {
      const allowed = capacity + (perSecond * ((sorted[j] as number) - (sorted[i] as number))) / 1000;
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  return worst;
}

describe('the ReCharge rate budget shared through DynamoDB', () => {
  let table: string;
  beforeAll(async () => {
    table = (await createTestTables(dynamo)).idempotency;
  });

  it('never schedules more than the bucket allows over any window, with four processes taking at once', async () => {
    const scope = rateBudgetScope('bound-test-token');
    const capacity = 10;
    // 5/s: the bound assumes DynamoDB answers within one interval (200 ms here); a loaded two-core
    // machine running four processes does not always answer within 25 ms (40/s).
    const perSecond = 5;
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        runChild({
          BUDGET_TABLE: table,
          BUDGET_SCOPE: scope,
          BUDGET_CAPACITY: String(capacity),
          BUDGET_PER_SECOND: String(perSecond),
          BUDGET_TAKES: '25',
          BUDGET_LOOPS: '3',
        }),
      ),
    );
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const grants = results.flatMap((r) => r.grants);
    expect(grants).toHaveLength(100);
    // Every process got a share, and all of them together stay within one bucket (40 deep at 40/s
    // here would be four buckets' worth if each process kept its own).
    expect(new Set(grants.map((g) => g.pid)).size).toBe(4);
    expect(
      worstExcess(
        grants.map((g) => g.dueAt),
        capacity,
        perSecond,
      ),
    ).toBeLessThanOrEqual(0);
  });

  it('keeps the bound when takers reserve two slots per call, mixed with takers of one', async () => {
    const scope = rateBudgetScope('pairs-test-token');
    const capacity = 10;
    // 5/s: the bound assumes DynamoDB answers within one interval (200 ms here); four processes of
    // three takers each on a loaded 2-core machine do not always get that at 40/s (25 ms).
    const perSecond = 5;
    // All four take together once started (a process still starting up is not what this tests).
    const startAt = String(Date.now() + 3000);
    const child = (batch: number) =>
      runChild({
        BUDGET_TABLE: table,
        BUDGET_SCOPE: scope,
        BUDGET_CAPACITY: String(capacity),
        BUDGET_PER_SECOND: String(perSecond),
        BUDGET_TAKES: '16',
        BUDGET_START_AT: startAt,
        BUDGET_LOOPS: '3',
        BUDGET_BATCH: String(batch),
      });
    const results = await Promise.all([child(2), child(2), child(2), child(1)]);
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const grants = results.flatMap((r) => r.grants);
    expect(grants).toHaveLength(64);
    expect(
      worstExcess(
        grants.map((g) => g.dueAt),
        capacity,
        perSecond,
      ),
    ).toBeLessThanOrEqual(0);
  });

  /** The budget item's `tat` as stored (a consistent read). */
  const storedTat = async (scope: string) =>
    Number(
      (
        await dynamo.send(
          new GetItemCommand({
            TableName: table,
            Key: { pk: { S: `ratebudget#recharge#${scope}` } },
            ConsistentRead: true,
          }),
        )
      ).Item?.tat?.N,
    );

  /** 2 deep (1 usable slot of depth) at 2/s, its clock stopped at `now`; `slept` notes each wait. */
  const frozenBudget = (client: DynamoDBClient, now: number, slept?: number[]) =>
    new DynamoRateBudget({
      client,
      table,
      capacity: 2,
      perSecond: 2,
      now: () => now,
      sleep: async (ms) => {
        slept?.push(ms);
      },
    });

  describe('requests of one process', () => {
    /** A client of its own that counts the UpdateItem calls it sends (at the SDK boundary). */
    const countingClient = () => {
      const client = testDynamoClient();
      const sent = { updates: 0 };
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if ((context as { commandName?: string }).commandName === 'UpdateItemCommand') sent.updates += 1;
          return next(args);
        },
        { step: 'initialize', name: 'countUpdates' },
      );
      return { client, sent };
    };
    /** A time in ms as the schedule computes it (float sums of the interval, stored as decimals). */
    const at = (ms: number) => expect.closeTo(ms, 2);
    const readTat = storedTat;

    it('share one UpdateItem when they come together, each with its own slots, one interval apart in arrival order', async () => {
      const scope = rateBudgetScope('coalesce-test-token');
      const { client, sent } = countingClient();
      const now = Date.now();
      const slept: number[] = [];
      // 2 deep (1 usable slot of depth) at 2/s: every slot after the first waits.
      const budget = frozenBudget(client, now, slept);
      const { intervalMs } = gcraParams({ capacity: 2, perSecond: 2 });
      const deadline = now + 60_000;
      const [first, pair, , last] = await Promise.all([
        budget.reserve(scope, 1, deadline),
        budget.reserve(scope, 2, deadline),
        budget.take(scope, deadline),
        budget.reserve(scope, 1, deadline),
      ]);
      expect(sent.updates).toBe(1);
      expect(first).toEqual([at(now)]);
      expect(pair).toEqual([at(now + intervalMs), at(now + 2 * intervalMs)]);
      // The take, fourth in the call, sleeps until its slot; the last reservation's slot follows it.
      expect(slept).toEqual([Math.ceil(3 * intervalMs)]);
      expect(last).toEqual([at(now + 4 * intervalMs)]);
      expect(await readTat(scope)).toBeCloseTo(now + 5 * intervalMs, 2);
    });

    it('join the next call when they come while one is in flight, after the slots it took', async () => {
      const scope = rateBudgetScope('coalesce-in-flight-token');
      const { client, sent } = countingClient();
      // The first call is held at the SDK boundary until the others have asked.
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      client.middlewareStack.add(
        (next) => async (args) => {
          if (sent.updates === 1) await held;
          return next(args);
        },
        { step: 'initialize', name: 'holdFirst', priority: 'low' },
      );
      const now = Date.now();
      const budget = frozenBudget(client, now);
      const { intervalMs } = gcraParams({ capacity: 2, perSecond: 2 });
      const deadline = now + 60_000;
      const first = budget.reserve(scope, 2, deadline);
      for (let i = 0; i < 200 && sent.updates === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(sent.updates).toBe(1);
      const later = [budget.reserve(scope, 1, deadline), budget.reserve(scope, 1, deadline)];
      // Both wait for the call in flight (a collection window would long be over).
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sent.updates).toBe(1);
      release();
      expect(await first).toEqual([at(now), at(now + intervalMs)]);
      expect(await Promise.all(later)).toEqual([[at(now + 2 * intervalMs)], [at(now + 3 * intervalMs)]]);
      expect(sent.updates).toBe(2);
    });

    it('all get the error of a call that fails, and the next requests make a call of their own', async () => {
      const scope = rateBudgetScope('coalesce-error-token');
      const budget = new DynamoRateBudget({
        client: dynamo,
        table: 'no-such-table',
        capacity: 40,
        perSecond: 2,
      });
      const deadline = Date.now() + 60_000;
      const failed = await Promise.allSettled([
        budget.take(scope, deadline),
        budget.reserve(scope, 2, deadline),
      ]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      for (const r of failed)
        expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(budget.take(scope, deadline)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });

    it('refuse the requester whose slot would come after its deadline, without a slot taken, and serve the others', async () => {
      const scope = rateBudgetScope('coalesce-deadline-token');
      const { client, sent } = countingClient();
      const now = Date.now();
      const budget = frozenBudget(client, now);
      const { intervalMs } = gcraParams({ capacity: 2, perSecond: 2 });
      const loose = now + 60_000;

      // From an empty bucket: the second's slot (now + T) is after its deadline (now).
      const first = await Promise.allSettled([
        budget.reserve(scope, 1, loose),
        budget.take(scope, now),
        budget.reserve(scope, 1, loose),
      ]);
      expect(first[0]).toEqual({ status: 'fulfilled', value: [at(now)] });
      expect(first[1]).toEqual({ status: 'rejected', reason: expect.any(RateLimitedError) });
      expect(first[2]).toEqual({ status: 'fulfilled', value: [at(now + intervalMs)] });
      expect(await readTat(scope)).toBeCloseTo(now + 2 * intervalMs, 2);
      expect(sent.updates).toBe(1);

      // Extending a bucket in use: the table refuses the joint call for the middle one's deadline
      // (its slot would be now + 3T), which is taken out; the others are served by the next call, the
      // last one's slot right after the first's.
      const second = await Promise.allSettled([
        budget.reserve(scope, 1, loose),
        budget.reserve(scope, 1, now + 2.5 * intervalMs),
        budget.reserve(scope, 1, loose),
      ]);
      expect(second[0]).toEqual({ status: 'fulfilled', value: [at(now + 2 * intervalMs)] });
      expect(second[1]).toEqual({ status: 'rejected', reason: expect.any(RateLimitedError) });
      expect((second[1] as PromiseRejectedResult).reason.retryAfterMs).toBe(Math.ceil(3 * intervalMs));
      expect(second[2]).toEqual({ status: 'fulfilled', value: [at(now + 3 * intervalMs)] });
      expect(await readTat(scope)).toBeCloseTo(now + 4 * intervalMs, 2);
      expect(sent.updates).toBe(3);
    });
  });

  it('gives a dead holder’s capacity back by itself: once its reserved time has passed, a full burst is there', async () => {
    const scope = rateBudgetScope('dies-holding-token');
    const capacity = 10;
    const perSecond = 5;
    const dead = await runChild({
      BUDGET_TABLE: table,
      BUDGET_SCOPE: scope,
      BUDGET_CAPACITY: String(capacity),
      BUDGET_PER_SECOND: String(perSecond),
      BUDGET_TAKES: '100',
      BUDGET_LOOPS: '20',
      // Killed right after filling the bucket, with reservations for slots still to come.
      BUDGET_DIE_AFTER: String(capacity + 5),
    });
    expect(dead.signal).toBe('SIGKILL');
    const readTat = () => storedTat(scope);
    // Updates the dead process had in flight may still land: wait until tat stays put.
    let tat = await readTat();
    for (let settled = 0, tries = 0; settled < 2 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await readTat();
      settled = again === tat ? settled + 1 : 0;
      tat = again;
    }
    const lastDue = Math.max(...dead.grants.map((g) => g.dueAt));
    expect(tat).toBeGreaterThan(lastDue);

    // Another container, its clock read at the moment the dead one's reservations have all passed:
    // nothing to reclaim or expire, the whole bucket (less the spare slot) is granted without a wait.
    const at = tat + 1;
    const slept: number[] = [];
    const survivor = new DynamoRateBudget({
      client: dynamo,
      table,
      capacity,
      perSecond,
      now: () => at,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    // (1 ms of slack for the float arithmetic of the stored schedule)
    for (let i = 0; i < capacity - 1; i++) await survivor.take(scope, at + 1);
    expect(slept).toEqual([]);
    await expect(survivor.take(scope, at)).rejects.toBeInstanceOf(RateLimitedError);
  });

  it.each([
    ['a word', { S: 'not-a-number' }],
    ['a map', { M: { n: { N: '1' } } }],
    ['a boolean', { BOOL: true }],
  ])('heals an item whose tat is %s: read as a fresh bucket, overwritten, with a warning', async (_, tat) => {
    const scope = rateBudgetScope(`corrupt-${JSON.stringify(tat)}`);
    const key = { pk: { S: `ratebudget#recharge#${scope}` } };
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { ...key, tat } }));
    const warnings: { message: string; extra?: Record<string, unknown> }[] = [];
    const now = Date.now();
    const slept: number[] = [];
    const budget = (log?: { warn: (message: string, extra?: Record<string, unknown>) => void }) =>
      new DynamoRateBudget({
        client: dynamo,
        table,
        capacity: 40,
        perSecond: 2,
        now: () => now,
        sleep: async (ms) => {
          slept.push(ms);
        },
        ...(log ? { log } : {}),
      });

    // A container that has never seen the item (restarts first) and one that saw it in the future
    // (extends first): both get a slot at once, and the item holds a number again.
    await budget({ warn: (message, extra) => warnings.push({ message, extra }) }).take(scope, now + 60_000);
    expect(slept).toEqual([]);
    expect(warnings).toEqual([
      {
        message: 'rate budget item unreadable: reset to a fresh bucket',
        extra: expect.objectContaining({ scope }),
      },
    ]);
    const item = await dynamo.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(Number(item.Item?.tat?.N)).toBeGreaterThan(now);
    const quiet: string[] = [];
    await budget({ warn: (message) => quiet.push(message) }).take(scope, now + 60_000);
    expect(quiet).toEqual([]);
  });

  it('heals an unreadable item from the extending side too (a container that last saw tat ahead)', async () => {
    const scope = rateBudgetScope('corrupt-after-use');
    const key = { pk: { S: `ratebudget#recharge#${scope}` } };
    const now = Date.now();
    const budget = new DynamoRateBudget({
      client: dynamo,
      table,
      capacity: 40,
      perSecond: 2,
      now: () => now,
      sleep: async () => {},
      log: { warn: () => {} },
    });
    await budget.take(scope, now + 60_000);
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { ...key, tat: { S: 'NaN' } } }));
    await budget.take(scope, now + 60_000);
    await budget.throttled(scope, 1000);
    const item = await dynamo.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(Number(item.Item?.tat?.N)).toBeGreaterThan(now);
  });

  describe('a 429', () => {
    let fake: FakeRecharge;
    beforeAll(async () => {
      fake = await startFakeRecharge();
    });
    afterAll(async () => fake.close());

    /** One worker container: its own client and its own budget object on the shared table. */
    const container = (clock: { now: number }) => {
      const now = () => clock.now;
      const sleep = async (ms: number) => {
        clock.now += ms;
      };
      const budget = new DynamoRateBudget({ client: dynamo, table, capacity: 40, perSecond: 2, now, sleep });
      return new RechargeClient({
        baseUrl: fake.url,
        version: '2021-11',
        token: async () => FAKE_RECHARGE_TOKEN,
        timeoutMs: 2000,
        budget,
        now,
        sleep,
      });
    };

    it('uses a slot reserved ahead once, for the first PUT only, and never after a 429 came back since', async () => {
      const clock = { now: Date.now() + 7_200_000 };
      const now = () => clock.now;
      const sleep = async (ms: number) => {
        clock.now += ms;
      };
      // Its own table: the token's budget item here must not hold back the other 429 test.
      const own = (await createTestTables(dynamo)).idempotency;
      const inner = new DynamoRateBudget({
        client: dynamo,
        table: own,
        capacity: 40,
        perSecond: 2,
        now,
        sleep,
      });
      const asked: string[] = [];
      const budget = {
        take: (scope: string, deadline: number) => {
          asked.push('take');
          return inner.take(scope, deadline);
        },
        reserve: (scope: string, n: number, deadline: number) => {
          asked.push(`reserve ${n}`);
          return inner.reserve(scope, n, deadline);
        },
        throttled: (scope: string, waitMs: number) => inner.throttled(scope, waitMs),
      };
      const client = new RechargeClient({
        baseUrl: fake.url,
        version: '2021-11',
        token: async () => FAKE_RECHARGE_TOKEN,
        timeoutMs: 2000,
        budget,
        now,
        sleep,
      });
      fake.reset();
      const ids = { id: 'X-9', number: '9' };
      const [forOrder, forCharge] = await client.reserveWrites(2, clock.now + 60_000);
      await client.updateOrder('301', ids, clock.now + 60_000, { slot: forOrder });
      await client.updateCharge('302', ids, clock.now + 60_000, { slot: forCharge });
      expect(asked).toEqual(['reserve 2']);

      // A 429 on the order PUT: its retry takes its own slot, and the charge's reserved slot (from
      // before the 429) is not used: the charge PUT asks the budget, which holds it past the wait.
      const [order2, charge2] = await client.reserveWrites(2, clock.now + 60_000);
      fake.setBehaviour({ mode: 429, times: 1, retryAfterSeconds: 3 });
      await client.updateOrder('303', ids, clock.now + 60_000, { slot: order2 });
      await client.updateCharge('304', ids, clock.now + 60_000, { slot: charge2 });
      expect(asked).toEqual(['reserve 2', 'reserve 2', 'take', 'take']);
      expect(fake.applied().map((r) => r.path)).toEqual([
        '/orders/301',
        '/charges/302',
        '/orders/303',
        '/charges/304',
      ]);
    });

    it('slows every worker, not only the one that was told', async () => {
      const start = Date.now() + 3_600_000;
      const a = container({ now: start });
      const bClock = { now: start };
      const b = container(bClock);
      fake.reset();
      fake.setBehaviour({ mode: 429, times: 1, retryAfterSeconds: 30 });

      const told = await a
        .updateOrder('101', { id: 'X-1', number: '1' }, start + 10_000)
        .catch((e: unknown) => e);
      expect(told).toBeInstanceOf(RateLimitedError);
      expect((told as RateLimitedError).retryAfterMs).toBe(30_000);

      // B never saw the 429, yet it does not call ReCharge before the 30 s are up.
      const other = await b
        .updateOrder('202', { id: 'X-2', number: '2' }, start + 10_000)
        .catch((e: unknown) => e);
      expect(other).toBeInstanceOf(RateLimitedError);
      expect((other as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(29_000);
      expect(fake.requests.map((r) => r.path)).toEqual(['/orders/101']);

      // After the wait, B's call goes through.
      bClock.now = start + 31_000;
      await b.updateOrder('202', { id: 'X-2', number: '2' }, bClock.now + 10_000);
      expect(fake.applied().map((r) => r.path)).toEqual(['/orders/202']);
    });
  });
});
