import dns from 'node:dns';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runOrders } from '../../scripts/cli/orders';
import { runStats } from '../../scripts/cli/stats';
import type { OrderRecord } from '../../shared/domain/order-record';
import { OrderStore } from '../../shared/order-system/ledger';
import { createTestQueues, createTestTables, testDynamoClient, testSqsClient } from '../support/aws';
import { type Moto, startMoto } from '../support/moto';

jest.setTimeout(60_000);

/**
 * `stats`, `orders` with --aws read the orders table without a full Scan where a key or DynamoDB's
 * own figures answer, and say what a Scan costs before one starts. The real CLI functions, the
 * account from moto's STS, the table in DynamoDB Local and the queues in the SQS emulator (the
 * SDK's AWS_ENDPOINT_URL_<SERVICE> variables point the clients there).
 */
const VARS = [
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_CLOUDFORMATION',
  'AWS_ENDPOINT_URL_CLOUDWATCH',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'QUEUE_URL',
  'DLQ_URL',
  'ORDERS_TABLE',
  'LOCAL_DATA_DIR',
] as const;

/**
 * A pass-through in front of DynamoDB Local that notes each request's operation (X-Amz-Target):
 * what the CLI sent on the wire.
 */
async function recordingProxy(
  target: string,
): Promise<{ url: string; operations: string[]; server: Server }> {
  const operations: string[] = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    operations.push(String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, ''));
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, operations, server };
}

/** `*.localhost` to loopback in this process (the emulator's queue URLs name `sqs.<region>.localhost`). */
function interceptLocalhostDns(): () => void {
  const original = dns.lookup;
  const patched = (name: string, options: unknown, callback: unknown) => {
    if (!name.endsWith('.localhost')) return (original as (...a: unknown[]) => void)(name, options, callback);
    const cb = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
    if (typeof options === 'object' && (options as { all?: boolean })?.all)
      cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
  };
  (dns as { lookup: unknown }).lookup = patched;
  return () => {
    (dns as { lookup: unknown }).lookup = original;
  };
}

const ORDERS: Partial<OrderRecord>[] = [
  { provider: 'recharge', providerOrderId: '7001', status: 'paid', externalId: 'ord_aaa' },
  { provider: 'recharge', providerOrderId: '7002', status: 'pending', externalId: 'ord_bbb' },
  { provider: 'sevi', providerOrderId: '7003', status: 'paid', externalId: 'ext-erp-42' },
];

describe('--aws reads of the orders table', () => {
  let moto: Moto;
  let dir: string;
  const saved: Partial<Record<(typeof VARS)[number], string>> = {};
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let restoreDns: (() => void) | undefined;
  const sent = () => proxy.operations;

  async function cli(run: (argv: string[]) => Promise<number>, argv: string[]) {
    let out = '';
    let err = '';
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const note = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err += String(chunk);
      return true;
    });
    // The SDK warns that the emulator's queue URL host differs from the SQS endpoint.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      return { code: await run(['--aws', ...argv]), out, err };
    } finally {
      write.mockRestore();
      note.mockRestore();
      warn.mockRestore();
    }
  }

  beforeAll(async () => {
    for (const name of VARS) saved[name] = process.env[name];
    moto = await startMoto();
    const dynamo = testDynamoClient();
    const tables = await createTestTables(dynamo);
    const queues = await createTestQueues(testSqsClient());
    const store = new OrderStore(dynamo, tables.orders);
    for (const [i, order] of ORDERS.entries()) {
      const at = `2026-12-0${i + 1}T10:00:00.000Z`;
      await store.write({ ...order, createdAt: at, updatedAt: at } as OrderRecord, undefined);
    }
    dir = mkdtempSync(path.join(tmpdir(), 'cli-aws-reads-'));
    proxy = await recordingProxy(process.env.TEST_DYNAMODB_ENDPOINT ?? '');
    // The SQS client sends to a queue URL's host: the emulator's `sqs.<region>.localhost:<port>`.
    restoreDns = interceptLocalhostDns();
    const sqsEndpoint = process.env.TEST_SQS_ENDPOINT ?? '';
    Object.assign(process.env, moto.env, {
      AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      QUEUE_URL: queues.queueUrl,
      DLQ_URL: queues.dlqUrl,
      ORDERS_TABLE: tables.orders,
      LOCAL_DATA_DIR: path.join(dir, 'no-local-mode'),
    });
  });
  afterAll(async () => {
    restoreDns?.();
    await new Promise((resolve) => proxy?.server.close(resolve));
    for (const name of VARS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    proxy.operations.length = 0;
  });

  it('stats: the queues and the table item count, no Scan, and how to get the counts', async () => {
    const { code, out, err } = await cli(runStats, ['--json']);

    expect(code).toBe(0);
    const stats = JSON.parse(out);
    expect(stats.orders).toMatchObject({ approximate: true, byStatus: {}, byProvider: {} });
    expect(stats.orders.total).toBeGreaterThanOrEqual(ORDERS.length);
    expect(err).toContain('aws: account 123456789012');
    expect(sent()).toContain('DescribeTable');
    expect(sent()).not.toContain('Scan');
  });

  it('stats --count-orders: says what the Scan reads first, then counts by status and provider', async () => {
    const { code, out, err } = await cli(runStats, ['--count-orders', '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(out).orders).toEqual({
      total: 3,
      byStatus: { paid: 2, pending: 1 },
      byProvider: { recharge: 2, sevi: 1 },
    });
    expect(err).toMatch(
      /--count-orders reads the whole orders table: about \d+ items, [\d.]+ MB, \d+ read units/,
    );
  });

  it('orders --id: by key, no Scan', async () => {
    const { code, out } = await cli(runOrders, ['--id', '7002', '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject([
      { provider: 'recharge', providerOrderId: '7002', status: 'pending' },
    ]);
    // One read per provider, by key: a Query of the order's partition (its item and its details item).
    expect(sent()).toEqual(['Query', 'Query', 'Query']);
  });

  it('orders --id with an external id: scans, saying so and what it reads', async () => {
    const { code, out, err } = await cli(runOrders, ['--id', 'ext-erp-42', '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject([{ provider: 'sevi', providerOrderId: '7003' }]);
    expect(err).toMatch(
      /no order with provider order id ext-erp-42; looking for it as an external id or number reads the whole orders table: about \d+ items/,
    );
    expect(sent()).toContain('Scan');
  });

  it('orders (a list): says what the Scan reads before it starts', async () => {
    const { code, err } = await cli(runOrders, ['--json']);

    expect(code).toBe(0);
    expect(err).toMatch(/listing orders reads the whole orders table: about \d+ items/);
  });
});
