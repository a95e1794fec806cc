import type { OrderRecord } from '#shared/domain/order-record';
import { formatTable, ORDER_HEADER, orderRow } from '../../../scripts/cli/orders';

describe('orders table', () => {
  it('puts every value under its own header, with a dash for what is not set', () => {
    const order = {
      provider: 'recharge',
      providerOrderId: '512300404',
      status: 'paid',
      paymentStatus: 'paid',
      fulfilmentStatus: 'unfulfilled',
      externalId: 'ord_ec6f019bfe335ef71749',
      externalNumber: '1001',
      updatedAt: '2026-11-22T20:22:13.835Z',
    } as unknown as OrderRecord;

    const [headerLine, rowLine] = formatTable(ORDER_HEADER, [orderRow(order)]).split('\n');
    const column = (name: string) => (headerLine ?? '').indexOf(name);

    expect(orderRow(order)).toHaveLength(ORDER_HEADER.length);
    expect(rowLine?.slice(column('SUBSCRIPTION')).startsWith('-')).toBe(true);
    expect(rowLine?.slice(column('EXTERNAL ID')).startsWith('ord_ec6f019bfe335ef71749')).toBe(true);
    expect(rowLine?.slice(column('NUMBER')).startsWith('1001')).toBe(true);
  });
});
