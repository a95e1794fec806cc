import { parseWorkerEnv } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';

const base = { QUEUE_URL: 'q', DLQ_URL: 'd', IDEMPOTENCY_TABLE: 'i', ORDERS_TABLE: 'o' };

describe('worker configuration: idempotency lease versus worker timeout', () => {
  it('accepts the defaults (lease 120 s, timeout 60 s)', () => {
    const env = parseWorkerEnv(base);
    expect(env.IDEMPOTENCY_LEASE_SECONDS).toBe(120);
    expect(env.WORKER_TIMEOUT_SECONDS).toBe(60);
  });

  it.each([
    [{ IDEMPOTENCY_LEASE_SECONDS: '60' }],
    [{ IDEMPOTENCY_LEASE_SECONDS: '30' }],
    [{ WORKER_TIMEOUT_SECONDS: '900' }],
  ])('refuses a lease not longer than the worker timeout, naming both variables (%j)', (values) => {
    const parse = () => parseWorkerEnv({ ...base, ...values });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/IDEMPOTENCY_LEASE_SECONDS \(\d+\) must be greater than WORKER_TIMEOUT_SECONDS/);
  });

  it('accepts a short worker timeout with a lease just above it', () => {
    expect(
      parseWorkerEnv({ ...base, WORKER_TIMEOUT_SECONDS: '8', IDEMPOTENCY_LEASE_SECONDS: '9' })
        .IDEMPOTENCY_LEASE_SECONDS,
    ).toBe(9);
  });
});
