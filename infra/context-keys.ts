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
    if (known.includes(key) || key in RETIRED_SETTINGS) continue;
    const nearest = nearestName(key, known);
    const ours = /^[a-z][A-Za-z0-9]*$/.test(key);
    if (!ours && !nearest) continue;
    problems.push(
      `context "${key}" is not a setting${nearest ? `; did you mean "${nearest}"?` : ''} (settings: docs/configuration.md)`,
    );
  }
  return problems;
}

/**
 * Settings the stack no longer reads: a cdk.json that still has one deploys (an upgrade must not
 * fail on a key that is now moot), with a synth warning saying it can go.
 */
export const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
  idempotencyTtlSeconds: 'effect steps live on the order items, so nothing reads it',
};

/** The synth warnings for retired settings present in the context. */
export function retiredContextKeyWarnings(keys: readonly string[]): string[] {
  return keys
    .filter((key) => key in RETIRED_SETTINGS)
    .map(
      (key) => `context "${key}" is no longer a setting (${RETIRED_SETTINGS[key]}): remove it from cdk.json`,
    );
}
