import fc from 'fast-check';
import { SAMPLES } from '../../../scripts/samples/index';
import { toEnvelopeIssues } from '../../../shared/ingest/json';
import { isHandledRechargeTopic, parseRechargeEnvelope } from '../../../shared/providers/recharge/envelope';
import { rechargeEnvelopeSchema } from '../../../shared/providers/recharge/envelope-schema';
import { parseSeviEnvelope } from '../../../shared/providers/sevi/envelope';
import { seviEnvelopeSchema } from '../../../shared/providers/sevi/envelope-schema';
import { parseWixEnvelope, parseWixTypedEvent } from '../../../shared/providers/wix-cashier-pay/envelope';
import {
  wixEnvelopeSchema,
  wixTypedEventSchema,
} from '../../../shared/providers/wix-cashier-pay/envelope-schema';

/**
 * The ingest checks envelopes by plain code and builds the zod schema only for one it does not
 * accept (its cold start builds no schema). The schemas stay the definition: for any value the
 * answer is the schema's, accepted or refused with the same issues.
 */
const schemaAnswer = (schema: { safeParse(value: unknown): unknown }, value: unknown) => {
  const result = schema.safeParse(value) as
    | { success: true; data: unknown }
    | { success: false; error: Parameters<typeof toEnvelopeIssues>[0] };
  return result.success ? result : { success: false, issues: toEnvelopeIssues(result.error) };
};

const leaf = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    5,
    -1,
    1.5,
    2 ** 53,
    Number.POSITIVE_INFINITY,
    Number.NaN,
    '',
    '5',
    '05',
    '-5',
    '5a',
    ' 5',
    'o-1',
    null,
    true,
    [],
    {},
  ),
  fc.string({ maxLength: 4 }),
  fc.integer(),
);
const WIX_TYPES = ['ORDER_EXPIRED', 'TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGE', 'OTHER', ''];
const KEYS = [
  'order',
  'id',
  'status',
  'orderPayment',
  'paymentStatus',
  'type',
  'orderId',
  'transactionId',
  'transactionStatus',
  'expiredOrderEvent',
  'transactionEvent',
  'subscriptionStatusChangeEvent',
  'extra',
];
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.constantFrom(...WIX_TYPES),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
  ),
}));
/** Mostly near-valid envelopes: an object whose `order` or event object holds a few of the fields. */
const inner = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 });
const envelope = fc.oneof(
  value,
  inner.map((order) => ({ order })),
  fc
    .record({ type: fc.constantFrom(...WIX_TYPES), event: inner, key: fc.constantFrom(...KEYS) })
    .map(({ type, event, key }) => ({ type, [key]: event })),
  fc
    .record({ type: fc.constantFrom(...WIX_TYPES), orderId: leaf, other: inner })
    .map(({ type, orderId, other }) => ({
      type,
      expiredOrderEvent: { orderId, ...other },
      transactionEvent: { ...other, orderId },
      subscriptionStatusChangeEvent: { orderId, ...other },
    })),
);

describe.each([
  ['ReCharge', parseRechargeEnvelope, rechargeEnvelopeSchema],
  ['Sevi', parseSeviEnvelope, seviEnvelopeSchema],
  ['Wix typed event', parseWixTypedEvent, wixTypedEventSchema],
  ['Wix', parseWixEnvelope, wixEnvelopeSchema],
] as const)('the %s envelope check', (_name, check, schema) => {
  it("gives the schema's answer for any value", () => {
    fc.assert(
      fc.property(envelope, (candidate) => {
        expect(check(candidate)).toEqual(schemaAnswer(schema, candidate));
      }),
      { numRuns: 5000 },
    );
  });
});

it("accepts every sample payload by plain code (the very object back, not the schema's copy), and refuses with the schema's issues", () => {
  const checks = {
    recharge: parseRechargeEnvelope,
    sevi: parseSeviEnvelope,
    'wix-cashier-pay': (payload: unknown) =>
      parseWixTypedEvent(payload).success ? parseWixEnvelope(payload) : undefined,
  };
  const handled = SAMPLES.filter(
    (sample) => sample.provider !== 'recharge' || isHandledRechargeTopic(sample.topic),
  );
  expect(handled.length).toBeGreaterThan(3);
  for (const sample of handled) {
    const result = checks[sample.provider](sample.payload);
    expect(result?.success && result.data).toBe(sample.payload);
  }
  expect(parseRechargeEnvelope({ order: { id: -3 } })).toEqual({
    success: false,
    issues: toEnvelopeIssues(
      (
        rechargeEnvelopeSchema.safeParse({ order: { id: -3 } }) as {
          error: Parameters<typeof toEnvelopeIssues>[0];
        }
      ).error,
    ),
  });
});
