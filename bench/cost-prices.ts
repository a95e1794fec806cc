/**
 * AWS list prices the cost benchmark (bench/cost.ts) uses: us-east-1, on-demand, no free tier.
 * As of 2026-12-06, from each service's public pricing page (the URL beside each group) as
 * summarised in the project's provider reference (section 4, "What each request costs").
 * Change a figure here and the whole model follows.
 */
export const PRICES_AS_OF = '2026-12-06';
export const PRICES_REGION = 'us-east-1';

export const PRICES = {
  // https://aws.amazon.com/api-gateway/pricing/ (first 333 M REST, first 300 M HTTP requests a month)
  apiRestPerMillion: 3.5,
  apiHttpPerMillion: 1.0,
  // https://aws.amazon.com/lambda/pricing/ (arm64)
  lambdaRequestPerMillion: 0.2,
  lambdaGbSecondArm: 0.0000133334,
  // https://aws.amazon.com/sqs/pricing/ (standard queue; each 64 KB chunk of a payload is one request)
  sqsPerMillionRequests: 0.4,
  sqsChunkBytes: 64 * 1024,
  // https://aws.amazon.com/dynamodb/pricing/on-demand/ (1 KB write units, 4 KB read units)
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  // https://aws.amazon.com/s3/pricing/ (S3 Standard; PUT/COPY/POST/LIST, GET/HEAD and the rest)
  s3PutPerThousand: 0.005,
  s3GetPerThousand: 0.0004,
  s3StandardGbMonth: 0.023,
  s3StandardIaGbMonth: 0.0125,
  // https://aws.amazon.com/cloudwatch/pricing/ (logs ingested; 26 bytes of overhead per event)
  logsIngestPerGb: 0.5,
  logEventOverheadBytes: 26,
  customMetricPerMonth: 0.3,
  alarmMetricPerMonth: 0.1,
  compositeAlarmPerMonth: 0.5,
  dashboardPerMonth: 3.0,
  // https://aws.amazon.com/secrets-manager/pricing/
  secretPerMonth: 0.4,
} as const;

/**
 * Estimates that are not prices, used where the run cannot observe AWS itself:
 * - Lambda's own log lines per invocation (JSON log format: platform.start and platform.report,
 *   with the 26-byte event overhead), when the function's system log level lets them through;
 * - the SQS event source's empty long-poll receives on an idle queue (Lambda runs five pollers,
 *   each a 20 s long poll: about 3 receives a minute each).
 */
export const ESTIMATES = {
  lambdaPlatformLogBytesPerInvocation: 600,
  idleQueuePollers: 5,
  idleReceivesPerPollerPerMinute: 3,
} as const;
