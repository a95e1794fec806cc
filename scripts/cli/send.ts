import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signRechargeBody } from '../../shared/providers/recharge/signature';
import { wixHookPath } from '../../shared/providers/wix-cashier-pay/signature';
import { PROVIDERS, type Provider } from '../../shared/queue/message';
import { DEV_SECRETS } from '../local/dev-defaults';
import { readState } from '../local/state';
import { findSample, SAMPLES, sampleBody } from '../samples/index';
import { CliError, progress, progressDone, stateFilePath, UsageError } from './target';

export const SEND_HELP = `Usage: order-webhooks send <provider> <sample|file.json> [options]
       order-webhooks send [<provider>] --all [options]

Sends a correctly signed webhook: a built-in sample or a JSON file, to the local mode or a deployed API.

Providers and built-in samples:
${PROVIDERS.map(
  (p) =>
    `  ${p}\n${SAMPLES.filter((s) => s.provider === p)
      .map((s) => `      ${s.name.padEnd(28)}${s.description}`)
      .join('\n')}`,
).join('\n')}

Options:
  --url <base>           API base URL (default: env WEBHOOK_API_URL, else the running local mode)
  --secret-file <file>   read the ReCharge client secret / Wix hook token / Sevi token from this file
                         (\`-\`: from stdin; never on the command line, where shell history and the
                         process list keep it). Default: the first of RECHARGE_WEBHOOK_SECRETS /
                         WIX_CASHIER_PAY_TOKENS / SEVI_WEBHOOK_TOKENS, else the local mode's
                         development value
  --scheme <s>           ReCharge signature: timestamp (default) or legacy
  --topic <t>            ReCharge topic for a JSON file (default order/created)
  --times <n>            send the same delivery n times (a provider retry); default 1
  --all                  send every built-in sample (of <provider>, or of every provider), in the
                         order listed above
  --fail                 recharge: send the sample without its order status, which the ingest
                         accepts (200) and the worker refuses for good: a dead-letter entry on
                         purpose, to try \`dlq list\`, \`dlq show\` and \`dlq redrive\`
  --json                 print results as JSON
  --data-dir, --state-file   where to find the local mode
  -h, --help`;

export interface SendResult {
  status: number;
  body: string;
}

/** The request a provider would make for a body: path and headers, signed with `secret`. */
export function buildWebhookRequest(
  provider: Provider,
  body: string,
  options: { secret: string; scheme?: 'timestamp' | 'legacy'; topic?: string },
): { path: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (provider === 'recharge') {
    const topic = options.topic ?? 'order/created';
    return {
      path: `/webhooks/recharge/${topic}`,
      headers: {
        ...headers,
        'x-recharge-topic': topic,
        ...signRechargeBody(body, options.secret, { scheme: options.scheme ?? 'timestamp' }),
      },
    };
  }
  if (provider === 'wix-cashier-pay') return { path: wixHookPath(options.secret), headers };
  return { path: '/webhooks/sevi', headers: { ...headers, authorization: options.secret } };
}

const SECRET_NAME = {
  recharge: 'RECHARGE_WEBHOOK_SECRETS',
  'wix-cashier-pay': 'WIX_CASHIER_PAY_TOKENS',
  sevi: 'SEVI_WEBHOOK_TOKENS',
} as const satisfies Record<Provider, keyof typeof DEV_SECRETS>;

/** After a rejected send to the local mode: which secret it checks (development values only shown). */
export function localSecretHint(provider: Provider, devCredentials: string[], secretGiven: boolean): string {
  const name = SECRET_NAME[provider];
  if (devCredentials.includes(name))
    return `hint: the local mode checks ${name}, which it runs on its development value "${DEV_SECRETS[name]}"; ${secretGiven ? 'drop --secret-file to use it' : `unset ${name} in this shell (or set it to that value)`}`;
  return `hint: the local mode checks the ${name} it was started with; pass one of them with --secret-file or set ${name} here to the same value`;
}

/** The secret in `file` (`-`: stdin), without its trailing newline; never echoed in an error. */
export function readSecretFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read --secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret.trim()) throw new UsageError(`--secret-file ${file} is empty`);
  return secret;
}

