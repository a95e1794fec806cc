/**
 * Inside Lambda the worker wires its dependencies when the module loads, like the ingest: a bad
 * setting fails the init phase (the error names the variable) instead of every batch.
 */
describe('worker handler module inside Lambda', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  const lambdaEnv = {
    AWS_LAMBDA_FUNCTION_NAME: 'worker',
    AWS_REGION: 'us-east-1',
    QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
    DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
    IDEMPOTENCY_TABLE: 'idem',
    ORDERS_TABLE: 'orders',
  };

  it('fails to load when a setting is bad, naming it', () => {
    process.env = { ...saved, ...lambdaEnv, RECHARGE_API_VERSION: '2099-01' };
    jest.isolateModules(() => {
      expect(() => require('../../../functions/worker/handler')).toThrow(/RECHARGE_API_VERSION/);
    });
  });

  it('fails to load when ORDER_SYSTEM=http has no ORDER_SYSTEM_URL', () => {
    process.env = { ...saved, ...lambdaEnv, ORDER_SYSTEM: 'http' };
    jest.isolateModules(() => {
      expect(() => require('../../../functions/worker/handler')).toThrow(/ORDER_SYSTEM_URL/);
    });
  });

  it('loads with good settings', () => {
    process.env = { ...saved, ...lambdaEnv };
    jest.isolateModules(() => {
      const loaded = require('../../../functions/worker/handler') as { handler: unknown };
      expect(typeof loaded.handler).toBe('function');
    });
  });
});
