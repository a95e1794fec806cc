import path from 'node:path';
import { NO_STATUS, runOrders, statusOf } from '../../../scripts/cli/orders';
import { CliError, UsageError } from '../../../scripts/cli/target';

/** `stats` counts orders without a status under "unknown"; `orders --status unknown` must list them. */
describe('the status of an order that has none yet', () => {
  const noLocalMode = ['--state-file', path.join(__dirname, 'no-such-folder', 'endpoints.json')];

  it('is shown as the same word by stats and the orders table', () => {
    expect(statusOf({})).toBe(NO_STATUS);
    expect(statusOf({ status: 'paid' })).toBe('paid');
  });

  it('is accepted by orders --status (it goes on to find the target)', async () => {
    await expect(runOrders(['--status', NO_STATUS, ...noLocalMode])).rejects.toThrow(CliError);
    await expect(runOrders(['--status', NO_STATUS, ...noLocalMode])).rejects.not.toThrow(UsageError);
  });

  it('while a status that does not exist is still a usage error naming the choices', async () => {
    await expect(runOrders(['--status', 'bogus', ...noLocalMode])).rejects.toThrow(
      /unknown status "bogus": one of .*paid.*, unknown/,
    );
  });
});
