import { type ClaimStore, needsClaimCheck, offloadBody } from '../archive/claim-check';
import type { Secrets } from '../config';
import type { Log } from '../logger';
import { INGEST_PROVIDERS } from '../providers/ingest-registry';
import { PROVIDERS, type Provider, type QueuedWebhook } from '../queue/message';
import type { EnvelopeIssue, Headers, IngestProvider, IngestSettings } from './provider';
import { withTimeout } from './timeout';

/** A webhook request as the ingest sees it, independent of API Gateway's event shape. */
export interface IngestRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-cased header names. */
  readonly headers: Headers;
  /** Raw body bytes (already base64-decoded when API Gateway encoded them). */
  readonly body: Buffer;
  /** API Gateway's request id, kept with the archived webhook. */
  readonly requestId?: string;
}

/** How a request ended; drives the metric and the log level. */
export type IngestOutcome = 'queued' | 'ignored' | 'rejected' | 'unavailable';

export interface IngestResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly outcome: IngestOutcome;
}

/** Sends one verified webhook to the queue; rejects when it was not accepted (or on abort). */
export type SendToQueue = (webhook: QueuedWebhook, signal: AbortSignal) => Promise<void>;

export interface IngestDeps {
  readonly settings: IngestSettings;
  readonly getSecrets: () => Promise<Secrets>;
  readonly sendToQueue: SendToQueue;
  readonly log: Log;
  /** Epoch milliseconds; injectable for timestamp-window tests. */
  readonly now?: () => number;
  /** Defaults to the registry; tests may pass a subset. */
  readonly providers?: Readonly<Record<Provider, IngestProvider>>;
  /**
   * Where bodies beyond the SQS limit go (claim check). Without it such bodies get 413, as before.
   * Ordinary webhooks never touch it: the worker archives them (see shared/worker/process-record.ts).
   */
  readonly claims?: ClaimStore;
}

/** API Gateway's own payload limit (REST APIs); Lambda's 6 MB event limit applies before it in AWS. */
const DEFAULT_MAX_BODY_BYTES = 10_485_760;

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// Characters outside the XML 1.0 set that SQS accepts in a message body; valid UTF-8 can still carry them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are exactly what SQS refuses
const SQS_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function respond(
  statusCode: number,
  payload: Record<string, unknown>,
  outcome: IngestOutcome,
  extraHeaders?: Record<string, string>,
): IngestResponse {
  return {
    statusCode,
    headers: extraHeaders ? { ...JSON_HEADERS, ...extraHeaders } : JSON_HEADERS,
    body: JSON.stringify(payload),
    outcome,
  };
}

const isProvider = (value: string | undefined): value is Provider =>
  value !== undefined && (PROVIDERS as readonly string[]).includes(value);

/**
 * Finds `/webhooks/<provider>/...` anywhere in the path, so a stage or base-path prefix
 * (`/prod/webhooks/sevi`) routes the same. Segments are URL-decoded; an undecodable path is no route.
 */
