import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAlarm {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  description?: string;
  /** When the state last changed (ISO). */
  updated?: string;
}

export interface FakeCloudWatch {
  url: string;
  alarms: FakeAlarm[];
  /** Answer every call as IAM does for a caller without cloudwatch:DescribeAlarms. */
  deny: boolean;
  /** Every request: its X-Amz-Target, JSON body and the region its SigV4 signature was made for. */
  requests: { target: string; body: Record<string, unknown>; signedRegion: string | undefined }[];
  close(): Promise<void>;
}

/** Alarms per page, fewer than MaxRecords, so a caller that ignores NextToken misses some. */
const PAGE_SIZE = 2;

/**
 * A CloudWatch endpoint on loopback speaking what @aws-sdk/client-cloudwatch 3.11xx sends: the AWS
 * JSON 1.0 protocol (`X-Amz-Target: GraniteServiceVersion20100801.DescribeAlarms`, epoch-second
 * timestamps) in its awsQuery-compatible mode (errors carry `x-amzn-query-error: Code;Type`).
 * DescribeAlarms filters by AlarmNamePrefix and StateValue and pages with NextToken.
 */
export async function startFakeCloudWatch(alarms: FakeAlarm[] = []): Promise<FakeCloudWatch> {
  const fake: FakeCloudWatch = {
    url: '',
    alarms,
    deny: false,
    requests: [],
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const signedRegion = /Credential=[^/]+\/\d{8}\/([^/]+)\/monitoring\//.exec(
        String(req.headers.authorization ?? ''),
      )?.[1];
      fake.requests.push({ target, body, signedRegion });
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      const fail = (status: number, code: string, type: string, message: string) => {
        res.statusCode = status;
        res.setHeader('x-amzn-query-error', `${code};${type}`);
        res.end(JSON.stringify({ __type: `com.amazon.coral.service#${code}Exception`, message }));
      };
      if (fake.deny)
        return fail(
          400,
          'AccessDenied',
          'Sender',
          'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: cloudwatch:DescribeAlarms',
        );
      if (target !== 'GraniteServiceVersion20100801.DescribeAlarms')
        return fail(400, 'InvalidAction', 'Sender', `unsupported ${target}`);
      const prefix = String(body.AlarmNamePrefix ?? '');
      const matching = fake.alarms.filter(
        (a) => a.name.startsWith(prefix) && (!body.StateValue || a.state === body.StateValue),
      );
      const start = Number(body.NextToken ?? 0);
      const page = matching.slice(start, start + Math.min(PAGE_SIZE, Number(body.MaxRecords ?? 50)));
      const next = start + page.length < matching.length ? String(start + page.length) : undefined;
      res.end(
        JSON.stringify({
          MetricAlarms: page.map((a) => ({
            AlarmName: a.name,
            AlarmArn: `arn:aws:cloudwatch:${signedRegion}:123456789012:alarm:${a.name}`,
            AlarmDescription: a.description,
            StateValue: a.state,
            StateUpdatedTimestamp: Date.parse(a.updated ?? '2026-12-01T08:00:00Z') / 1000,
          })),
          CompositeAlarms: [],
          ...(next ? { NextToken: next } : {}),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}
