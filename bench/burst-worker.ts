/**
 * One worker "container" of the burst benchmark (bench/burst.ts): the real worker handler, bundled
 * like the Lambda, behind the local SQS event-source poller (one batch at a time, as one Lambda
 * container runs one invocation at a time). Configured by the environment the handler reads, plus
 * BENCH_REGION. Prints `polling` once it receives, and stops cleanly on SIGTERM.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '../functions/worker/handler';
import { type SqsHandler, startSqsPoller } from '../scripts/local/sqs-poller';

async function main() {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const client = new SQSClient({ region, endpoint: process.env.SQS_ENDPOINT });
  let failedBatches = 0;
  const poller = await startSqsPoller({
    client,
    queueUrl: process.env.QUEUE_URL as string,
    handler: handler as unknown as SqsHandler,
    region,
    batchSize: 10,
    concurrency: 1,
    functionTimeoutMs: 60_000,
    waitTimeSeconds: 1,
    onBatch: (info) => {
      if (info.outcome !== 'ok') failedBatches += 1;
    },
  });
  process.stdout.write('polling\n');
  process.on('SIGTERM', () => {
    void poller.stop().then(() => {
      process.stdout.write(`${JSON.stringify({ failedBatches })}\n`);
      process.exit(0);
    });
  });
}

main().catch((error) => {
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
