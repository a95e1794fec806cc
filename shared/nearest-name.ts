/**
 * The known name closest to `name` (case and `-`/`_`/`.` ignored), when close enough to be a
 * typo: at most two edits, more for long names. For "did you mean" hints in the CDK app and CLI.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const target = normalize(name);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(target, normalize(candidate));
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(target.length / 5)) ? best.name : undefined;
}

const normalize = (name: string) => name.toLowerCase().replace(/[-_.]/g, '');

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
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
