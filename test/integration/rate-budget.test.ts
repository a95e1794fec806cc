import { spawn } from 'node:child_process';
import path from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { RechargeClient } from '../../shared/recharge-api/client';
import { DynamoRateBudget, RateLimitedError, rateBudgetScope } from '../../shared/recharge-api/rate-budget';
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
    const readTat = async () =>
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
