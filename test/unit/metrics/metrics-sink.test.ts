import { ALARM_METRICS, METRIC, makeMetricsSink } from '../../../shared/metrics';

/** The EMF lines a flush prints (Powertools writes them to stdout). */
function emfLines(run: () => void): { names: string[]; lines: number } {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(console, 'log').mockImplementation((...args) => {
    written.push(args.map(String).join(' '));
  });
  try {
    run();
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
  const lines = written
    .join('\n')
    .split('\n')
    .filter((l) => l.includes('"_aws"'));
  const names = lines.flatMap((l) =>
    (
      JSON.parse(l) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } }
    )._aws.CloudWatchMetrics.flatMap((g) => g.Metrics.map((m) => m.Name)),
  );
  return { names, lines: lines.length };
}

describe('metrics sink', () => {
  it('never publishes a zero (a metric is billed for every hour it receives data)', () => {
    const sink = makeMetricsSink(true);
    const out = emfLines(() => {
      sink.count(METRIC.reconcileBehind, 0);
      sink.count(METRIC.reconcileFailuresInARow, 0);
      sink.count(METRIC.reconcileListed, 3);
      sink.flush();
    });
    expect(out.names).toEqual([METRIC.reconcileListed]);
  });

  it('without the dashboard publishes only the metrics an alarm reads', () => {
    const sink = makeMetricsSink(false);
    const out = emfLines(() => {
      sink.count(METRIC.received);
      sink.count(METRIC.processed);
      sink.count(METRIC.rejected);
      sink.flush();
    });
    expect(out.names).toEqual([METRIC.rejected]);
    expect(ALARM_METRICS).toContain(METRIC.rejected);
  });

  it('prints nothing when nothing was counted', () => {
    const sink = makeMetricsSink(false);
    const out = emfLines(() => {
      sink.count(METRIC.received);
      sink.flush();
    });
    expect(out.lines).toBe(0);
  });
});
