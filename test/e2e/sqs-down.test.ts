import { samplePayload } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { deliver, depths, orders } from './helpers/webhooks';

jest.setTimeout(120_000);

// biome-ignore lint/suspicious/noExplicitAny: sample payloads are edited freely
type Json = Record<string, any>;

/**
 * While the queue is unreachable the ingest must not answer 200 (the provider would never resend);
 * it answers 503, and the provider's retry once the queue is back is processed exactly once.
 */
describe('SQS emulator down', () => {
  let local: LocalProcess;
  let sqsPid: number;
  beforeAll(async () => {
    local = await startLocalProcess();
    sqsPid = local.state.emulatorPids[1] as number;
  });
  afterAll(async () => {
    try {
      process.kill(sqsPid, 'SIGCONT');
    } catch {
      // already running or gone
    }
    await local?.stop();
  });

  it('answers 503 while the queue is down, and processes the retry once after it is back', async () => {
    const p = samplePayload<Json>('sevi', 'paid');
    p.order.id = 'SV-SQS-DOWN-1';
    const delivery = { provider: 'sevi' as const, body: JSON.stringify(p) };

    // A frozen process: connections hang, exactly like an unreachable endpoint.
    process.kill(sqsPid, 'SIGSTOP');
    const during = await deliver(local.state.apiUrl, delivery);
    expect(during.status).toBe(503);
    expect(during.text).not.toMatch(/sqs|127\.0\.0\.1|stack/i);

    process.kill(sqsPid, 'SIGCONT');
    const retry = await deliver(local.state.apiUrl, delivery);
    expect(retry.status).toBe(200);

    await waitFor(
      async () => (await depths(local)).queueEmpty && (await orders(local)).length === 1,
      'the retry to be processed',
    );
    const [order] = await orders(local);
    expect(order).toMatchObject({ provider: 'sevi', providerOrderId: 'SV-SQS-DOWN-1', status: 'delivered' });
    // Processed once, even if the timed-out first send reached the queue after all.
    const changes = order?.history.map((h) => `${h.deliveryKey}|${h.field}|${h.to ?? ''}|${h.outcome}`) ?? [];
    expect(new Set(changes).size).toBe(changes.length);
    expect(new Set(order?.history.map((h) => h.deliveryKey)).size).toBe(1);
  });
});
