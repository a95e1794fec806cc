import type { APIGatewayProxyResult } from 'aws-lambda';
import { makeS3Archive } from '#shared/archive/s3-archive';
import { recordAwsCalls } from '#shared/aws/call-recorder';
import { type ProxyEventLike, toIngestRequest, toProxyResult } from '#shared/ingest/api-gateway';
import { parseIngestEnv } from '#shared/ingest/env';
import { type IngestDeps, type IngestOutcome, ingestWebhook } from '#shared/ingest/ingest-webhook';
import { processLog } from '#shared/logger';
import { METRIC, makeMetricsSink } from '#shared/metrics';
import { makeSqsClient, makeSqsSender } from '#shared/queue/sqs-sender';
import { makeSecretsProvider } from '#shared/secrets';

/** Counts outcomes; flushed once per invocation (EMF to stdout in Lambda). */
export interface OutcomeMetrics {
  count(name: string): void;
  flush(): void;
}

export interface IngestHandlerDeps extends IngestDeps {
  readonly metrics?: OutcomeMetrics;
}

const OUTCOME_METRIC: Record<IngestOutcome, string> = {
  queued: METRIC.queued,
  ignored: METRIC.ignored,
  rejected: METRIC.rejected,
  unavailable: METRIC.queueFailed,
};

/**
 * Builds the API Gateway handler. `deps` may be a factory: it is called once, on the first
 * invocation (or at import time inside Lambda, see below), never per request.
 */
export function makeHandler(deps: IngestHandlerDeps | (() => IngestHandlerDeps)) {
  let resolved = typeof deps === 'function' ? undefined : deps;
  const factory = typeof deps === 'function' ? deps : undefined;
  return async (event: ProxyEventLike): Promise<APIGatewayProxyResult> => {
    resolved ??= (factory as () => IngestHandlerDeps)();
    const response = await ingestWebhook(toIngestRequest(event), resolved);
    if (resolved.metrics) {
      resolved.metrics.count(METRIC.received);
      resolved.metrics.count(OUTCOME_METRIC[response.outcome]);
      resolved.metrics.flush();
    }
    return toProxyResult(response);
  };
}

let defaults: IngestHandlerDeps | undefined;

/**
 * Production wiring from the environment: validated once (a bad setting throws a ConfigError
 * naming the variable), one bounded SQS client, credentials from Secrets Manager or the env.
 */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): IngestHandlerDeps {
  if (defaults) return defaults;
  const config = parseIngestEnv(env);
  const client = makeSqsClient({
    region: config.AWS_REGION,
    endpoint: config.SQS_ENDPOINT,
    timeoutMs: config.QUEUE_SEND_TIMEOUT_MS,
  });
  recordAwsCalls(client, 'ingest', { QUEUE_URL: config.QUEUE_URL }, config.AWS_CALL_RECORD_FILE);
  const sender = makeSqsSender(client, config.QUEUE_URL, config.QUEUE_SEND_TIMEOUT_MS);
  defaults = {
    settings: {
      maxMessageBytes: config.MAX_MESSAGE_BYTES,
      rechargeTimestampToleranceSeconds: config.RECHARGE_TIMESTAMP_TOLERANCE_SECONDS,
      rechargeRequireTimestamp: config.RECHARGE_REQUIRE_TIMESTAMP,
      queueSendTimeoutMs: config.QUEUE_SEND_TIMEOUT_MS,
      secretsTimeoutMs: 2000,
      maxBodyBytes: config.MAX_BODY_BYTES,
      claimPutTimeoutMs: config.CLAIM_PUT_TIMEOUT_MS,
    },
    // The S3 SDK is loaded on the first large body only (see makeS3Archive): no cold-start cost.
    ...(config.ARCHIVE_BUCKET
      ? {
          claims: makeS3Archive({
            bucket: config.ARCHIVE_BUCKET,
            region: config.AWS_REGION,
            endpoint: config.S3_ENDPOINT,
            timeoutMs: config.CLAIM_PUT_TIMEOUT_MS,
            onClient: (s3) =>
              recordAwsCalls(
                s3,
                'ingest',
                { ARCHIVE_BUCKET: config.ARCHIVE_BUCKET },
                config.AWS_CALL_RECORD_FILE,
              ),
          }),
        }
      : {}),
    getSecrets: makeSecretsProvider(config, env, 'ingest'),
    sendToQueue: (webhook, signal) => sender.send(webhook, signal),
    log: processLog,
    metrics: makeMetricsSink(config.PUBLISH_DASHBOARD_METRICS === 'true'),
  };
  return defaults as IngestHandlerDeps;
}

// Inside Lambda, wire at import time so a bad setting fails the init phase (named in the init
// error) rather than every request; elsewhere (tests, tools) importing this module has no effect.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) defaultDeps();

/** The Lambda entry point (bundled by the CDK stack). */
export const handler = makeHandler(() => defaultDeps());
