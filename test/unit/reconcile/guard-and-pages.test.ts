import { parseSince } from '../../../scripts/cli/reconcile';
import { RechargeClient } from '../../../shared/recharge-api/client';
import { nextLink } from '../../../shared/recharge-api/pages';
import { MemoryRateBudget } from '../../../shared/recharge-api/rate-budget';
import { planSubscriptions } from '../../../shared/reconcile/subscription-guard';

const TOPICS = ['order/created', 'order/processed', 'order/updated'];
const base = 'https://abc.execute-api.us-east-1.amazonaws.com/prod/';
const hook = (id: number, topic: string, address: string) => ({ id: String(id), topic, address });

describe('subscription plan', () => {
  it('expects each topic at <base>/webhooks/recharge/<topic> and finds the missing one', () => {
    const plan = planSubscriptions(
      [
        hook(1, 'order/created', `${base}webhooks/recharge/order/created`),
        hook(2, 'order/updated', `${base}webhooks/recharge`),
      ],
      base,
      TOPICS,
    );
    expect(plan.missing).toEqual([
      { topic: 'order/processed', address: `${base}webhooks/recharge/order/processed` },
    ]);
    expect(plan.ours.map((w) => w.id)).toEqual(['1', '2']);
  });

  it('treats addresses outside our base as foreign (another app, another deployment), never as ours', () => {
    const plan = planSubscriptions(
      [
        hook(1, 'order/created', 'https://other.example.com/webhooks/recharge/order/created'),
        hook(2, 'order/created', `${base}webhooks/recharge-old/order/created`),
      ],
      base,
      TOPICS,
    );
    expect(plan.foreign.map((w) => w.id)).toEqual(['1', '2']);
    expect(plan.missing).toHaveLength(3);
  });

  it('does not count our subscription for another topic', () => {
    const plan = planSubscriptions(
      [hook(1, 'order/created', `${base}webhooks/recharge/order/processed`)],
      base,
      ['order/processed'],
    );
    expect(plan.missing).toHaveLength(1);
  });
});

describe('pagination', () => {
  it('reads rel="next" from a Link header with several relations', () => {
    expect(
      nextLink(
        '<https://api.rechargeapps.com/orders?page=1>; rel="previous", <https://api.rechargeapps.com/orders?page=3&limit=250>; rel="next"',
      ),
    ).toBe('https://api.rechargeapps.com/orders?page=3&limit=250');
    expect(nextLink('<https://api.rechargeapps.com/orders?page=1>; rel="previous"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });

  it('never sends the access token to a next link outside the configured API URL', async () => {
    const requested: string[] = [];
    const client = new RechargeClient({
      baseUrl: 'https://api.rechargeapps.com',
      version: '2021-01',
      token: async () => 'secret-token',
      timeoutMs: 100,
      budget: new MemoryRateBudget({ capacity: 10, perSecond: 10 }),
    });
    const original = globalThis.fetch;
    globalThis.fetch = (async (url: string) => {
      requested.push(String(url));
      throw new Error('no network in unit tests');
    }) as typeof fetch;
    try {
      await expect(
        client.call('GET', 'https://evil.example.com/orders?page=2', undefined, Date.now() + 1000),
      ).rejects.toThrow('outside the configured API URL');
    } finally {
      globalThis.fetch = original;
    }
    expect(requested).toEqual([]);
  });
});

describe('reconcile --since', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it.each([
    ['2d', '2026-11-29T12:00:00.000Z'],
    ['36h', '2026-11-30T00:00:00.000Z'],
    ['90m', '2026-12-01T10:30:00.000Z'],
    ['2026-11-01T00:00:00', '2026-11-01T00:00:00.000Z'],
    ['2026-11-01T00:00:00+01:00', '2026-10-31T23:00:00.000Z'],
  ])('%s', (value, iso) => {
    expect(new Date(parseSince(value, now)).toISOString()).toBe(iso);
  });
  it('rejects anything else as a usage error', () => {
    expect(() => parseSince('yesterday', now)).toThrow('--since');
  });
});
