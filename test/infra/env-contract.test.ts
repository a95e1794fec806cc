import type { Template } from 'aws-cdk-lib/assertions';
import { ingestEnvSchema, parseEnv, reconcileEnvSchema, workerEnvSchema } from '../../shared/config';
import { ALL_FEATURES, buildStack } from './build-stack';

type Resources = Record<
  string,
  { Properties: { Description?: string; Environment?: { Variables?: object } } }
>;

/** Set by the construct for the runtime and Powertools, not read through shared/config.ts. */
const PLATFORM_KEYS = new Set([
  'NODE_OPTIONS',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
]);

function environmentOf(template: Template, description: string): Record<string, unknown> {
  const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);
  const fn = functions.find((f) => f.Properties.Description?.startsWith(description));
  if (!fn) throw new Error(`no function described as ${description}`);
  return { ...(fn.Properties.Environment?.Variables ?? {}) } as Record<string, unknown>;
}

/** Deploy-time tokens (Ref, GetAtt) become dummy strings; literal values are kept as the stack sets them. */
function withDummyTokens(variables: Record<string, unknown>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(variables))
    env[key] =
      typeof value === 'string'
        ? value
        : key.endsWith('_URL')
          ? `https://dummy.example.com/${key.toLowerCase()}/`
          : `dummy-${key.toLowerCase()}`;
  return env;
}

describe.each([
  ['default settings', {}],
  ['every optional feature', ALL_FEATURES],
])('environment the stack gives each function (%s)', (_name, context) => {
  const { template } = buildStack(context);
  const cases = [
    ['order-webhooks ingest', ingestEnvSchema],
    ['order-webhooks worker', workerEnvSchema],
    ['order-webhooks reconcile', reconcileEnvSchema],
  ] as const;

  it.each(cases)('%s: every variable it sets is one shared/config.ts reads', (description, schema) => {
    const known = new Set(Object.keys(schema.shape));
    const unknown = Object.keys(environmentOf(template, description)).filter(
      (key) => !known.has(key) && !PLATFORM_KEYS.has(key),
    );
    expect(unknown).toEqual([]);
  });

  it.each(cases)('%s: the variables parse with its schema', (description, schema) => {
    const env = withDummyTokens(environmentOf(template, description));
    expect(() => parseEnv(schema, env)).not.toThrow();
  });
});
