import { startLocalProcess } from './helpers/local-process';

jest.setTimeout(120_000);

describe('local mode settings', () => {
  it('refuses to start when the idempotency lease is not longer than the worker timeout, naming both', async () => {
    await expect(
      startLocalProcess({ env: { LOCAL_WORKER_TIMEOUT_SECONDS: '20', IDEMPOTENCY_LEASE_SECONDS: '10' } }),
    ).rejects.toThrow(
      /IDEMPOTENCY_LEASE_SECONDS \(10\) must be greater than LOCAL_WORKER_TIMEOUT_SECONDS \(20\)/,
    );
  });
});