export function matchRoute(path: string): { provider: Provider; segments: string[] } | undefined {
  let segments: string[];
  try {
    segments = (path.split('?')[0] ?? '')
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
  for (let i = 0; i < segments.length - 1; i++) {
    const candidate = segments[i + 1];
    if (segments[i] === 'webhooks' && isProvider(candidate))
      return { provider: candidate, segments: segments.slice(i + 2) };
  }
  return undefined;
}

function issuesPayload(error: string, issues?: readonly EnvelopeIssue[]) {
  return issues ? { error, issues } : { error };
}

/** Error name and message (and its cause's): SDK and our own messages carry no secrets or payloads. */
function describeError(error: unknown): Record<string, string> {
  if (!(error instanceof Error)) return { name: typeof error };
  const described: Record<string, string> = { name: error.name, message: error.message };
  if (error.cause instanceof Error) {
    described.cause = error.cause.name;
    described.causeMessage = error.cause.message;
  }
  return described;
}

/**
 * Verifies one webhook request and queues it. Order: route, method, size, UTF-8, credentials,
 * authenticity, envelope, delivery key, exact message size (beyond the SQS limit: the body to S3
 * first, the claim check), SendMessage. Answers 200 `queued` only after SendMessage resolved; 503
 * when the queue, S3 (large bodies) or the credential store failed or exceeded its budget, so the
 * provider retries. Never throws for caller input; logs one line per request.
 */
export async function ingestWebhook(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  const started = performance.now();
  const providers = deps.providers ?? INGEST_PROVIDERS;
  const now = deps.now ?? Date.now;
  const fields: Record<string, unknown> = {};

  // One line per request: what finds the delivery (provider, topic, deliveryKey) and how it ended; a
  // refusal adds what explains it and the request id that joins the API access log (source IP).
  const finish = (response: IngestResponse, reason?: string): IngestResponse => {
    const refused = response.statusCode >= 400;
    const line = {
      ...fields,
      outcome: response.outcome,
      ...(refused
        ? {
            statusCode: response.statusCode,
            reason,
            method: request.method,
            bytes: request.body.length,
            requestId: request.requestId,
          }
        : {}),
      latencyMs: Math.round(performance.now() - started),
    };
    if (response.statusCode >= 500) deps.log.error('webhook', line);
    else deps.log.info('webhook', line);
    return response;
  };
  const reject = (statusCode: number, error: string, issues?: readonly EnvelopeIssue[]) =>
    finish(respond(statusCode, issuesPayload(error, issues), 'rejected'), error);

  const route = matchRoute(request.path);
  const ingest = route && providers[route.provider];
  if (!route || !ingest?.acceptsRoute(route.segments)) return reject(404, 'not found');
  fields.provider = route.provider;
  if (request.method.toUpperCase() !== 'POST')
    return finish(
      respond(405, { error: 'method not allowed' }, 'rejected', { allow: 'POST' }),
      'method not allowed',
    );

  // Cheap size checks first: a body no message (or claim check) can carry is refused before hashing.
  const maxBody = deps.claims
    ? (deps.settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES)
    : deps.settings.maxMessageBytes;
  const declared = Number(request.headers['content-length']);
  if (request.body.length > maxBody || declared > maxBody) return reject(413, 'payload too large');

  let text: string;
  try {
    text = utf8.decode(request.body);
  } catch {
    return reject(400, 'body is not valid utf-8');
  }
  if (SQS_FORBIDDEN.test(text)) return reject(400, 'body contains characters sqs cannot carry');

  let secrets: Secrets;
  try {
    secrets = await withTimeout(
      () => deps.getSecrets(),
      deps.settings.secretsTimeoutMs,
      'reading credentials',
    );
  } catch (error) {
    fields.error = describeError(error);
    return finish(
      respond(503, { error: 'credentials unavailable' }, 'unavailable'),
      'credentials unavailable',
    );
  }

  const nowMs = now();
  const auth = ingest.authenticate({
    segments: route.segments,
    headers: request.headers,
    body: request.body,
    text,
    secrets,
    nowMs,
    settings: deps.settings,
  });
  if (!auth.ok) {
    if (auth.notConfigured) return finish(respond(503, { error: auth.reason }, 'unavailable'), auth.reason);
    return reject(401, auth.reason);
  }
  fields.verification = auth.verification;

  const decision = ingest.classify({
    segments: route.segments,
    headers: request.headers,
    body: request.body,
    text,
  });
  if (decision.kind === 'invalid') return reject(400, decision.error, decision.issues);
  fields.topic = decision.topic.slice(0, 100);
  if (decision.kind === 'ignore') return finish(respond(200, { status: 'ignored' }, 'ignored'));
  fields.deliveryKey = decision.deliveryKey;

  const webhook: QueuedWebhook = {
    provider: route.provider,
    topic: decision.topic,
    deliveryKey: decision.deliveryKey,
    receivedAt: new Date(nowMs).toISOString(),
    verification: auth.verification,
    ...(request.requestId ? { requestId: request.requestId } : {}),
    body: text,
  };
  let message = webhook;
  if (needsClaimCheck(webhook, deps.settings.maxMessageBytes)) {
    const claims = deps.claims;
    if (!claims) return reject(413, 'payload too large');
    fields.claimCheck = true;
    // Its own budget, and 503 on failure: nothing is acknowledged that is not stored.
    try {
      message = await withTimeout(
        (signal) => offloadBody(webhook, claims, signal),
        deps.settings.claimPutTimeoutMs ?? 3000,
        'storing the body in s3',
      );
    } catch (error) {
      fields.error = describeError(error);
      return finish(respond(503, { error: 'storage unavailable' }, 'unavailable'), 'storage unavailable');
    }
  }

  try {
    await withTimeout(
      (signal) => deps.sendToQueue(message, signal),
      deps.settings.queueSendTimeoutMs,
      'sending to the queue',
    );
  } catch (error) {
    fields.error = describeError(error);
    return finish(respond(503, { error: 'queue unavailable' }, 'unavailable'), 'queue unavailable');
  }
  return finish(respond(200, { status: 'queued', deliveryKey: webhook.deliveryKey }, 'queued'));
}
