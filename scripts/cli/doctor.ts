import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_RECHARGE_WEBHOOK_TOPICS, type Secrets } from '../../shared/config';
import { ordersDocumentClient } from '../../shared/order-system/ledger';
import { RechargeAuthError, RechargeHttpError } from '../../shared/recharge-api/client';
import { makeStateStore } from '../../shared/reconcile/state-store';
import { makeSecretsProvider } from '../../shared/secrets';
import { DEV_SECRETS } from '../local/dev-defaults';
import { readState } from '../local/state';
import { plainAwsError } from './aws-errors';
import { checkStackAlarms } from './doctor-alarms';
import { checkNeedsAttention } from './doctor-attention';
import {
  checkRechargeSubscriptions,
  type DoctorRechargeInput,
  doctorRechargeClient,
  readRechargeBudgetUse,
} from './doctor-subscriptions';
import { describeStoppedWriteBacks, findStoppedWriteBacks } from './doctor-write-backs';
import { defaultStackName } from './stack';
import { queueDepth } from './stats';
import {
  CliError,
  projectRoot,
  resolveTarget,
  stateFilePath,
  TARGET_HELP,
  TARGET_OPTIONS,
  type Target,
  UsageError,
} from './target';

export const DOCTOR_HELP = `Usage: order-webhooks doctor [options]

Checks the local mode (default) or the deployed stack (--aws) and prints a checklist, with the fix for
each failed check. Credentials are checked for presence only: no value is ever printed.

Options:
  --json               machine-readable output
${TARGET_HELP}
                       With --aws also (each overrides the stack output in brackets):
                       SECRET_ARN (SecretArn), IDEMPOTENCY_TABLE (IdempotencyTableName),
                       PUBLIC_BASE_URL or WEBHOOK_API_URL (WebhookBaseUrl: the subscriptions check),
                       RECHARGE_API_URL (default https://api.rechargeapps.com), RECHARGE_API_VERSION.
  -h, --help

Exit code 1 when any check fails (warnings do not fail).`;

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckResult {
  status: CheckStatus;
  detail: string;
  /** What to do about it (for warn and fail). */
  fix?: string;
  /** A quantity the check measured (e.g. the ReCharge budget in use), for `--json` and the console. */
  measure?: { used: number; limit: number };
}

export interface DoctorContext {
  target: Target;
  env: NodeJS.ProcessEnv;
  /** Credentials the deployment (or local mode) uses, read once; an Error when unreadable. */
  secrets(): Promise<Secrets | Error>;
  /** AWS: each secret on its own (webhook: SecretArn; api: ApiSecretArn, absent in a one-secret stack). */
  secretsApart?(): Promise<{ webhook: Secrets; api: Secrets | undefined } | Error>;
  rechargeApiUrl: string;
  rechargeApiVersion: string;
  /** Names of credentials the local mode runs on development values. */
  devCredentials: string[];
  /** The stack settings the merchant keeps under "context" in cdk.json (empty when unreadable). */
  stackSettings: Record<string, unknown>;
  /** AWS: the CloudFormation stack's name (its alarms are named after it). */
  stackName: string;
  /** AWS: a CloudWatch client for the target's region (created on first use). */
  cloudWatch(): Pick<CloudWatchClient, 'send'>;
}

/** What doctor's ReCharge calls need: the API, the token, and the target's shared rate budget. */
function rechargeInput(ctx: DoctorContext, token: string): DoctorRechargeInput {
  const { target } = ctx;
  return {
    rechargeApiUrl: ctx.rechargeApiUrl,
    rechargeApiVersion: ctx.rechargeApiVersion,
    token,
    env: ctx.env,
    ...(target.idempotencyTable && target.dynamo
      ? { budgetTable: { dynamo: target.dynamo, table: target.idempotencyTable } }
      : {}),
  };
}

/**
 * One check of the checklist. Add a check by appending to DOCTOR_CHECKS (e.g. ReCharge webhook
 * subscriptions, KMS or WAF): each is independent and reports its own fix.
 */
