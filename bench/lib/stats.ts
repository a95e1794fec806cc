/** Small measurement helpers shared by the benchmarks (not used by tests). */

export interface Summary {
  samples: number;
  p50: number;
  p99: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

/** Times `iterations` calls of `fn` (after `warmup` untimed calls); milliseconds per call. */
export async function measure(
  fn: () => unknown | Promise<unknown>,
  iterations: number,
  warmup = Math.ceil(iterations / 5),
): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    samples[i] = performance.now() - start;
  }
  return summarize(samples);
}

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
