import { IdempotencyStore } from '../../shared/idempotency/store';
import { createTestTables, testDynamoClient } from '../support/aws';

const client = testDynamoClient();
let table: string;
beforeAll(async () => {
  table = (await createTestTables(client)).idempotency;
});

function store(clock: { now: number }, leaseSeconds = 60) {
  return new IdempotencyStore({ client, table, ttlSeconds: 259_200, leaseSeconds, now: () => clock.now });
}

describe('idempotency records', () => {
  it('gives a key to exactly one of ten concurrent claimers', async () => {
    const clock = { now: Date.now() };
    const claims = await Promise.all(Array.from({ length: 10 }, () => store(clock).claim('concurrent-key')));
    expect(claims.filter((c) => c.state === 'acquired')).toHaveLength(1);
    expect(claims.filter((c) => c.state === 'busy')).toHaveLength(9);
  });

  it('returns the stored result to later claimers once completed, for the whole TTL window', async () => {
    const clock = { now: Date.now() };
    const first = await store(clock).claim('done-key');
    if (first.state !== 'acquired') throw new Error('expected to acquire');
    await store(clock).complete('done-key', first.token, { id: 'ord_1', number: '1001' });
    clock.now += 71 * 3600 * 1000;
    expect(await store(clock).claim('done-key')).toEqual({
      state: 'completed',
      result: { id: 'ord_1', number: '1001' },
    });
  });

  it('lets a crashed in-progress key be taken over once its lease expires, not before', async () => {
    const clock = { now: Date.now() };
    const crashed = await store(clock, 30).claim('crashed-key');
    expect(crashed.state).toBe('acquired');
    clock.now += 29_000;
    expect((await store(clock, 30).claim('crashed-key')).state).toBe('busy');
    clock.now += 2_000;
    const takeover = await store(clock, 30).claim('crashed-key');
    expect(takeover).toMatchObject({ state: 'acquired', takenOver: true });
    // The crashed attempt, if it ever wakes up, can no longer complete the key it lost.
    if (crashed.state !== 'acquired') throw new Error('unreachable');
    expect(await store(clock).complete('crashed-key', crashed.token)).toBe(false);
  });

  it('frees a released key at once so a redelivery can proceed', async () => {
    const clock = { now: Date.now() };
    const claim = await store(clock).claim('released-key');
    if (claim.state !== 'acquired') throw new Error('expected to acquire');
    await store(clock).release('released-key', claim.token);
    expect((await store(clock).claim('released-key')).state).toBe('acquired');
  });
});
