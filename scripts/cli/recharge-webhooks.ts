import { parseArgs } from 'node:util';
import { DEFAULT_RECHARGE_WEBHOOK_TOPICS } from '../../shared/config';
import { createWebhook, listWebhooks } from '../../shared/recharge-api/webhooks';
import { planSubscriptions } from '../../shared/reconcile/subscription-guard';
import { formatTable } from './orders';
import { cliReconcileDeps, RECHARGE_TARGET_HELP } from './recharge-context';
import { CliError, TARGET_HELP, TARGET_OPTIONS, UsageError } from './target';

export const RECHARGE_WEBHOOKS_HELP = `Usage: order-webhooks recharge-webhooks <list|check|register> [options]

  list       every subscription ReCharge holds for this token, marked ours or foreign
  check      the subscriptions we expect (each topic at <base>/webhooks/recharge/<topic>) that are
             missing; exit code 1 when any is
  register   creates the missing ones (POST /webhooks); run once after \`cdk deploy\`. Subscriptions
             whose address is not under <base> are never touched, and nothing is ever deleted.

Options:
  --url <base>         the base ReCharge calls (default PUBLIC_BASE_URL, WEBHOOK_API_URL, or the
                       local mode's URL); with --aws use the stack's API URL or custom domain
  --topics <a,b>       default RECHARGE_WEBHOOK_TOPICS or ${DEFAULT_RECHARGE_WEBHOOK_TOPICS}
  --json               machine-readable output
${TARGET_HELP}
${RECHARGE_TARGET_HELP}
  -h, --help`;

export async function runRechargeWebhooks(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      topics: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...TARGET_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(`${RECHARGE_WEBHOOKS_HELP}\n`);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (!action || !['list', 'check', 'register'].includes(action))
    throw new UsageError('expected list, check or register');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const { deps, baseUrl } = await cliReconcileDeps(values);
  const topics = values.topics
    ? values.topics
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
    : deps.env.RECHARGE_WEBHOOK_TOPICS;
  const deadline = Date.now() + 60_000;
  const existing = await listWebhooks(deps.recharge, deadline);
  if (action === 'list') {
    const plan = baseUrl ? planSubscriptions(existing, baseUrl, topics) : undefined;
    const ours = new Set(plan?.ours.map((w) => w.id));
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify(
          existing.map((w) => ({ ...w, ours: ours.has(w.id) })),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    process.stdout.write(
      `${formatTable(
        ['ID', 'TOPIC', 'ADDRESS', 'OURS'],
        existing.map((w) => [w.id, w.topic, w.address, plan ? (ours.has(w.id) ? 'yes' : 'no') : '?']),
      )}\n`,
    );
    return 0;
  }
  if (!baseUrl) throw new CliError('the base ReCharge calls is not known: pass --url or set PUBLIC_BASE_URL');
  const plan = planSubscriptions(existing, baseUrl, topics);
  if (action === 'check') {
    if (values.json) process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    else if (plan.missing.length === 0)
      process.stdout.write(`all ${plan.expected.length} subscriptions are present\n`);
    else
      process.stdout.write(
        `missing:\n${formatTable(
          ['TOPIC', 'ADDRESS'],
          plan.missing.map((m) => [m.topic, m.address]),
        )}\n(run: order-webhooks recharge-webhooks register)\n`,
      );
    return plan.missing.length === 0 ? 0 : 1;
  }
  const created = [];
  for (const missing of plan.missing) created.push(await createWebhook(deps.recharge, missing, deadline));
  if (values.json) process.stdout.write(`${JSON.stringify({ created, present: plan.ours }, null, 2)}\n`);
  else
    process.stdout.write(
      created.length === 0
        ? `nothing to register: all ${plan.expected.length} subscriptions are present\n`
        : `registered:\n${formatTable(
            ['ID', 'TOPIC', 'ADDRESS'],
            created.map((w) => [w.id, w.topic, w.address]),
          )}\n`,
    );
  return 0;
}
