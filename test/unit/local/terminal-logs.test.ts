import { Writable } from 'node:stream';
import { formatLogLine, installLineLogs } from '../../../scripts/local/terminal-logs';

const powertoolsLine = JSON.stringify({
  level: 'INFO',
  message: 'external call',
  timestamp: '2026-12-02T03:50:01.234Z',
  service: 'order-webhooks',
  sampling_rate: 0,
  cold_start: true,
  function_name: 'worker',
  function_request_id: 'abc',
  target: 'recharge',
  method: 'PUT',
  path: '/orders/512300303',
  status: 200,
  durationMs: 12,
  attempt: 1,
});

describe('terminal log lines', () => {
  it('turn a Powertools JSON line into time, level, message and the fields that matter', () => {
    expect(formatLogLine(powertoolsLine)).toBe(
      '03:50:01.234 INFO  external call  target=recharge method=PUT path=/orders/512300303 status=200 durationMs=12 attempt=1',
    );
  });

  it('show an error as its name and message, not its stack', () => {
    const line = JSON.stringify({
      level: 'ERROR',
      message: 'poller error',
      timestamp: '2026-12-02T03:50:01.234Z',
      error: { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at x' },
    });

    expect(formatLogLine(line)).toBe('03:50:01.234 ERROR poller error  error="TypeError: boom"');
  });

  it('render an embedded-metric line ({"_aws":...}) as one short METRIC line, not raw JSON', () => {
    const emf = JSON.stringify({
      _aws: {
        Timestamp: Date.parse('2026-12-02T03:50:01.234Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'OrderWebhooks',
            Dimensions: [['service', 'provider']],
            Metrics: [
              { Name: 'WebhooksReceived', Unit: 'Count' },
              { Name: 'WebhooksQueued', Unit: 'Count' },
            ],
          },
        ],
      },
      service: 'order-webhooks',
      provider: 'recharge',
      WebhooksReceived: 1,
      WebhooksQueued: 1,
    });

    expect(formatLogLine(emf)).toBe(
      '03:50:01.234 METRIC WebhooksReceived=1 WebhooksQueued=1  provider=recharge',
    );
  });

  it('leave anything that is not a log line alone', () => {
    expect(formatLogLine('order-webhooks local mode is running')).toBeUndefined();
    expect(formatLogLine('{"not":"a log"}')).toBeUndefined();
  });

  it('are written instead of the JSON once installed on a stream', () => {
    let written = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        written += chunk.toString();
        done();
      },
    }) as unknown as NodeJS.WriteStream;

    installLineLogs(stream, false);
    stream.write(`${powertoolsLine}\n`);
    stream.write('plain text\n');

    expect(written.split('\n')).toEqual([
      expect.stringMatching(/^03:50:01.234 INFO {2}external call {2}target=recharge/),
      'plain text',
      '',
    ]);
  });
});
