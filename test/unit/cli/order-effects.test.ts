import { listOrderEffects } from '../../../scripts/cli/order-effects';

describe('orders --id: the effects kept on the order item', () => {
  it('shows a write-back whose answer never came as UNCERTAIN, not as a plain IN_PROGRESS', () => {
    const effects = listOrderEffects({
      steps: {
        'recharge-put-order': {
          status: 'IN_PROGRESS',
          qualifier: 'ord_1',
          token: 't',
          leaseUntil: 0,
          uncertain: true,
        },
        'create-order': { status: 'COMPLETED', result: { id: 'ord_1', number: '1001' } },
        'recharge-put-charge#9': { status: 'IN_PROGRESS', qualifier: 'ord_1', token: 'u', leaseUntil: 1 },
      },
    });

    expect(effects.map((e) => [e.step, e.status])).toEqual([
      ['create-order', 'COMPLETED'],
      ['recharge-put-charge#9', 'IN_PROGRESS'],
      ['recharge-put-order', 'UNCERTAIN'],
    ]);
  });
});
