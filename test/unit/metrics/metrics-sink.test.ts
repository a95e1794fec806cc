import { ALARM_METRICS, ATTENTION, countAttention, METRIC, makeMetricsSink } from '../../../shared/metrics';

/** The EMF lines a flush prints (Powertools writes them to stdout). */
function emfLines(run: () => void): { names: string[]; lines: number; blobs: Record<string, unknown>[] } {
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
  return { names, lines: lines.length, blobs: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
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

  it('publishes what needs a person without the dashboard: under service (the alarm) and with its reason (doctor)', () => {
    const sink = makeMetricsSink(false);
    const out = emfLines(() => {
      countAttention(sink, ATTENTION.subscriptionMissing, 2);
      countAttention(sink, ATTENTION.reconcileOrdersBehind, 0);
      sink.flush();
    });

    expect(ALARM_METRICS).toEqual([METRIC.rejected, METRIC.needsAttention]);
    expect(out.names).toEqual([METRIC.needsAttention, METRIC.needsAttention]);
    const sets = out.blobs.map(
      (b) => (b._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]?.Dimensions,
    );
    expect(sets).toEqual([[['service']], [['service', 'reason']]]);
    expect(out.blobs[1]).toMatchObject({ reason: 'subscription-missing', NeedsAttention: 2 });
    expect(out.blobs[0]).toMatchObject({ NeedsAttention: 2 });
  });

  it('sums what needs a person per reason within a flush: a batch of refused records is two lines, not two per record', () => {
    const sink = makeMetricsSink(false);
    const out = emfLines(() => {
      for (let i = 0; i < 10; i++) countAttention(sink, ATTENTION.workerConfigError);
      countAttention(sink, ATTENTION.writeBackStopped);
      sink.flush();
    });

    expect(out.lines).toBe(3);
    expect(out.blobs[0]?.NeedsAttention).toEqual(Array(11).fill(1));
    expect(out.blobs.slice(1)).toEqual([
      expect.objectContaining({ reason: 'worker-config-error', NeedsAttention: 10 }),
      expect.objectContaining({ reason: 'write-back-stopped', NeedsAttention: 1 }),
    ]);
  });

  it('keeps the detailed condition metrics for the dashboard: none of them is published without it', () => {
    const sink = makeMetricsSink(false);
    const out = emfLines(() => {
      for (const name of [
        METRIC.configError,
        METRIC.writeBackStopped,
        METRIC.reconcileBehind,
        METRIC.reconcileFailuresInARow,
        METRIC.subscriptionRecreated,
        METRIC.subscriptionMissing,
      ])
        sink.count(name);
      sink.flush();
    });
    expect(out.lines).toBe(0);
  });
});
