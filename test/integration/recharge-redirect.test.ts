import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RechargeClient, RechargeHttpError } from '#shared/recharge-api/client';
import { MemoryRateBudget } from '#shared/recharge-api/rate-budget';

function listen(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void) {
  return new Promise<{ server: Server; url: string }>((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    );
  });
}

describe('ReCharge client and redirects', () => {
  const elsewhereTokens: (string | undefined)[] = [];
  let elsewhere: { server: Server; url: string };
  let recharge: { server: Server; url: string };
  beforeAll(async () => {
    elsewhere = await listen((req, res) => {
      elsewhereTokens.push(req.headers['x-recharge-access-token'] as string | undefined);
      res.writeHead(200).end('{}');
    });
    recharge = await listen((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/orders/1` }).end();
    });
  });
  afterAll(async () => {
    await new Promise((r) => elsewhere.server.close(r));
    await new Promise((r) => recharge.server.close(r));
  });

  it('treats a redirect as a permanent answer and never sends the access token to its target', async () => {
    const client = new RechargeClient({
      baseUrl: recharge.url,
      version: '2021-11',
      token: async () => 'secret-recharge-token',
      timeoutMs: 2000,
      budget: new MemoryRateBudget({ capacity: 40, perSecond: 2 }),
    });

    const result = client.updateOrder('1', { id: 'ord_1', number: '1001' }, Date.now() + 10_000);

    await expect(result).rejects.toBeInstanceOf(RechargeHttpError);
    expect(elsewhereTokens).toEqual([]);
  });
});
