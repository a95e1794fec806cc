import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:order-webhooks';

export interface FakeSecretsManager {
  /** The SecretString every GetSecretValue answers; change it between calls. */
  secretString: string;
  /** Per SecretId answers, taking precedence over `secretString` (several secrets at once). */
  readonly byId: Record<string, string>;
  /** X-Amz-Target of every request received. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A Secrets Manager stand-in on loopback, wired in through AWS_ENDPOINT_URL_SECRETS_MANAGER (which
 * the SDK reads when it builds a client): GetSecretValue answers `secretString`.
 */
export async function startFakeSecretsManager(secretString: string): Promise<FakeSecretsManager> {
  const fake = { secretString, requests: [] as string[], byId: {} as Record<string, string> };
  const server = createServer((req, res) => {
    fake.requests.push(String(req.headers['x-amz-target']));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let id: string | undefined;
      try {
        id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: string }).SecretId;
      } catch {
        id = undefined;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          ARN: FAKE_SECRET_ARN,
          Name: 'order-webhooks',
          VersionId: 'v1',
          SecretString: (id !== undefined ? fake.byId[id] : undefined) ?? fake.secretString,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    close: async () => {
      delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
