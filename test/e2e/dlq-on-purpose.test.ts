import { SAMPLES } from '../../scripts/samples/index';
import { type LocalProcess, startLocalProcess, waitFor } from './helpers/local-process';
import { depths, runCli } from './helpers/webhooks';

jest.setTimeout(120_000);

/**
 * A dead-letter entry on purpose (`send --fail`), found with the id the worker's log names, and
 * every sample in one go (`send --all`).
 */
describe('send --fail and send --all against the local mode', () => {
  let local: LocalProcess;
  beforeAll(async () => {
    local = await startLocalProcess();
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('--fail is queued (200), dead-lettered by the worker, and `dlq show` finds it by the id the worker logged', async () => {
    const sent = await runCli(['send', 'recharge', '2021-11-created-regular', '--fail'], local.stateFile);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^200 /);

    const line = await waitFor(
      () =>
        local
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((entry) => entry.message === 'record handled' && entry.outcome === 'dead-lettered'),
      'the worker to dead-letter the record',
      60_000,
    );
    expect(line.step).toBe('parse-payload');
    expect(typeof line.dlqMessageId).toBe('string');
    expect(line.dlqMessageId).not.toBe(line.messageId);

    const shown = await runCli(['dlq', 'show', String(line.dlqMessageId), '--json'], local.stateFile);
    expect(shown.code).toBe(0);
    const entry = JSON.parse(shown.stdout) as {
      messageId: string;
      failureClass: string;
      deliveryKey: string;
    };
    expect(entry).toMatchObject({
      messageId: line.dlqMessageId,
      failureClass: 'permanent',
      deliveryKey: line.deliveryKey,
    });
  });

  it('--all sends every sample of a provider and answers 2xx for each', async () => {
    const sevi = SAMPLES.filter((s) => s.provider === 'sevi');
    const sent = await runCli(['send', 'sevi', '--all', '--json'], local.stateFile);

    expect(sent.code).toBe(0);
    const results = JSON.parse(sent.stdout) as { sample: string; status: number }[];
    expect(results.map((r) => r.sample)).toEqual(sevi.map((s) => `sevi ${s.name}`));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await waitFor(async () => (await depths(local)).queueEmpty || undefined, 'the queue to drain', 60_000);
  });

  it('--fail is refused for a provider it cannot fail on purpose, with the reason', async () => {
    const sent = await runCli(['send', 'sevi', 'paid', '--fail'], local.stateFile);

    expect(sent.code).toBe(2);
    expect(sent.stderr).toContain('--fail takes one recharge sample');
  });
});
