import { Logger } from '@aws-lambda-powertools/logger';
import { LeanLogFormatter } from '../../../shared/logger';

/** The JSON lines a logger with the lean formatter writes, as Lambda would ship them. */
function linesOf(act: (logger: Logger) => void): Record<string, unknown>[] {
  const written: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }),
  );
  try {
    act(
      new Logger({ serviceName: 'order-webhooks', logLevel: 'INFO', logFormatter: new LeanLogFormatter() }),
    );
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('log lines (LeanLogFormatter)', () => {
  const trace = process.env._X_AMZN_TRACE_ID;
  afterEach(() => {
    if (trace === undefined) delete process.env._X_AMZN_TRACE_ID;
    else process.env._X_AMZN_TRACE_ID = trace;
  });

  it('carries level, message, timestamp and the fields, without service or sampling fields', () => {
    process.env._X_AMZN_TRACE_ID =
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0';

    const lines = linesOf((logger) => logger.info('webhook', { provider: 'sevi', outcome: 'queued' }));

    expect(lines).toEqual([
      {
        level: 'INFO',
        message: 'webhook',
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        provider: 'sevi',
        outcome: 'queued',
      },
    ]);
  });

  it('adds the X-Ray trace id only when the request is traced', () => {
    process.env._X_AMZN_TRACE_ID =
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

    const [line] = linesOf((logger) => logger.warn('external call', { status: 500 }));

    expect(line).toMatchObject({ level: 'WARN', xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793' });
  });
});
