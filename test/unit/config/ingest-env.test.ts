import fc from 'fast-check';
import { ingestEnvSchema, parseEnv } from '../../../shared/config';
import { parseIngestEnv } from '../../../shared/ingest/env';

/**
 * The ingest reads its settings without building ingestEnvSchema when it can (its cold start);
 * the schema stays the definition. Whatever the environment, the answer is the schema's: the same
 * settings, or the same error naming the same variables.
 */
const outcome = (parse: () => object): { settings?: object; error?: string } => {
  try {
    return { settings: parse() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
};

const NAMES = [
  'AWS_REGION',
  'SECRET_ARN',
  'COMBINED_SECRET_ARN',
  'SECRET_MAX_AGE_SECONDS',
  'SQS_ENDPOINT',
  'DYNAMODB_ENDPOINT',
  'AWS_CALL_RECORD_FILE',
  'S3_ENDPOINT',
  'PUBLISH_DASHBOARD_METRICS',
  'QUEUE_URL',
  'MAX_MESSAGE_BYTES',
  'RECHARGE_TIMESTAMP_TOLERANCE_SECONDS',
  'RECHARGE_REQUIRE_TIMESTAMP',
  'QUEUE_SEND_TIMEOUT_MS',
  'ARCHIVE_BUCKET',
  'MAX_BODY_BYTES',
  'CLAIM_PUT_TIMEOUT_MS',
  'SOMETHING_ELSE',
];
const value = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    ' ',
    'true',
    'false',
    'TRUE',
    '0',
    '1',
    '49',
    '50',
    '99',
    '100',
    '1023',
    '1024',
    '700',
    ' 700 ',
    '1e3',
    '0x400',
    '1.5',
    '-5',
    'NaN',
    'Infinity',
    '9007199254740993',
    'us-east-1',
    'http://127.0.0.1:4566',
    'not a url',
    'https://sqs.us-east-1.amazonaws.com/123456789012/q',
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf',
  ),
  fc.string({ maxLength: 8 }),
);
const DEPLOYED = {
  AWS_REGION: 'eu-west-1',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/order-webhooks',
  SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-AbCdEf',
  SECRET_MAX_AGE_SECONDS: '300',
  MAX_MESSAGE_BYTES: '1048576',
  RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: '600',
  RECHARGE_REQUIRE_TIMESTAMP: 'true',
  QUEUE_SEND_TIMEOUT_MS: '700',
  ARCHIVE_BUCKET: 'order-webhooks-archive',
  CLAIM_PUT_TIMEOUT_MS: '3000',
  PUBLISH_DASHBOARD_METRICS: 'false',
};
const changes = fc.dictionary(fc.constantFrom(...NAMES), value, { maxKeys: 4 });
/** Anything, and (most cases) the deployed environment with a few values changed or removed. */
const environment = fc.oneof(
  fc.dictionary(fc.constantFrom(...NAMES), value, { maxKeys: NAMES.length }),
  changes.map((changed) => ({ ...DEPLOYED, ...changed })),
  changes.map((changed) => ({ ...DEPLOYED, ...changed })),
);

describe('the ingest settings', () => {
  it('cover every setting the schema defines (a new one must be read by the plain code and tried here)', () => {
    const defined = Object.keys(ingestEnvSchema.shape).sort();
    expect(NAMES.filter((name) => name !== 'SOMETHING_ELSE').sort()).toEqual(defined);
  });

  it('are what ingestEnvSchema gives, for any environment', () => {
    fc.assert(
      fc.property(environment, (env) => {
        const read = outcome(() => parseIngestEnv(env));
        const schema = outcome(() => parseEnv(ingestEnvSchema, env));
        expect(read).toEqual(schema);
        // The same keys in the same order, a kept key without a value included.
        expect(Object.entries(read.settings ?? {})).toEqual(Object.entries(schema.settings ?? {}));
      }),
      { numRuns: 3000 },
    );
  });

  it('as the stack deploys them: every setting read, the same as the schema reads it', () => {
    const deployed = DEPLOYED;
    const settings = parseIngestEnv(deployed);
    expect(settings).toEqual(parseEnv(ingestEnvSchema, deployed));
    expect(Object.keys(settings)).toEqual(Object.keys(parseEnv(ingestEnvSchema, deployed)));
    expect(settings).toMatchObject({
      RECHARGE_REQUIRE_TIMESTAMP: true,
      RECHARGE_TIMESTAMP_TOLERANCE_SECONDS: 600,
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('refuse a bad value with the schema’s message, naming the variable', () => {
    expect(() => parseIngestEnv({ QUEUE_URL: 'q', QUEUE_SEND_TIMEOUT_MS: '10' })).toThrow(
      /invalid configuration: QUEUE_SEND_TIMEOUT_MS: /,
    );
    expect(() => parseIngestEnv({})).toThrow(/QUEUE_URL/);
  });

  it('as the stack deploys them are read without loading the schema (zod stays off the cold start)', () => {
    jest.isolateModules(() => {
      jest.doMock('../../../shared/ingest/env-schema', () => {
        throw new Error('the schema was loaded');
      });
      const { parseIngestEnv: isolated } =
        require('../../../shared/ingest/env') as typeof import('../../../shared/ingest/env');
      expect(isolated(DEPLOYED)).toEqual(parseEnv(ingestEnvSchema, DEPLOYED));
      expect(() => isolated({ ...DEPLOYED, QUEUE_SEND_TIMEOUT_MS: '10' })).toThrow('the schema was loaded');
    });
  });
});
