import { TransientError } from '../../../shared/errors';
import { deadLetterAttributes, sanitizeReason } from '../../../shared/queue/dlq';
import { retryAfterMs } from '../../../shared/recharge-api/client';
import { gcraParams, MemoryRateBudget, RateLimitedError } from '../../../shared/recharge-api/rate-budget';

function fakeClock() {
  const clock = { now: 0, slept: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    // Records waits without moving the clock: what matters is what each caller was told to wait.
    sleep: async (ms: number) => {
      clock.slept.push(ms);
    },
  };
}

describe('rate budget schedule (in-process)', () => {
  const limits = { capacity: 40, perSecond: 2, headroom: 0 };
  it('lets a burst through at once (one slot of depth kept back) and then paces calls at 2 per second', async () => {
    const { clock, now, sleep } = fakeClock();
    const budget = new MemoryRateBudget(limits, { now, sleep });
    for (let i = 0; i < 39; i++) await budget.take('t', Number.POSITIVE_INFINITY);
    expect(clock.slept).toEqual([]);
    await budget.take('t', Number.POSITIVE_INFINITY);
    await budget.take('t', Number.POSITIVE_INFINITY);
    expect(clock.slept).toEqual([500, 1000]);
    clock.now += 60_000;
    await budget.take('t', Number.POSITIVE_INFINITY);
    expect(clock.slept).toEqual([500, 1000]);
  });

  it('queues concurrent callers instead of letting them through together', async () => {
    const { clock, now, sleep } = fakeClock();
    const budget = new MemoryRateBudget({ capacity: 3, perSecond: 2, headroom: 0 }, { now, sleep });
    await Promise.all(Array.from({ length: 4 }, () => budget.take('t', Number.POSITIVE_INFINITY)));
    expect(clock.slept).toEqual([500, 1000]);
  });

  it('refuses to wait past the deadline, says when budget is expected and takes nothing', async () => {
    const { now, sleep } = fakeClock();
    const budget = new MemoryRateBudget({ capacity: 2, perSecond: 2, headroom: 0 }, { now, sleep });
    await budget.take('t', 0);
    const refused = await budget.take('t', 100).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toBeInstanceOf(TransientError);
    expect((refused as RateLimitedError).retryAfterMs).toBe(500);
    await expect(budget.take('t', 500)).resolves.toBeUndefined();
  });

  it('keeps every caller back for the wait a 429 asked for', async () => {
    const { clock, now, sleep } = fakeClock();
    const budget = new MemoryRateBudget(limits, { now, sleep });
    await budget.throttled('t', 3000);
    await budget.take('t', Number.POSITIVE_INFINITY);
    expect(clock.slept).toEqual([3000]);
  });

  it('reserves n slots at once on the schedule n takes in a row would have given, and refuses past the deadline', async () => {
    const { clock, now, sleep } = fakeClock();
    const budget = new MemoryRateBudget({ capacity: 3, perSecond: 2, headroom: 0 }, { now, sleep });
    // Depth 2: a pair is due now; the next pair half a second and a second later.
    expect(await budget.reserve('t', 2, Number.POSITIVE_INFINITY)).toEqual([0, 0]);
    expect(await budget.reserve('t', 2, Number.POSITIVE_INFINITY)).toEqual([500, 1000]);
    // The last slot of a further pair (2000) would come after the deadline: nothing is taken.
    const refused = await budget.reserve('t', 2, 1999).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    await budget.take('t', Number.POSITIVE_INFINITY);
    expect(clock.slept).toEqual([1500]);
    expect(clock.now).toBe(0);
  });

  it('keeps the clock-drift headroom under 5 % of the rate', () => {
    expect(1000 / gcraParams({ capacity: 40, perSecond: 2 }).intervalMs).toBeGreaterThan(2 * 0.95);
    expect(() => gcraParams({ capacity: 40, perSecond: 2, headroom: 0.05 })).toThrow(RangeError);
  });
});

describe('429 wait', () => {
  it('honours Retry-After, then X-Recharge-Limit overflow', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(new Headers({ 'x-recharge-limit': '44/40' }))).toBe(2500);
    expect(retryAfterMs(new Headers({ 'x-recharge-limit': '12/40' }))).toBe(0);
    expect(retryAfterMs(new Headers())).toBe(0);
  });
});

describe('dead-letter attributes', () => {
  it('keeps the original attributes, adds the failure fields and stays within 10', () => {
    const original: Record<
      string,
      { dataType: string; stringValue: string; stringListValues: []; binaryListValues: [] }
    > = {};
    for (let i = 0; i < 12; i++)
      original[`a${i}`] = {
        dataType: 'String',
        stringValue: `v${i}`,
        stringListValues: [],
        binaryListValues: [],
      };
    const attrs = deadLetterAttributes(original, {
      failureClass: 'permanent',
      reason: 'x',
      step: 'parse-payload',
      failedAt: '2026-11-22T00:00:00.000Z',
    });
    expect(Object.keys(attrs)).toHaveLength(10);
    expect(attrs.failureStep?.StringValue).toBe('parse-payload');
    expect(attrs.a0?.StringValue).toBe('v0');
  });

  it('redacts anything that looks like a credential from the reason', () => {
    expect(sanitizeReason('call failed token=abc123 with authorization: Bearer-xyz')).toBe(
      'call failed token=[redacted] with authorization: [redacted]',
    );
  });
});
