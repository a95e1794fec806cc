import { SETTING_KEYS } from './settings';

/**
 * Unknown context keys of ours fail the synth, with the nearest known key: a misspelled
 * `-c alarmEmial=...` would otherwise deploy with no alarm subscription. Ours are plain camelCase
 * names; CDK's own keys (`@aws-cdk/...` feature flags, `aws:cdk:...`, lookup caches with `:`) and
 * other tools' dashed keys pass, unless they are a near miss of one of ours (`alarm-email`).
 */
export function unknownContextKeyProblems(keys: readonly string[], known: readonly string[] = SETTING_KEYS) {
  const problems: string[] = [];
  for (const key of keys) {
    if (known.includes(key)) continue;
    const nearest = nearestKey(key, known);
    const ours = /^[a-z][A-Za-z0-9]*$/.test(key);
    if (!ours && !nearest) continue;
    problems.push(
      `context "${key}" is not a setting${nearest ? `; did you mean "${nearest}"?` : ''} (settings: docs/configuration.md)`,
    );
  }
  return problems;
}

const normalize = (key: string) => key.toLowerCase().replace(/[-_.]/g, '');

/** The known key closest to `key` (case and separators ignored), if close enough to be a typo. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const target = normalize(key);
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = levenshtein(target, normalize(candidate));
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  // Two edits covers the usual slips (a swapped, missing or doubled letter) for keys this long.
  return best && best.distance <= Math.max(2, Math.floor(target.length / 5)) ? best.key : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] as number;
}
