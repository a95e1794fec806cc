/**
 * One "container" for the rate-budget tests: takes slots from the shared DynamoDB budget and prints
 * each grant's scheduled time as a JSON line. Configured through the environment:
 * BUDGET_ENDPOINT, BUDGET_TABLE, BUDGET_SCOPE, BUDGET_CAPACITY, BUDGET_PER_SECOND, BUDGET_TAKES,
 * BUDGET_LOOPS (concurrent takers in this process), BUDGET_DIE_AFTER (SIGKILL itself after that
 * many grants, while still holding reservations for the rest), BUDGET_BATCH (slots per reservation:
 * reserved with one call, each used at its own time), BUDGET_START_AT (epoch ms: wait for it, so
 * processes that start at different times take together).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRateBudget } from '../../shared/recharge-api/rate-budget';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

async function main() {
  const client = new DynamoDBClient({
    endpoint: env('BUDGET_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const dieAfter = Number(process.env.BUDGET_DIE_AFTER ?? Number.POSITIVE_INFINITY);
  let granted = 0;
  const budget = new DynamoRateBudget({
    client,
    table: env('BUDGET_TABLE'),
    capacity: Number(env('BUDGET_CAPACITY')),
    perSecond: Number(env('BUDGET_PER_SECOND')),
    onGrant: (_scope, dueAt) => {
      process.stdout.write(`${JSON.stringify({ pid: process.pid, dueAt })}\n`);
      granted += 1;
      // Dies holding reservations: the slots granted but not yet due are never used.
      if (granted >= dieAfter) process.kill(process.pid, 'SIGKILL');
    },
  });
  const scope = env('BUDGET_SCOPE');
  let left = Number(env('BUDGET_TAKES'));
  const batch = Number(process.env.BUDGET_BATCH ?? 1);
  const startAt = Number(process.env.BUDGET_START_AT ?? 0);
  if (startAt > Date.now()) await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
  const loop = async () => {
    while (left > 0) {
      if (batch === 1) {
        left -= 1;
        await budget.take(scope, Number.POSITIVE_INFINITY);
        continue;
      }
      left -= batch;
      // Like a prepaid record: both slots reserved at once, each used no earlier than it is due. Waits
      // are counted from the clock read before the call, as `take` does.
      const before = Date.now();
      const dues = await budget.reserve(scope, batch, Number.POSITIVE_INFINITY);
      let waited = 0;
      for (const due of dues) {
        const wait = Math.max(0, due - before - waited);
        waited += wait;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };
  await Promise.all(Array.from({ length: Number(process.env.BUDGET_LOOPS ?? 1) }, loop));
}

main().catch((error) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
