import { TransientError } from '../errors';

export interface LeakyBucketOptions {
  /** Calls the bucket holds (ReCharge: 40). */
  capacity: number;
  /** Calls that leak out per second (ReCharge: 2). */
  leakPerSecond: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Client-side mirror of ReCharge's leaky bucket, shared by every call made with one token in this
 * process (all records of an invocation, and later invocations of a warm Lambda). Each call
 * reserves a slot at once, so concurrent callers queue fairly instead of stampeding.
 */
export class LeakyBucket {
  private level = 0;
  private last: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: LeakyBucketOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.last = this.now();
  }

  private drain(): void {
    const now = this.now();
    this.level = Math.max(0, this.level - ((now - this.last) / 1000) * this.options.leakPerSecond);
    this.last = now;
  }

  /** Milliseconds a call made now would wait (0 when the bucket has room). */
  waitTime(): number {
    this.drain();
    const over = this.level + 1 - this.options.capacity;
    return over <= 0 ? 0 : Math.ceil((over / this.options.leakPerSecond) * 1000);
  }

  /**
   * Takes one slot, waiting for the bucket to leak if it is full. Throws TransientError when the wait
   * would pass `deadline` (epoch ms): better to let SQS redeliver than to be killed mid-call.
   */
  async take(deadline = Number.POSITIVE_INFINITY): Promise<void> {
    const wait = this.waitTime();
    if (this.now() + wait > deadline) throw new TransientError('recharge rate limit: no time left to wait');
    this.level += 1;
    if (wait > 0) await this.sleep(wait);
  }

  /** The server said 429: treat the bucket as full. */
  markFull(): void {
    this.drain();
    this.level = Math.max(this.level, this.options.capacity);
  }
}