export interface DoctorCheck {
  name: string;
  run(ctx: DoctorContext): Promise<CheckResult>;
  /** Makes no AWS call: still runs when AWS cannot be used at all (no or rejected credentials). */
  offline?: boolean;
}

const REQUIRED_FOR: Record<string, (keyof Secrets)[]> = {
  'ReCharge webhooks': ['RECHARGE_WEBHOOK_SECRETS'],
  'ReCharge write-back': ['RECHARGE_API_TOKEN'],
  'Wix Cashier Pay': ['WIX_CASHIER_PAY_TOKENS'],
  Sevi: ['SEVI_WEBHOOK_TOKENS'],
};

/** How far back `worker last succeeded` looks (ReCharge retries a delivery for 48 h). */
const RECENT_WORK_HOURS = 72;

const present = (value: unknown) => (Array.isArray(value) ? value.length > 0 : Boolean(value));

/**
 * Where a deployment stands in the move from one secret to two: the API credentials belong in
 * ApiSecretArn (the worker and reconciler read it), never in SecretArn (the public-facing ingest
 * reads that one).
 */
export function secretLayoutAdvice(apart: { webhook: Secrets; api: Secrets | undefined }): CheckResult {
  const apiKeys = (['RECHARGE_API_TOKEN', 'ORDER_SYSTEM_SECRET'] as const).filter((key) =>
    present(apart.webhook[key]),
  );
  const move = 'docs/deployment.md "Moving from one secret to two"';
  if (!apart.api)
    return {
      status: 'warn',
      detail: 'one-secret stack: the ingest can read the API credentials',
      fix: `deploy this version with combinedSecret=true, then follow ${move}`,
    };
  if (apiKeys.length === 0)
    return { status: 'ok', detail: 'webhook secrets in SecretArn, API credentials in ApiSecretArn' };
  const notMoved = apiKeys.filter((key) => !present(apart.api?.[key]));
  return {
    status: 'warn',
    detail: `${apiKeys.join(', ')} still in SecretArn, which the ingest reads${notMoved.length > 0 ? ` (not yet in ApiSecretArn: ${notMoved.join(', ')})` : ''}`,
    fix:
      notMoved.length > 0
        ? `put ${notMoved.join(', ')} into ApiSecretArn, then remove ${apiKeys.join(', ')} from SecretArn and deploy without combinedSecret (${move})`
        : `remove ${apiKeys.join(', ')} from SecretArn, then deploy without combinedSecret (${move})`,
  };
}

