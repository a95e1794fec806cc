import { ConfigError } from '../../../shared/errors';
import { buildWorkerDeps } from '../../../shared/worker/deps';

const base = {
  QUEUE_URL: 'http://127.0.0.1:1/q',
  DLQ_URL: 'http://127.0.0.1:1/dlq',
  IDEMPOTENCY_TABLE: 'idem',
  ORDERS_TABLE: 'orders',
};
const quiet = { log: { debug() {}, info() {}, warn() {}, error() {} }, metrics: { count() {} } };

describe('worker entry point', () => {
  it('can be imported without any environment (deps are built on the first invocation)', async () => {
    const module = await import('../../../functions/worker/handler');
    expect(typeof module.handler).toBe('function');
    expect(typeof module.makeHandler).toBe('function');
  });

  it('names a missing variable at cold start, never a value', () => {
    const { DLQ_URL: _omit, ...env } = base;
    expect(() => buildWorkerDeps({ env, ...quiet })).toThrow(ConfigError);
    expect(() => buildWorkerDeps({ env, ...quiet })).toThrow('DLQ_URL');
  });

  it('requires ORDER_SYSTEM_URL when the HTTP order system is chosen', () => {
    expect(() => buildWorkerDeps({ env: { ...base, ORDER_SYSTEM: 'http' }, ...quiet })).toThrow(
      'ORDER_SYSTEM_URL',
    );
  });

  it('defaults to the ledger and ReCharge API 2021-11', () => {
    const deps = buildWorkerDeps({ env: base, ...quiet });
    expect(deps.orderSystem.kind).toBe('ledger');
    expect(deps.env.RECHARGE_API_VERSION).toBe('2021-11');
  });
});
