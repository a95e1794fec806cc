import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildWebhookRequest } from '../../../scripts/cli/send';
import { queueDepth } from '../../../scripts/cli/stats';
import { DEV_SECRETS } from '../../../scripts/local/dev-defaults';
import type { OrderRecord } from '../../../shared/domain/order-record';
import { listOrders } from '../../../shared/order-system/ledger';
import type { Provider } from '../../../shared/queue/message';
import { type LocalProcess, TSX_LOADER } from './local-process';

const ROOT = path.resolve(__dirname, '../../..');

const SECRET: Record<Provider, string> = {
  recharge: DEV_SECRETS.RECHARGE_WEBHOOK_SECRETS,
  'wix-cashier-pay': DEV_SECRETS.WIX_CASHIER_PAY_TOKENS,
  sevi: DEV_SECRETS.SEVI_WEBHOOK_TOKENS,
};

export interface Delivery {
  provider: Provider;
  body: string;
  /** ReCharge topic (path and header). */
  topic?: string;
  /** Sign with a wrong secret (an attacker's request). */
  forged?: boolean;
}

/** Sends one POST and returns the answer; `fetch` unless a caller brings its own connections. */
export type Post = (
  url: string,
  headers: Record<string, string>,
  body: string,
) => Promise<{ status: number; text: string }>;

const fetchPost: Post = async (url, headers, body) => {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
};

/** POSTs a delivery the way the provider would (signed with the local mode's development secrets). */
export async function deliver(
  apiUrl: string,
  d: Delivery,
  post: Post = fetchPost,
): Promise<{ status: number; text: string }> {
  const secret = d.forged ? `${SECRET[d.provider]}-forged` : SECRET[d.provider];
  const req = buildWebhookRequest(d.provider, d.body, { secret, topic: d.topic });
  return post(`${apiUrl}${req.path}`, req.headers, d.body);
}

/**
 * Delivers like a provider does: a 5xx or a connection error is retried (ReCharge retries 20 times,
 * Sevi 3 times), with the identical body. Returns the final answer and how many attempts it took.
 */
export async function deliverWithRetries(
  apiUrl: string,
  d: Delivery,
  retries = 5,
): Promise<{ status: number; text: string; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    let result: { status: number; text: string };
    try {
      result = await deliver(apiUrl, d);
    } catch (error) {
      if (attempt > retries) throw error;
      result = { status: 599, text: String(error) };
    }
    if (result.status < 500 || attempt > retries) return { ...result, attempts: attempt };
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

export function orders(lp: LocalProcess): Promise<OrderRecord[]> {
  return listOrders(lp.dynamo, lp.state.ordersTable);
}

export async function depths(lp: LocalProcess) {
  const [queue, dlq] = await Promise.all([
    queueDepth(lp.sqs, lp.state.queueUrl),
    queueDepth(lp.sqs, lp.state.dlqUrl),
  ]);
  return { queue, dlq, queueEmpty: queue.visible + queue.inFlight + queue.delayed === 0 };
}

/** Runs the real CLI against a local mode (its endpoints file) and returns exit code and output. */
export function runCli(
  args: string[],
  stateFile: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX_LOADER, path.join(ROOT, 'scripts/cli/main.ts'), ...args, '--state-file', stateFile],
      {
        cwd: path.dirname(stateFile),
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          // The #shared/* alias lives in the repo's tsconfig; the child runs in a scratch directory.
          TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `fn` over `items` with at most `concurrency` in flight (the concurrent senders). */
export async function withConcurrency<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i] as T);
      }
    }),
  );
  return results;
}