export const DOCTOR_CHECKS: DoctorCheck[] = [
  {
    name: 'secret layout',
    async run(ctx) {
      if (!ctx.secretsApart)
        return { status: 'skipped', detail: 'local mode: credentials from the environment' };
      const apart = await ctx.secretsApart();
      if (apart instanceof Error)
        return {
          status: 'fail',
          detail: `cannot read the secrets: ${apart.message}`,
          fix: 'check SecretArn and ApiSecretArn and your AWS access to them',
        };
      return secretLayoutAdvice(apart);
    },
  },
  {
    name: 'credential keys present',
    async run(ctx) {
      const secrets = await ctx.secrets();
      const plain =
        secrets instanceof Error
          ? plainAwsError(secrets, { action: 'secretsmanager:GetSecretValue' })
          : undefined;
      if (plain) return { status: 'fail', ...splitFix(plain) };
      if (secrets instanceof Error)
        return {
          status: 'fail',
          detail: `cannot read the credentials: ${secrets.message}`,
          fix: 'check SECRET_ARN (output SecretArn) and your AWS access to it',
        };
      const missing = Object.entries(REQUIRED_FOR)
        .filter(([, keys]) => keys.some((key) => !present(secrets[key])))
        .map(([what, keys]) => `${keys.join(', ')} (${what})`);
      if (ctx.env.ORDER_SYSTEM === 'http' && !secrets.ORDER_SYSTEM_SECRET)
        missing.push('ORDER_SYSTEM_SECRET (orderSystem=http)');
      const configured = Object.values(REQUIRED_FOR)
        .flat()
        .some((key) => present(secrets[key]));
      if (!configured)
        return {
          status: 'fail',
          detail:
            'not configured yet: the secret holds no credential (the reconciler skips its passes quietly until it does)',
          fix: 'fill the secret (docs/deployment.md "Fill the secret"); omit providers you do not use',
        };
      if (missing.length > 0)
        return {
          status: 'fail',
          detail: `missing: ${missing.join('; ')}`,
          fix: 'put them in the secret (docs/deployment.md "Fill the secret") or the environment; omit providers you do not use',
        };
      if (ctx.devCredentials.length > 0)
        return {
          status: 'warn',
          detail: `development values in use: ${ctx.devCredentials.join(', ')}`,
          fix: 'fine for trying it out; set real ones before pointing a provider here',
        };
      return { status: 'ok', detail: 'every credential key is set' };
    },
  },
  {
    name: 'ReCharge token works',
    async run(ctx) {
      const secrets = await ctx.secrets();
      const token = secrets instanceof Error ? undefined : secrets.RECHARGE_API_TOKEN;
      if (!token) return { status: 'skipped', detail: 'no RECHARGE_API_TOKEN' };
      let status: number;
      try {
        const client = doctorRechargeClient(rechargeInput(ctx, token));
        status = (await client.call('GET', '/orders?limit=1', undefined, Date.now() + 8000)).status;
      } catch (error) {
        if (error instanceof RechargeAuthError || error instanceof RechargeHttpError) status = error.status;
        else
          return {
            status: 'fail',
            detail: `${ctx.rechargeApiUrl} unreachable or refusing (${(error as Error).message})`,
            fix: 'check RECHARGE_API_URL and the network (and, with --aws, dynamodb:UpdateItem on IdempotencyTableName: the shared rate budget)',
          };
      }
      if (status === 401)
        return {
          status: 'fail',
          detail: 'ReCharge rejected the token (401)',
          fix: 'create a new API token in ReCharge and put it in RECHARGE_API_TOKEN',
        };
      if (status === 403)
        return {
          status: 'fail',
          detail: 'the token lacks a scope (403)',
          fix: 'give the token read_orders and write_orders',
        };
      return { status: 'ok', detail: `accepted by ${ctx.rechargeApiUrl} (HTTP ${status})` };
    },
  },
  {
    name: "ReCharge's subscriptions point at our URLs",
    async run(ctx) {
      const secrets = await ctx.secrets();
      const token = secrets instanceof Error ? undefined : secrets.RECHARGE_API_TOKEN;
      if (!token) return { status: 'skipped', detail: 'no RECHARGE_API_TOKEN' };
      const baseUrl = ctx.env.PUBLIC_BASE_URL || ctx.env.WEBHOOK_API_URL || ctx.target.apiUrl;
      if (!baseUrl)
        return {
          status: 'skipped',
          detail: 'the URL ReCharge should call is not known',
          fix: 'set PUBLIC_BASE_URL to the output ApiUrl (or your custom domain)',
        };
      const topics = (ctx.env.RECHARGE_WEBHOOK_TOPICS || DEFAULT_RECHARGE_WEBHOOK_TOPICS)
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      return checkRechargeSubscriptions({ ...rechargeInput(ctx, token), baseUrl, topics });
    },
  },
  {
    name: 'queue and dead-letter queue',
    async run({ target }) {
      if (!target.queueUrl || !target.dlqUrl)
        return {
          status: 'skipped',
          detail: 'QUEUE_URL / DLQ_URL not set',
          fix: 'set them from the outputs QueueUrl and DeadLetterQueueUrl',
        };
      const [queue, dlq] = await Promise.all([
        queueDepth(target.sqs, target.queueUrl),
        queueDepth(target.sqs, target.dlqUrl),
      ]);
      const detail = `queue ${queue.visible} waiting, ${queue.inFlight} in flight; dead-letter ${dlq.visible + dlq.inFlight}`;
      if (dlq.visible + dlq.inFlight > 0)
        return {
          status: 'fail',
          detail,
          fix: 'read them with `order-webhooks dlq list`, fix the cause, then `dlq redrive` (docs/operations.md)',
        };
      return { status: 'ok', detail };
    },
  },
  {
    name: 'worker last succeeded',
    async run(ctx) {
      const { target } = ctx;
      // In AWS from SQS's own NumberOfMessagesDeleted on the main queue (the event source deletes a
      // record once the worker handled it): free, published whatever the stack's metric settings,
      // hourly sums over the window, no table read.
      if (target.kind === 'aws') {
        const queue = target.queueUrl?.split('/').pop();
        if (!queue) return { status: 'skipped', detail: 'QUEUE_URL not set' };
        return lastProcessedFromMetrics(ctx.cloudWatch(), queue);
      }
      // The worker keeps no per-delivery records (effect steps live on the order items): its last
      // success is the newest change it applied to an order item (a Scan: the local table is small).
      if (!target.ordersTable) return { status: 'skipped', detail: 'ORDERS_TABLE not set' };
      const since = new Date(Date.now() - RECENT_WORK_HOURS * 3600 * 1000).toISOString();
      let newest = '';
      let start: ScanCommandInput['ExclusiveStartKey'];
      do {
        const out = await target.dynamo.send(
          new ScanCommand({
            TableName: target.ordersTable,
            FilterExpression: '#entity = :order AND updatedAt >= :since',
            ExpressionAttributeNames: { '#entity': 'entity' },
            ExpressionAttributeValues: { ':order': { S: 'order' }, ':since': { S: since } },
            ProjectionExpression: 'updatedAt',
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) {
          const at = item.updatedAt?.S ?? '';
          if (at > newest) newest = at;
        }
        start = out.LastEvaluatedKey;
      } while (start);
      if (!newest)
        return {
          status: 'warn',
          detail: `no order changed in the last ${RECENT_WORK_HOURS} h`,
          fix: 'send a test webhook (`order-webhooks send`) and watch the worker logs',
        };
      return { status: 'ok', detail: `last order change applied at ${newest}` };
    },
  },
  {
    name: 'ReCharge write-backs not stopped',
    async run({ target }) {
      if (!target.ordersTable) return { status: 'skipped', detail: 'ORDERS_TABLE not set' };
      return describeStoppedWriteBacks(await findStoppedWriteBacks(target));
    },
  },
  {
    name: 'last reconcile pass',
    async run({ target }) {
      if (!target.ordersTable) return { status: 'skipped', detail: 'ORDERS_TABLE not set' };
      const state = await makeStateStore(ordersDocumentClient(target.dynamo), target.ordersTable).get(
        'recharge',
      );
      if (!state.lastPassAt)
        return {
          status: 'warn',
          detail: 'no ReCharge reconcile pass recorded',
          fix: 'the reconciler runs on its schedule; run one now with `order-webhooks reconcile`',
        };
      if (state.lastOutcome === 'failed')
        return {
          status: 'warn',
          detail: `the pass at ${state.lastPassAt} failed (${state.failuresInARow ?? 1} in a row)`,
          fix: 'the `reconcile pass` log line carries the error: fix the token or wait out the ReCharge outage',
        };
      return {
        status: 'ok',
        detail: `completed at ${state.lastPassAt}${state.watermark ? `, caught up to ${state.watermark}` : ''}`,
      };
    },
  },
  {
    name: 'ReCharge rate budget in use',
    async run(ctx) {
      const secrets = await ctx.secrets();
      const token = secrets instanceof Error ? undefined : secrets.RECHARGE_API_TOKEN;
      if (!token) return { status: 'skipped', detail: 'no RECHARGE_API_TOKEN' };
      if (!ctx.target.idempotencyTable) return { status: 'skipped', detail: 'IDEMPOTENCY_TABLE not set' };
      const use = await readRechargeBudgetUse({
        token,
        budgetTable: { dynamo: ctx.target.dynamo, table: ctx.target.idempotencyTable },
        env: ctx.env,
      });
      const detail = `${use.used} of ${use.limit} call slots taken ahead of now`;
      const measure = { used: use.used, limit: use.limit };
      // A full bucket is a renewal day's drain at ReCharge's rate: expected, but calls wait.
      if (use.used >= use.limit)
        return {
          status: 'warn',
          detail: `${detail}: ReCharge calls are waiting for the budget`,
          measure,
          fix: 'expected while a backlog drains; otherwise look for a loop calling ReCharge (RechargeApiCalls on the dashboard)',
        };
      return { status: 'ok', detail, measure };
    },
  },
  {
    name: 'WAF web ACL lets webhook bodies through',
    offline: true,
    async run({ target, stackSettings }) {
      if (target.kind === 'local') return { status: 'skipped', detail: 'no WAF in the local mode' };
      if (!stackSettings.wafWebAclArn) return { status: 'ok', detail: 'no wafWebAclArn in cdk.json' };
      // The managed core rule set blocks bodies over 8 KB (SizeRestrictions_BODY): large ReCharge
      // orders would get 403 until ReCharge deletes the subscription. The ACL's rules are not read here.
      return {
        status: 'warn',
        detail: 'a web ACL is attached to the webhook API (wafWebAclArn)',
        fix: 'if it uses AWSManagedRulesCommonRuleSet, set its SizeRestrictions_BODY rule to Count (docs/deployment.md, "WAF")',
      };
    },
  },
  {
    name: 'needs attention',
    async run({ target, stackName, cloudWatch }) {
      if (target.kind === 'local')
        return {
          status: 'skipped',
          detail: 'no metrics in the local mode: the log lines carry `needsAttention`',
        };
      return checkNeedsAttention(cloudWatch(), stackName);
    },
  },
  {
    name: 'alarms in ALARM',
    async run({ target, stackName, cloudWatch }) {
      if (target.kind === 'local') return { status: 'skipped', detail: 'no alarms in the local mode' };
      return checkStackAlarms(cloudWatch(), stackName);
    },
  },
];

const MARK: Record<CheckStatus, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]', skipped: '[skip]' };

export async function runDoctor(argv: string[], checks: DoctorCheck[] = DOCTOR_CHECKS): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...TARGET_OPTIONS },
  });
  if (values.help) {
    process.stdout.write(`${DOCTOR_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const { target, awsChecks, awsUsable } = await doctorTarget(values);
  const { ctx, close } = doctorContext(values, target);
  const results = [...awsChecks, ...(await runDoctorChecks(ctx, checks, awsUsable).finally(close))];
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else
    for (const r of results)
      process.stdout.write(
        `${MARK[r.status]} ${r.name}: ${r.detail}${r.fix && r.status !== 'ok' ? `\n       fix: ${r.fix}` : ''}\n`,
      );
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/**
 * What doctor's checks read, for `target` (`doctor` and the console): the credentials are read once,
 * on first use; `close` releases the CloudWatch client.
 */
export function doctorContext(
  values: { 'data-dir'?: string; 'state-file'?: string; stack?: string },
  target: Target,
  env: NodeJS.ProcessEnv = process.env,
): { ctx: DoctorContext; close: () => void } {
  const state = target.kind === 'local' ? readState(stateFilePath(values)) : undefined;
  const devCredentials = state?.devCredentials ?? [];
  let secrets: Promise<Secrets | Error> | undefined;
  let cloudWatch: CloudWatchClient | undefined;
  const ctx: DoctorContext = {
    target,
    env,
    devCredentials,
    stackSettings: readStackSettings(projectRoot(process.cwd())),
    stackName: target.stack ?? values.stack ?? defaultStackName(env, projectRoot(process.cwd())),
    cloudWatch: () => {
      cloudWatch ??= new CloudWatchClient({ region: target.region });
      return cloudWatch;
    },
    rechargeApiUrl: state?.rechargeApiUrl ?? env.RECHARGE_API_URL ?? 'https://api.rechargeapps.com',
    rechargeApiVersion: env.RECHARGE_API_VERSION || '2021-11',
    ...(target.kind === 'aws'
      ? {
          secretsApart: async () => {
            try {
              const read = (arn: string | undefined) =>
                makeSecretsProvider(
                  { SECRET_ARN: arn, SECRET_MAX_AGE_SECONDS: 300 },
                  {},
                  undefined,
                  target.region,
                )();
              const webhook = await read(target.secretArn ?? env.SECRET_ARN);
              return { webhook, api: target.apiSecretArn ? await read(target.apiSecretArn) : undefined };
            } catch (error) {
              return error as Error;
            }
          },
        }
      : {}),
    secrets: () => {
      secrets ??= (async () => {
        try {
          if (target.kind === 'local') {
            // The local mode's credentials: its development values, or the environment it shares.
            const local: Record<string, unknown> = { ...env };
            for (const name of devCredentials) local[name] = DEV_SECRETS[name as keyof typeof DEV_SECRETS];
            return await makeSecretsProvider({ SECRET_MAX_AGE_SECONDS: 300 }, local as NodeJS.ProcessEnv)();
          }
          // What the worker reads: the API secret, and what it lacks from the combined one while moving.
          const own = target.apiSecretArn ?? target.secretArn ?? env.SECRET_ARN;
          const combined = target.apiSecretArn ? (target.secretArn ?? env.SECRET_ARN) : undefined;
          return await makeSecretsProvider(
            { SECRET_ARN: own, COMBINED_SECRET_ARN: combined, SECRET_MAX_AGE_SECONDS: 300 },
            env,
            undefined,
            target.region,
          )();
        } catch (error) {
          return error as Error;
        }
      })();
      return secrets;
    },
  };
  return { ctx, close: () => cloudWatch?.destroy() };
}

/** Runs every check in turn; a check that throws is reported as failed, never stops the others. */
export async function runDoctorChecks(
  ctx: DoctorContext,
  checks: DoctorCheck[] = DOCTOR_CHECKS,
  /** False when `--aws` could not reach AWS: the checks that need it are skipped. */
  awsUsable = true,
): Promise<(CheckResult & { name: string })[]> {
  const results: (CheckResult & { name: string })[] = [];
  for (const check of checks) {
    let result: CheckResult;
    if (!awsUsable && !check.offline) {
      results.push({ name: check.name, status: 'skipped', detail: 'needs AWS access (see "AWS access")' });
      continue;
    }
    try {
      result = await check.run(ctx);
    } catch (error) {
      const plain = plainAwsError(error, { region: ctx.target.region });
      result = plain
        ? { status: 'fail', ...splitFix(plain) }
        : {
            status: 'fail',
            detail: `check failed: ${(error as Error).name}: ${(error as Error).message}`,
          };
    }
    results.push({ name: check.name, ...result });
  }
  return results;
}

/**
 * When the deployed worker last processed a record: the newest hour in which SQS deleted messages
 * from the main queue (its event source deletes a record once the worker handled it), in the last
 * RECENT_WORK_HOURS (one GetMetricStatistics call).
 */
export async function lastProcessedFromMetrics(
  cloudWatch: Pick<CloudWatchClient, 'send'>,
  queueName: string,
): Promise<CheckResult> {
  const now = Date.now();
  const out = await cloudWatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/SQS',
      MetricName: 'NumberOfMessagesDeleted',
      Dimensions: [{ Name: 'QueueName', Value: queueName }],
      StartTime: new Date(now - RECENT_WORK_HOURS * 3600 * 1000),
      EndTime: new Date(now),
      Period: 3600,
      Statistics: ['Sum'],
    }),
  );
  const hours = (out.Datapoints ?? [])
    .filter((d) => (d.Sum ?? 0) > 0 && d.Timestamp)
    .sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0));
  const newest = hours[0];
  if (!newest?.Timestamp)
    return {
      status: 'warn',
      detail: `the worker processed no record in the last ${RECENT_WORK_HOURS} h (AWS/SQS NumberOfMessagesDeleted, queue ${queueName})`,
      fix: 'send a test webhook and watch the worker logs; check --stack if this is not the stack you meant',
    };
  const total = hours.reduce((sum, d) => sum + (d.Sum ?? 0), 0);
  return {
    status: 'ok',
    detail: `${total} record(s) processed in the last ${RECENT_WORK_HOURS} h, the latest in the hour from ${newest.Timestamp.toISOString()}`,
  };
}

/** A plain one-line message ("what went wrong: what to do") as a check's detail and fix. */
function splitFix(message: string): { detail: string; fix?: string } {
  const at = message.indexOf(': ');
  return at < 0 ? { detail: message } : { detail: message.slice(0, at), fix: message.slice(at + 2) };
}

/**
 * The target for doctor. With `--aws`, what stands in the way is reported as failed checks rather
 * than ending the run: "AWS access" (credentials, reachability: STS) and "stack found"
 * (CloudFormation). Without AWS access, every check that needs it is skipped; without the stack,
 * the checks run on the names the environment gives.
 */
async function doctorTarget(values: Parameters<typeof resolveTarget>[0]): Promise<{
  target: Target;
  awsChecks: (CheckResult & { name: string })[];
  awsUsable: boolean;
}> {
  const announced: string[] = [];
  const announce = (line: string) => {
    announced.push(line);
    process.stderr.write(`${line}\n`);
  };
  try {
    const target = await resolveTarget(values, { announce });
    if (target.kind === 'local') return { target, awsChecks: [], awsUsable: true };
    return {
      target,
      awsChecks: [
        { name: 'AWS access', status: 'ok', detail: announced[0]?.replace(/^aws: /, '') ?? '' },
        {
          name: 'stack found',
          status: target.stack ? 'ok' : 'skipped',
          detail: announced[1]?.replace(/^aws: /, '') ?? '',
        },
      ],
      awsUsable: true,
    };
  } catch (error) {
    const wantsAws = values.aws || values.stack !== undefined || values.region !== undefined;
    if (!(error instanceof CliError) || !wantsAws) throw error;
    const identityOk = announced.length > 0;
    const region =
      /region (\S+)$/.exec(announced[0] ?? '')?.[1] ?? values.region ?? process.env.AWS_REGION ?? 'us-east-1';
    const env = process.env;
    const awsChecks: (CheckResult & { name: string })[] = identityOk
      ? [
          { name: 'AWS access', status: 'ok', detail: (announced[0] ?? '').replace(/^aws: /, '') },
          { name: 'stack found', status: 'fail', ...splitFix(error.message) },
        ]
      : [
          { name: 'AWS access', status: 'fail', ...splitFix(error.message) },
          { name: 'stack found', status: 'skipped', detail: 'needs AWS access' },
        ];
    return {
      target: {
        kind: 'aws',
        apiUrl: env.WEBHOOK_API_URL,
        region,
        stack: values.stack ?? defaultStackName(env, projectRoot(process.cwd())),
        queueUrl: env.QUEUE_URL,
        dlqUrl: env.DLQ_URL,
        ordersTable: env.ORDERS_TABLE,
        idempotencyTable: env.IDEMPOTENCY_TABLE,
        secretArn: env.SECRET_ARN,
        archiveBucket: env.ARCHIVE_BUCKET,
        s3Endpoint: undefined,
        sqs: new SQSClient({ region }),
        dynamo: new DynamoDBClient({ region }),
      },
      awsChecks,
      awsUsable: identityOk,
    };
  }
}

/** The "context" of the project's cdk.json: the stack settings a deploy uses. */
export function readStackSettings(root: string): Record<string, unknown> {
  try {
    const json = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')) as { context?: unknown };
    return json.context && typeof json.context === 'object' ? (json.context as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
