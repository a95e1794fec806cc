import { createHash, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { IngestHandlerDeps } from '../../functions/ingest/handler';
import { parseSecrets, type Secrets } from '../../shared/config';
import type { Log } from '../../shared/logger';
import type { QueuedWebhook } from '../../shared/queue/message';

/*
 * Test oracles computed from first principles with node:crypto, independent of shared/providers,
 * plus small factories for API Gateway events and handler dependencies.
 */

/** ReCharge current scheme: hex HMAC-SHA256(secret, `${t}.` + body). */
export function rechargeV1(secret: string, t: number | string, body: string | Buffer): string {
  return createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${t}.`), Buffer.from(body)]))
    .digest('hex');
}

/** ReCharge legacy scheme: hex SHA-256(secret + body), not an HMAC. */
export function rechargeLegacy(secret: string, body: string | Buffer): string {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(secret), Buffer.from(body)]))
    .digest('hex');
}

export function rechargeSignatureHeader(secret: string, t: number, body: string | Buffer): string {
  return `t=${t},v1=${rechargeV1(secret, t, body)}`;
}

export interface RsaPair {
  publicKeyPem: string;
  privateKey: KeyObject;
}

export function rsaPair(): RsaPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

/** A compact RS256 JWT built by hand (header and payload as given). */
export function handMadeJwt(
  payload: Record<string, unknown>,
  privateKey: KeyObject,
  header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' },
): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** An API Gateway REST proxy event as the ingest receives it. */
export function proxyEvent(options: {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | null;
  base64?: boolean;
}): APIGatewayProxyEvent {
  const raw = options.body ?? null;
  const body =
    raw === null
      ? null
      : options.base64
        ? Buffer.from(raw).toString('base64')
        : Buffer.from(raw).toString('utf8');
  const headers = options.headers ?? {};
  return {
    resource: '/{proxy+}',
    path: options.path,
    httpMethod: options.method ?? 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { path: options.path } as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded: options.base64 ?? false,
  };
}

export const TEST_SECRETS = {
  RECHARGE_WEBHOOK_SECRETS: 'recharge-secret-new,recharge-secret-old',
  WIX_CASHIER_PAY_TOKENS: 'wix-hook-token-new,wix-hook-token-old',
  SEVI_WEBHOOK_TOKENS: 'sevi-webhook-token-new,sevi-webhook-token-old',
};

export function testSecrets(overrides: Record<string, string> = {}): Secrets {
  return parseSecrets({ ...TEST_SECRETS, ...overrides });
}

/** A log that records lines instead of printing them. */
export function recordingLog(): Log & { lines: { level: string; message: string; extra?: unknown }[] } {
  const lines: { level: string; message: string; extra?: unknown }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push({ level, message, extra });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Handler dependencies with an in-memory queue; `send` can be replaced to fail or hang. */
export function fakeDeps(
  options: {
    secrets?: Secrets;
    nowMs?: number;
    send?: (webhook: QueuedWebhook, signal: AbortSignal) => Promise<void>;
    maxMessageBytes?: number;
    queueSendTimeoutMs?: number;
    toleranceSeconds?: number;
  } = {},
): IngestHandlerDeps & { queued: QueuedWebhook[]; log: ReturnType<typeof recordingLog> } {
  const queued: QueuedWebhook[] = [];
  const secrets = options.secrets ?? testSecrets();
  return {
    queued,
    log: recordingLog(),
    settings: {
      maxMessageBytes: options.maxMessageBytes ?? 1_048_576,
      rechargeTimestampToleranceSeconds: options.toleranceSeconds ?? 172_800,
      queueSendTimeoutMs: options.queueSendTimeoutMs ?? 700,
      secretsTimeoutMs: 1000,
    },
    getSecrets: async () => secrets,
    now: () => options.nowMs ?? Date.now(),
    sendToQueue:
      options.send ??
      (async (webhook) => {
        queued.push(webhook);
      }),
  };
}
