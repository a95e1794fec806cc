import { existsSync } from 'node:fs';
import { findSample, sampleBody } from '../../scripts/samples/index';
import { startLocalProcess, waitFor } from './helpers/local-process';
import { deliver } from './helpers/webhooks';

jest.setTimeout(120_000);

/**
 * `npm start | tee log`, then Ctrl-C: the terminal signals tee too, so the local mode's next log line
 * meets a closed pipe (EPIPE). It must still stop cleanly and remove its endpoints file, or the CLI
 * and the next start would find a stale one.
 */
describe('the local mode whose output reader is gone', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops on %s, removing its endpoints file, when stdout is a closed pipe',
    async (signal) => {
      const local = await startLocalProcess({ env: { POWERTOOLS_LOG_LEVEL: 'INFO' } });
      const { stateFile, child } = local;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // tee has exited: nobody reads the local mode's stdout any more.
      child.stdout?.destroy();
      const sample = findSample('recharge', '2021-11-created-regular');
      if (!sample) throw new Error('sample missing');
      // A webhook makes the handlers log (to stdout, now a closed pipe).
      await deliver(local.state.apiUrl, {
        provider: 'recharge',
        body: sampleBody(sample),
        topic: sample.topic,
      }).catch(() => undefined);
      if (child.exitCode === null) child.kill(signal);
      await Promise.race([
        exited,
        waitFor(() => child.exitCode !== null || child.signalCode !== null, 'exit', 60_000),
      ]);

      expect({ endpointsFileLeft: existsSync(stateFile) }).toEqual({ endpointsFileLeft: false });
      await local.stop();
    },
  );

  it('stops on its own (removing its endpoints file) once a write meets the closed pipe', async () => {
    const local = await startLocalProcess({ env: { POWERTOOLS_LOG_LEVEL: 'INFO' } });
    const { stateFile, child } = local;
    child.stdout?.destroy();
    const sample = findSample('recharge', '2021-11-created-regular');
    if (!sample) throw new Error('sample missing');
    await deliver(local.state.apiUrl, {
      provider: 'recharge',
      body: sampleBody(sample),
      topic: sample.topic,
    }).catch(() => undefined);

    await waitFor(() => child.exitCode !== null, 'the local mode to stop after EPIPE', 60_000);
    expect(existsSync(stateFile)).toBe(false);
    expect(child.exitCode).toBe(0);
    await local.stop();
  });
});
