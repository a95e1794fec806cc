import { makeHandler } from '../../../functions/ingest/handler';
import { seviAuthHeaders } from '../../../shared/providers/sevi/signature';
import { fakeDeps, proxyEvent } from '../../support/signing';

const body = JSON.stringify({
  order: { id: 'S-1', referenceNumber: 'R-1', status: 'Pending', orderPayment: 'PAID' },
  customer: { email: 'a@example.com' },
});

async function post(headers: Record<string, string>) {
  const deps = fakeDeps();
  const response = await makeHandler(deps)(proxyEvent({ path: '/webhooks/sevi', body, headers }));
  return { response, deps, payload: JSON.parse(response.body) as Record<string, unknown> };
}

describe('Sevi Authorization token', () => {
  it('accepts the token with and without a Bearer prefix, in either header case', async () => {
    for (const headers of [
      { Authorization: 'sevi-webhook-token-new' } as Record<string, string>,
      { authorization: 'Bearer sevi-webhook-token-new' },
      { AUTHORIZATION: 'bearer   sevi-webhook-token-old' },
    ]) {
      const { response, deps } = await post(headers);
      expect(response.statusCode).toBe(200);
      expect(deps.queued[0]).toMatchObject({
        provider: 'sevi',
        topic: 'order/payment',
        verification: 'sevi-token',
      });
    }
  });

  it('rejects a wrong token with 401 without echoing it', async () => {
    const { response, payload, deps } = await post({ Authorization: 'Bearer guessed' });
    expect(response.statusCode).toBe(401);
    expect(payload).toEqual({ error: 'bad token' });
    expect(response.body).not.toContain('guessed');
    expect(deps.queued).toHaveLength(0);
  });

  it('rejects a missing or empty Authorization header', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: '' },
      { Authorization: 'Bearer ' },
    ]) {
      const { response, deps } = await post(headers);
      expect(response.statusCode).toBe(401);
      expect(deps.queued).toHaveLength(0);
    }
  });

  it('seviAuthHeaders builds headers the handler accepts', async () => {
    expect(
      (await post(seviAuthHeaders('sevi-webhook-token-new', { bearer: true }))).response.statusCode,
    ).toBe(200);
    expect((await post(seviAuthHeaders('sevi-webhook-token-new'))).response.statusCode).toBe(200);
  });
});
