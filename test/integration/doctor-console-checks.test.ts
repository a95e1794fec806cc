import { DOCTOR_CHECKS, type DoctorContext } from '../../scripts/cli/doctor';
import type { Target } from '../../scripts/cli/target';
import { ordersDocumentClient } from '../../shared/order-system/ledger';
import { DynamoRateBudget, rateBudgetScope } from '../../shared/recharge-api/rate-budget';
import { makeStateStore } from '../../shared/reconcile/state-store';
import { createTestTables, testDynamoClient } from '../support/aws';

const dynamo = testDynamoClient();
afterAll(() => dynamo.destroy());

const TOKEN = 'doctor-test-token';

function contextFor(tables: { orders: string; idempotency: string }): DoctorContext {
  return {
    target: {
      kind: 'local',
      dynamo,
      ordersTable: tables.orders,
      idempotencyTable: tables.idempotency,
    } as unknown as Target,
    env: {},
    secrets: async () => ({ RECHARGE_API_TOKEN: TOKEN }) as never,
    rechargeApiUrl: 'http://127.0.0.1:9',
    rechargeApiVersion: '2021-11',
    devCredentials: [],
    stackSettings: {},
    stackName: 'OrderWebhooks',
    cloudWatch: () => {
      throw new Error('not used');
    },
  };
}

const check = (name: string) => {
  const found = DOCTOR_CHECKS.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
};

/** The overview's health rows: read from the reconciler's item and the token's budget item, one GetItem each. */
describe('doctor: last reconcile pass and ReCharge budget in use', () => {
  it('warns before any reconcile pass, reports a completed one, and warns about a failed one', async () => {
    const tables = await createTestTables(dynamo);
    const ctx = contextFor(tables);
    const store = makeStateStore(ordersDocumentClient(dynamo), tables.orders);

    expect(await check('last reconcile pass').run(ctx)).toMatchObject({
      status: 'warn',
      detail: 'no ReCharge reconcile pass recorded',
    });
    await store.recordCompleted('recharge', '2026-12-06T10:00:00.000Z', '2026-12-06T10:05:00.000Z');
    expect(await check('last reconcile pass').run(ctx)).toEqual({
      status: 'ok',
      detail: 'completed at 2026-12-06T10:05:00.000Z, caught up to 2026-12-06T10:00:00.000Z',
    });
    await store.recordFailed('recharge', '2026-12-06T11:05:00.000Z', 'ReCharge answered 401');
    expect(await check('last reconcile pass').run(ctx)).toMatchObject({
      status: 'warn',
      detail: 'the pass at 2026-12-06T11:05:00.000Z failed (1 in a row)',
    });
  });

  it('counts the slots taken ahead of now in the shared budget, and warns when all are', async () => {
    const tables = await createTestTables(dynamo);
    const ctx = contextFor(tables);
    const budget = check('ReCharge rate budget in use');
    expect(await budget.run(ctx)).toEqual({
      status: 'ok',
      detail: '0 of 39 call slots taken ahead of now',
      measure: { used: 0, limit: 39 },
    });

    const scope = rateBudgetScope(TOKEN);
    const limits = { client: dynamo, table: tables.idempotency, capacity: 40, perSecond: 2 };
    await new DynamoRateBudget(limits).reserve(scope, 10, Date.now() + 600_000);
    const some = await budget.run(ctx);
    expect(some.status).toBe('ok');
    // Slots drain at ~2/s: however slow the machine, a few of the ten are still ahead.
    expect(some.measure?.used).toBeGreaterThan(0);
    expect(some.measure?.used).toBeLessThanOrEqual(10);

    // A budget run from a clock 10 minutes ahead leaves every slot taken for the next 10 minutes.
    const ahead = new DynamoRateBudget({ ...limits, now: () => Date.now() + 600_000 });
    await ahead.reserve(scope, 5, Date.now() + 3_600_000);
    expect(await budget.run(ctx)).toMatchObject({
      status: 'warn',
      detail: '39 of 39 call slots taken ahead of now: ReCharge calls are waiting for the budget',
      measure: { used: 39, limit: 39 },
    });
  });
});