function defaultSecret(provider: Provider): string {
  const name = SECRET_NAME[provider];
  const first = (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .find(Boolean);
  return first ?? DEV_SECRETS[name];
}

/** A sample or a JSON file as one delivery; `fail`: without the order's status (see --fail). */
function oneDelivery(provider: Provider, sampleArg: string, topicFlag: string | undefined, fail: boolean) {
  const sample = findSample(provider, sampleArg);
  let body: string;
  let topic = topicFlag;
  if (sample) {
    body = sampleBody(sample);
    topic ??= sample.topic;
  } else if (sampleArg.endsWith('.json')) {
    try {
      body = readFileSync(sampleArg, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${sampleArg}: ${(error as Error).message}`);
    }
  } else {
    const names = SAMPLES.filter((s) => s.provider === provider).map((s) => s.name);
    throw new UsageError(
      `unknown sample "${sampleArg}" for ${provider}: one of ${names.join(', ')}, or a .json file`,
    );
  }
  if (fail) body = withoutOrderStatus(body);
  return { provider, body, topic, label: `${provider} ${sampleArg}` };
}

/**
 * The ReCharge body without `order.status`: the ingest checks only the order's id and queues it, and
 * the worker's schema requires the status, so the record is dead-lettered as permanent (parse-payload).
 */
export function withoutOrderStatus(body: string): string {
  const parsed = JSON.parse(body) as { order?: Record<string, unknown> };
  if (!parsed.order || typeof parsed.order !== 'object')
    throw new UsageError('--fail needs a body with an "order"');
  delete parsed.order.status;
  return JSON.stringify(parsed);
}

export async function runSend(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'secret-file': { type: 'string' },
      scheme: { type: 'string' },
      topic: { type: 'string' },
      times: { type: 'string' },
      all: { type: 'boolean' },
      fail: { type: 'boolean' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'state-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${SEND_HELP}\n`);
    return 0;
  }
  const [providerArg, sampleArg, ...extra] = positionals;
  if (values.all ? sampleArg !== undefined : !providerArg || !sampleArg || extra.length > 0)
    throw new UsageError(
      values.all
        ? 'send --all takes at most <provider> (every sample of it)'
        : 'send needs exactly <provider> and <sample|file.json> (or --all)',
    );
  if (providerArg && !(PROVIDERS as readonly string[]).includes(providerArg))
    throw new UsageError(`unknown provider "${providerArg}": one of ${PROVIDERS.join(', ')}`);
  const scheme = values.scheme ?? 'timestamp';
  if (scheme !== 'timestamp' && scheme !== 'legacy')
    throw new UsageError('--scheme must be timestamp or legacy');
  const times = Number(values.times ?? 1);
  if (!Number.isInteger(times) || times < 1) throw new UsageError('--times must be a positive integer');
  if (values.fail && (values.all || providerArg !== 'recharge'))
    throw new UsageError(
      '--fail takes one recharge sample or file (e.g. send recharge 2021-11-created-regular --fail)',
    );

  const deliveries = values.all
    ? SAMPLES.filter((s) => !providerArg || s.provider === providerArg).map((s) => ({
        provider: s.provider,
        body: sampleBody(s),
        topic: values.topic ?? s.topic,
        label: `${s.provider} ${s.name}`,
      }))
    : [oneDelivery(providerArg as Provider, sampleArg as string, values.topic, values.fail === true)];

  const state = readState(stateFilePath(values));
  const base = values.url ?? process.env.WEBHOOK_API_URL ?? state?.apiUrl ?? undefined;
  if (!base) throw new CliError('no API URL: start the local mode (`npm start`) or pass --url');
  const secretFile = values['secret-file'];
  const fileSecret = secretFile !== undefined ? readSecretFile(secretFile) : undefined;
  const results: (SendResult & { label: string })[] = [];
  const total = deliveries.length * times;
  for (const delivery of deliveries) {
    const secret = fileSecret ?? defaultSecret(delivery.provider);
    for (let i = 0; i < times; i++) {
      // Signed per attempt, as a provider's retry is (a fresh timestamp, the identical body).
      const request = buildWebhookRequest(delivery.provider, delivery.body, {
        secret,
        scheme,
        topic: delivery.topic,
      });
      const url = `${base.replace(/\/+$/, '')}${request.path}`;
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers: request.headers, body: delivery.body });
      } catch (error) {
        throw new CliError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`);
      }
      results.push({ label: delivery.label, status: response.status, body: await response.text() });
      if (total > 1) progress(`sent ${results.length}/${total}`);
    }
  }
  progressDone();
  const labelled = deliveries.length > 1;
  if (values.json)
    process.stdout.write(
      `${JSON.stringify(
        results.map(({ label, ...r }) => (labelled ? { sample: label, ...r } : r)),
        null,
        2,
      )}\n`,
    );
  else
    for (const r of results) process.stdout.write(`${labelled ? `${r.label}: ` : ''}${r.status} ${r.body}\n`);
  const rejected = results.find((r) => r.status === 401 || r.status === 403);
  if (state && base === state.apiUrl && rejected) {
    const provider = deliveries.find((d) => d.label === rejected.label)?.provider ?? 'recharge';
    process.stderr.write(
      `${localSecretHint(provider, state.devCredentials ?? [], secretFile !== undefined)}\n`,
    );
  }
  if (values.fail && results.every((r) => r.status === 200))
    process.stderr.write(
      'queued without its order status: the worker will dead-letter it (`order-webhooks dlq list`)\n',
    );
  return results.every((r) => r.status >= 200 && r.status < 300) ? 0 : 1;
}
