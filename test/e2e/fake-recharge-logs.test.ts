import { findSample, sampleBody } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { deliver } from './helpers/webhooks';

jest.setTimeout(120_000);

/**
 * With no RECHARGE_API_URL the local mode runs its built-in fake ReCharge API, which logs every call
 * it receives and what it answered, so a user sees the write-backs a webhook caused.
 */
describe("the local mode's built-in fake ReCharge", () => {
  let local: LocalProcess;
  beforeAll(async () => {
    local = await startLocalProcess({ env: { POWERTOOLS_LOG_LEVEL: 'INFO' } });
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('logs each call it receives with its method, path and answer', async () => {
    const sample = findSample('recharge', '2021-11-created-regular');
    if (!sample) throw new Error('sample missing');
    const orderId = (JSON.parse(sampleBody(sample)) as { order: { id: number } }).order.id;

    const sent = await deliver(local.state.apiUrl, {
      provider: 'recharge',
      body: sampleBody(sample),
      topic: sample.topic,
    });

    expect(sent.status).toBe(200);
    const line = await waitFor(
      () =>
        local
          .output()
          .split('\n')
          .find((l) => l.includes('"fake recharge received"') && l.includes(`/orders/${orderId}`)),
      'the fake ReCharge to log the write-back',
      60_000,
    );
    expect(JSON.parse(line)).toMatchObject({
      service: 'fake-recharge',
      method: 'PUT',
      path: `/orders/${orderId}`,
      status: 200,
    });
    // Never the access token it was called with.
    expect(line).not.toContain('dev-recharge-api-token');
  });
});
