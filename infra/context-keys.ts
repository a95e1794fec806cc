import { nearestName } from '../shared/nearest-name';
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
    const nearest = nearestName(key, known);
    const ours = /^[a-z][A-Za-z0-9]*$/.test(key);
    if (!ours && !nearest) continue;
    problems.push(
      `context "${key}" is not a setting${nearest ? `; did you mean "${nearest}"?` : ''} (settings: docs/configuration.md)`,
    );
  }
  return problems;
}
