import path from 'node:path';
import { localSecretHint } from '../../../scripts/cli/send';
import { stateFilePath } from '../../../scripts/cli/target';
import { resolveStartOptions } from '../../../scripts/local/start-options';
import { applyOrderEvent } from '../../../shared/domain/order-record';

const ROOT = path.resolve(__dirname, '../../..');

describe('the CLI finds the local mode', () => {
  const saved = process.env.LOCAL_DATA_DIR;
  beforeEach(() => delete process.env.LOCAL_DATA_DIR);
  afterAll(() => {
    if (saved !== undefined) process.env.LOCAL_DATA_DIR = saved;
  });

  it("from a subfolder, in the project's .local", () => {
    expect(stateFilePath({}, path.join(ROOT, 'functions', 'worker'))).toBe(
      path.join(ROOT, '.local', 'endpoints.json'),
    );
  });

  it('in --data-dir relative to where it runs', () => {
    expect(stateFilePath({ 'data-dir': 'x' }, path.join(ROOT, 'functions'))).toBe(
      path.join(ROOT, 'functions', 'x', 'endpoints.json'),
    );
  });
});

describe('npm start --in-memory --data-dir', () => {
  it('keeps its endpoints file (and lock) in that folder, not .local', () => {
    const options = resolveStartOptions({ 'in-memory': true, 'data-dir': '/tmp/other' }, {});

    expect(options.dataDir).toBeNull();
    expect(options.stateFile).toBe(path.join('/tmp/other', 'endpoints.json'));
  });
});

describe('send rejected by the local mode', () => {
  it('names the secret the local mode checks and its development value', () => {
    expect(localSecretHint('sevi', ['SEVI_WEBHOOK_TOKENS'], true)).toContain(
      'checks SEVI_WEBHOOK_TOKENS, which it runs on its development value "dev-sevi-webhook-token"; drop --secret-file',
    );
  });

  it('never prints a configured (non-development) secret', () => {
    const hint = localSecretHint('recharge', [], true);

    expect(hint).toContain('the RECHARGE_WEBHOOK_SECRETS it was started with');
    expect(hint).not.toContain('dev-recharge-client-secret');
  });
});

describe('order history of a Wix transaction', () => {
  it('keeps the transaction id in its own field, not in providerStatus', () => {
    const { record } = applyOrderEvent(
      undefined,
      {
        ref: { provider: 'wix-cashier-pay', orderId: 'o-1' },
        topic: 'TRANSACTION',
        statusPath: ['paid'],
        createExternal: true,
        transaction: { id: 'tx-123', status: 'APPROVED' },
      },
      { deliveryKey: 'd-1', now: new Date().toISOString() },
    );

    const entry = record.history.find((h) => h.field === 'transaction');
    expect(entry).toMatchObject({ to: 'APPROVED', transactionId: 'tx-123' });
    expect(entry?.providerStatus).toBeUndefined();
  });
});
