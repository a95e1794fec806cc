import fc from 'fast-check';
import {
  checkSubscriptionTransition,
  checkTransition,
  ORDER_STATUSES,
  type OrderStatus,
} from '../../../shared/domain/state-machine';

describe('order state machine', () => {
  it.each([
    [undefined, 'paid', 'applied'],
    ['pending', 'paid', 'applied'],
    ['paid', 'delivered', 'applied'],
    ['payment_failed', 'paid', 'applied'],
    ['payment_failed', 'pending', 'applied'],
    ['expired', 'paid', 'applied'],
    ['paid', 'refunded', 'applied'],
    ['paid', 'paid', 'unchanged'],
    ['delivered', 'pending', 'ignored'],
    ['paid', 'pending', 'ignored'],
    ['paid', 'expired', 'ignored'],
    ['paid', 'payment_failed', 'ignored'],
    ['refunded', 'paid', 'ignored'],
    ['cancelled', 'pending', 'ignored'],
    ['delivered', 'payment_failed', 'ignored'],
  ] as const)('%s -> %s is %s', (from, to, outcome) => {
    expect(checkTransition(from as OrderStatus | undefined, to)).toBe(outcome);
  });

  it.each([
    ['SUBSCRIPTION_ACTIVE', 'IN_PROCESS', 'applied'],
    ['IN_PROCESS', 'SUBSCRIPTION_ACTIVE', 'applied'],
    ['SUBSCRIPTION_CANCELLED', 'IN_PROCESS', 'ignored'],
    ['SUBSCRIPTION_FINISHED', 'SUBSCRIPTION_PAUSED', 'ignored'],
    ['SUBSCRIPTION_ACTIVE', 'SUBSCRIPTION_PENDING', 'ignored'],
  ])(
    'subscription %s -> %s is %s (a word it cannot place never replaces an ended one)',
    (from, to, outcome) => {
      expect(checkSubscriptionTransition(from, to)).toBe(outcome);
    },
  );

  it('never lets a paid order become unpaid again, whatever arrives later', () => {
    const unpaid: OrderStatus[] = ['pending', 'payment_failed', 'skipped', 'expired'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ORDER_STATUSES), { maxLength: 20 }), (later) => {
        let current: OrderStatus = 'paid';
        for (const to of later) if (checkTransition(current, to) === 'applied') current = to;
        expect(unpaid).not.toContain(current);
      }),
    );
  });

  it('keeps delivered orders delivered or refunded whatever arrives later', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ORDER_STATUSES), { maxLength: 15 }), (later) => {
        let current: OrderStatus = 'delivered';
        for (const to of later) if (checkTransition(current, to) === 'applied') current = to;
        expect(['delivered', 'partially_refunded', 'refunded']).toContain(current);
      }),
    );
  });
});

describe('subscription statuses', () => {
  it('moves pending to active to cancelled and never back', () => {
    expect(checkSubscriptionTransition('SUBSCRIPTION_PENDING', 'SUBSCRIPTION_ACTIVE')).toBe('applied');
    expect(checkSubscriptionTransition('SUBSCRIPTION_ACTIVE', 'SUBSCRIPTION_CANCELLED')).toBe('applied');
    expect(checkSubscriptionTransition('SUBSCRIPTION_CANCELLED', 'SUBSCRIPTION_ACTIVE')).toBe('ignored');
    expect(checkSubscriptionTransition('SUBSCRIPTION_FINISHED', 'SUBSCRIPTION_PENDING')).toBe('ignored');
  });

  it('records statuses outside the known set as sent', () => {
    expect(checkSubscriptionTransition('SUBSCRIPTION_ACTIVE', 'IN_PROCESS')).toBe('applied');
  });
});
