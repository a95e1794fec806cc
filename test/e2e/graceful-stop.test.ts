import { FAKE_RECHARGE_TOKEN, type FakeRecharge, startFakeRecharge } from '../../scripts/local/fake-recharge';
import { findSample, sampleBody } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { deliver } from './helpers/webhooks';

jest.setTimeout(120_000);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ctrl-C in a terminal signals the whole foreground process group, and npm relays it too, so the
 * local mode receives SIGINT twice at once. That must still be a graceful stop: the batch in flight
 * finishes (its ReCharge write lands and the record is acknowledged), the process exits 0, and no
 * emulator is left running.
 */
describe('Ctrl-C while a batch is in flight', () => {
  let fake: FakeRecharge;
  let local: LocalProcess;
  beforeAll(async () => {
    fake = await startFakeRecharge({ latencyMs: 2000 });
    local = await startLocalProcess({
      env: {
        RECHARGE_API_URL: fake.url,
        RECHARGE_API_TOKEN: FAKE_RECHARGE_TOKEN,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // 7 s of working time (5 s safety margin): the 2 s ReCharge answer must fit even on a
        // loaded machine, where 3 s (the helper's 8 s timeout) was sometimes too little.
        LOCAL_WORKER_TIMEOUT_SECONDS: '12',
        LOCAL_VISIBILITY_TIMEOUT_SECONDS: '12',
        IDEMPOTENCY_LEASE_SECONDS: '14',
      },
    });
  });
  afterAll(async () => {
    await local?.stop();
    await fake?.close();
  });

  it('finishes the in-flight record, exits 0 and stops both emulators', async () => {
    const sample = findSample('recharge', '2021-11-created-regular');
    if (!sample) throw new Error('sample missing');
    const sent = await deliver(local.state.apiUrl, {
      provider: 'recharge',
      body: sampleBody(sample),
      topic: sample.topic,
    });
    expect(sent.status).toBe(200);
    const { deliveryKey } = JSON.parse(sent.text) as { deliveryKey: string };
    // The worker is now waiting on ReCharge's 2 s answer.
    await waitFor(() => fake.requests.length > 0, 'the ReCharge write-back to start', 30_000);

    local.child.kill('SIGINT');
    local.child.kill('SIGINT');
    const code = await local.stop();

    expect(code).toBe(0);
    expect(local.output()).not.toContain('forced exit');
    expect(fake.applied().map((r) => `${r.method} ${r.path}`)).toEqual([
      `PUT /orders/${(JSON.parse(sampleBody(sample)) as { order: { id: number } }).order.id}`,
    ]);
    const handled = local
      .output()
      .split('\n')
      .filter((line) => line.includes('"record handled"') && line.includes(deliveryKey));
    expect(handled.map((line) => (JSON.parse(line) as { outcome: string }).outcome)).toEqual(['applied']);
    for (const pid of local.state.emulatorPids) expect(isRunning(pid)).toBe(false);
    expect(local.output().trimEnd().split('\n').at(-1)).toBe('stopped');
  });
});
