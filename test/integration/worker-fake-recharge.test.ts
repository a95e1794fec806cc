import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';

let fake: FakeRecharge;
beforeAll(async () => {
  fake = await startFakeRecharge();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const put = (path: string, headers: Record<string, string>) =>
  fetch(`${fake.url}${path}`, { method: 'PUT', headers, body: JSON.stringify({ external_order_id: 'x' }) });
const good = { 'x-recharge-access-token': FAKE_RECHARGE_TOKEN, 'x-recharge-version': '2021-11' };

describe('fake ReCharge API', () => {
  it('answers a PUT /orders/{id} by echoing the fields, and records it', async () => {
    const res = await put('/orders/42', good);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ order: { id: 42, external_order_id: 'x' } });
    expect(fake.requests[0]).toMatchObject({
      method: 'PUT',
      path: '/orders/42',
      body: { external_order_id: 'x' },
    });
  });

  it('rejects a missing or wrong token with 401 and a missing version with 400', async () => {
    expect((await put('/orders/1', { 'x-recharge-version': '2021-11' })).status).toBe(401);
    expect((await put('/orders/1', { ...good, 'x-recharge-access-token': 'nope' })).status).toBe(401);
    expect((await put('/orders/1', { 'x-recharge-access-token': FAKE_RECHARGE_TOKEN })).status).toBe(400);
    expect(fake.applied()).toHaveLength(0);
  });

  it('misbehaves for the next N calls only, on the paths it is told', async () => {
    fake.setBehaviour({ mode: 429, times: 2, pathPrefix: '/charges/' });
    expect((await put('/orders/1', good)).status).toBe(200);
    const throttled = await put('/charges/1', good);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('x-recharge-limit')).toBe('40/40');
    expect((await put('/charges/1', good)).status).toBe(429);
    expect((await put('/charges/1', good)).status).toBe(200);
  });

  it('can hang until the caller gives up', async () => {
    fake.setBehaviour({ mode: 'hang' });
    await expect(
      fetch(`${fake.url}/orders/1`, { method: 'PUT', headers: good, signal: AbortSignal.timeout(200) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});

describe('fake ReCharge API calls log', () => {
  it('reports every call it answers, rejected ones too', async () => {
    const answered: { method: string; path: string; status: number }[] = [];
    const own = await startFakeRecharge({ onAnswer: (call) => answered.push(call) });
    try {
      await fetch(`${own.url}/orders/7`, { method: 'PUT', headers: good, body: '{}' });
      await fetch(`${own.url}/charges/8`, { method: 'PUT', headers: { 'x-recharge-version': '2021-11' } });
    } finally {
      await own.close();
    }

    expect(answered).toEqual([
      { method: 'PUT', path: '/orders/7', status: 200 },
      { method: 'PUT', path: '/charges/8', status: 401 },
    ]);
  });
});
