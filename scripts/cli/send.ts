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
  if (!providerArg || !sampleArg || extra.length > 0)
    throw new UsageError('send needs exactly <provider> and <sample|file.json>');
  if (!(PROVIDERS as readonly string[]).includes(providerArg))
    throw new UsageError(`unknown provider "${providerArg}": one of ${PROVIDERS.join(', ')}`);
  const provider = providerArg as Provider;
  const scheme = values.scheme ?? 'timestamp';
  if (scheme !== 'timestamp' && scheme !== 'legacy')
    throw new UsageError('--scheme must be timestamp or legacy');
  const times = Number(values.times ?? 1);
  if (!Number.isInteger(times) || times < 1) throw new UsageError('--times must be a positive integer');

  const sample = findSample(provider, sampleArg);
  let body: string;
  let topic = values.topic;
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

  const state = readState(stateFilePath(values));
  const base = values.url ?? process.env.WEBHOOK_API_URL ?? state?.apiUrl ?? undefined;
  if (!base) throw new CliError('no API URL: start the local mode (`npm start`) or pass --url');
  const secretFile = values['secret-file'];
  const secret = secretFile !== undefined ? readSecretFile(secretFile) : defaultSecret(provider);
  const results: SendResult[] = [];
  for (let i = 0; i < times; i++) {
    // Signed per attempt, as a provider's retry is (a fresh timestamp, the identical body).
    const request = buildWebhookRequest(provider, body, { secret, scheme, topic });
    const url = `${base.replace(/\/+$/, '')}${request.path}`;
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers: request.headers, body });
    } catch (error) {
      throw new CliError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`);
    }
    results.push({ status: response.status, body: await response.text() });
    if (times > 1) progress(`sent ${i + 1}/${times}`);
  }
  progressDone();
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else for (const r of results) process.stdout.write(`${r.status} ${r.body}\n`);
  if (state && base === state.apiUrl && results.some((r) => r.status === 401 || r.status === 403))
    process.stderr.write(
      `${localSecretHint(provider, state.devCredentials ?? [], secretFile !== undefined)}\n`,
    );
  return results.every((r) => r.status >= 200 && r.status < 300) ? 0 : 1;
}
