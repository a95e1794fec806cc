import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DOCTOR_CHECKS, type DoctorContext } from '../../scripts/cli/doctor';
import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { rateBudgetScope } from '../../shared/recharge-api/rate-budget';
import { createTestTables, testDynamoClient } from '../support/aws';

/**
 * doctor: do ReCharge's subscriptions point at our URLs? Against the fake ReCharge API over HTTP
 * (GET /webhooks in both API versions); read-only.
 */
const check = DOCTOR_CHECKS.find((c) => c.name === "ReCharge's subscriptions point at our URLs");
const BASE = 'https://hooks.example.com';

describe("doctor: ReCharge's subscriptions", () => {
  let fake: FakeRecharge;
  beforeAll(async () => {
    fake = await startFakeRecharge();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.webhooks.length = 0;
  });

  const ctx = (
    version: string,
    env: NodeJS.ProcessEnv = { PUBLIC_BASE_URL: BASE },
    token = FAKE_RECHARGE_TOKEN,
  ) =>
    ({
      target: { kind: 'aws', apiUrl: undefined },
      env,
      secrets: async () => ({ RECHARGE_API_TOKEN: token }),
      rechargeApiUrl: fake.url,
      rechargeApiVersion: version,
    }) as unknown as DoctorContext;

  it.each(['2021-01', '2021-11'])('fails naming each missing topic and the fix (API %s)', async (version) => {
    fake.webhooks.push(
      { id: 1, address: `${BASE}/webhooks/recharge/order/created`, topic: 'order/created' },
      // Another app of the merchant's: not ours, not counted.
      { id: 2, address: 'https://erp.example.com/hooks', topic: 'order/processed' },
    );

    const result = await check?.run(ctx(version));

    expect(result).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(`ReCharge does not send order/processed, order/updated to ${BASE}`),
      fix: expect.stringContaining('recharge-webhooks register'),
    });
    expect(result?.detail).toContain('1 other subscription(s) of this token left alone');
  });

  it('is ok when every topic goes to our base URL, also through the topic-less route', async () => {
    fake.webhooks.push(
      { id: 1, address: `${BASE}/webhooks/recharge/order/created`, topic: 'order/created' },
      { id: 2, address: `${BASE}/webhooks/recharge`, topic: 'order/processed' },
      { id: 3, address: `${BASE}/webhooks/recharge/order/updated/`, topic: 'order/updated' },
    );

    expect(await check?.run(ctx('2021-11'))).toMatchObject({ status: 'ok' });
  });

  it('checks the topics RECHARGE_WEBHOOK_TOPICS names', async () => {
    fake.webhooks.push({ id: 1, address: `${BASE}/webhooks/recharge/order/created`, topic: 'order/created' });

    const result = await check?.run(
      ctx('2021-11', { PUBLIC_BASE_URL: BASE, RECHARGE_WEBHOOK_TOPICS: 'order/created' }),
    );

    expect(result).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('all 1 topics (order/created)'),
    });
  });

  it('is skipped, saying what to set, without a base URL or a token', async () => {
    expect(await check?.run(ctx('2021-11', {}))).toMatchObject({
      status: 'skipped',
      fix: expect.stringContaining('PUBLIC_BASE_URL'),
    });
    expect(await check?.run(ctx('2021-11', { PUBLIC_BASE_URL: BASE }, ''))).toMatchObject({
      status: 'skipped',
    });
  });
});

describe("doctor's ReCharge calls and the shared rate budget", () => {
  const tokenCheck = DOCTOR_CHECKS.find((c) => c.name === 'ReCharge token works');
  let fake: FakeRecharge;
  beforeAll(async () => {
    fake = await startFakeRecharge();
  });
  afterAll(() => fake.close());

  it("take their slots from the token's budget in the target's idempotency table, like the workers'", async () => {
    const dynamo = testDynamoClient();
    const tables = await createTestTables(dynamo);
    const ctx = {
      target: { kind: 'aws', apiUrl: undefined, idempotencyTable: tables.idempotency, dynamo },
      env: { PUBLIC_BASE_URL: BASE },
      secrets: async () => ({ RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN }),
      rechargeApiUrl: fake.url,
      rechargeApiVersion: '2021-11',
    } as unknown as DoctorContext;

    expect(await tokenCheck?.run(ctx)).toMatchObject({ status: 'ok' });
    await check?.run(ctx);

    const budget = await dynamo.send(
      new GetItemCommand({
        TableName: tables.idempotency,
        Key: { pk: { S: `ratebudget#recharge#${rateBudgetScope(FAKE_RECHARGE_TOKEN)}` } },
        ConsistentRead: true,
      }),
    );
    expect(budget.Item).toBeDefined();
  });

  it('report a refused token with the fix', async () => {
    const ctx = {
      target: { kind: 'aws', apiUrl: undefined },
      env: {},
      secrets: async () => ({ RECHARGE_API_TOKEN: 'not-the-token' }),
      rechargeApiUrl: fake.url,
      rechargeApiVersion: '2021-11',
    } as unknown as DoctorContext;

    expect(await tokenCheck?.run(ctx)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/rejected the token \(401\)|lacks a scope \(403\)/),
    });
  });
});
