import { TransientError } from '../../../shared/errors';
import { deadLetterAttributes, sanitizeReason } from '../../../shared/queue/dlq';
import { retryAfterMs } from '../../../shared/recharge-api/client';
import { LeakyBucket } from '../../../shared/recharge-api/rate-limiter';

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

describe('leaky bucket', () => {
  it('lets 40 calls through at once and then paces them at 2 per second', async () => {
    const { clock, now, sleep } = fakeClock();
    const bucket = new LeakyBucket({ capacity: 40, leakPerSecond: 2, now, sleep });
    for (let i = 0; i < 40; i++) await bucket.take();
    expect(clock.slept).toEqual([]);
    await bucket.take();
    await bucket.take();
    expect(clock.slept).toEqual([500, 1000]);
    clock.now += 10_000;
    await bucket.take();
    expect(clock.slept).toEqual([500, 1000]);
  });

  it('queues concurrent callers instead of letting them through together', async () => {
    const { clock, now, sleep } = fakeClock();
    const bucket = new LeakyBucket({ capacity: 2, leakPerSecond: 2, now, sleep });
    await Promise.all([bucket.take(), bucket.take(), bucket.take(), bucket.take()]);
    expect(clock.slept).toEqual([500, 1000]);
  });

  it('refuses to wait past the deadline', async () => {
    const { now, sleep } = fakeClock();
    const bucket = new LeakyBucket({ capacity: 1, leakPerSecond: 2, now, sleep });
    await bucket.take();
    await expect(bucket.take(100)).rejects.toBeInstanceOf(TransientError);
  });

  it('treats the bucket as full after a 429', async () => {
    const { clock, now, sleep } = fakeClock();
    const bucket = new LeakyBucket({ capacity: 40, leakPerSecond: 2, now, sleep });
    bucket.markFull();
    await bucket.take();
    expect(clock.slept).toEqual([500]);
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
