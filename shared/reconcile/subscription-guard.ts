import { AppError } from '../errors';
import type { Log } from '../logger';
import { ATTENTION, countAttention, METRIC } from '../metrics';
import type { RechargeWebhook } from '../recharge-api/webhooks';
import type { MetricsSink } from '../worker/process-record';

export interface ExpectedSubscription {
  topic: string;
  address: string;
}

export interface SubscriptionPlan {
  expected: ExpectedSubscription[];
  /** Subscriptions whose address is under our base (ours to keep alive). */
  ours: RechargeWebhook[];
  /** Anything else the token's owner subscribed: never touched. */
  foreign: RechargeWebhook[];
  missing: ExpectedSubscription[];
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** `<base>/webhooks/recharge/<topic>`: the route whose path names the topic (the header is optional). */
export function rechargeWebhookAddress(baseUrl: string, topic: string): string {
  return `${trimSlashes(baseUrl)}/webhooks/recharge/${topic}`;
}

/** Normalises scheme and host case (URL does), keeps the path as written, drops trailing slashes. */
function normalise(address: string): string {
  try {
    return trimSlashes(new URL(address).href);
  } catch {
    return trimSlashes(address);
  }
}

/**
 * Compares ReCharge's subscriptions with the ones we expect. A topic is covered by any of our
 * subscriptions for it, at `<base>/webhooks/recharge/<topic>` or at `<base>/webhooks/recharge`
 * (the ingest takes the topic from the header there). Addresses not under `<base>/webhooks/recharge`
 * are foreign: another app of the merchant's, or another deployment of ours.
 */
export function planSubscriptions(
  existing: readonly RechargeWebhook[],
  baseUrl: string,
  topics: readonly string[],
): SubscriptionPlan {
  const route = normalise(`${trimSlashes(baseUrl)}/webhooks/recharge`);
  const isOurs = (w: RechargeWebhook) => {
    const address = normalise(w.address);
    return address === route || address.startsWith(`${route}/`);
  };
  const ours = existing.filter(isOurs);
  const foreign = existing.filter((w) => !isOurs(w));
  const expected = topics.map((topic) => ({ topic, address: rechargeWebhookAddress(baseUrl, topic) }));
  const missing = expected.filter(
    (e) =>
      !ours.some((w) => w.topic === e.topic && [route, normalise(e.address)].includes(normalise(w.address))),
  );
  return { expected, ours, foreign, missing };
}

export interface GuardPorts {
  list(deadline: number): Promise<RechargeWebhook[]>;
  create(subscription: ExpectedSubscription, deadline: number): Promise<RechargeWebhook>;
  log: Log;
  metrics: MetricsSink;
  /**
   * The topics of ours seen on earlier runs (kept on the reconciler's state item): a missing topic
   * never seen is a first registration (counted, no alarm), a missing topic seen before a re-creation.
   * Without it every creation counts as a re-creation.
   */
  seen?: {
    get(): Promise<readonly string[]>;
    record(topics: readonly string[]): Promise<void>;
  };
}

export interface GuardOptions {
  baseUrl: string;
  topics: readonly string[];
  /** `recreate`: POST the missing ones; `check`: only report them. */
  mode: 'recreate' | 'check';
  /**
   * False when this run's reconciliation pass did not complete: a subscription is recreated only
   * after a pass has covered the gap (see runScheduledReconcile), so it is reported and left for the next run.
   */
  passCoveredGap: boolean;
  deadline: number;
}

export interface GuardResult {
  outcome: 'ok' | 'registered' | 'recreated' | 'missing' | 'failed';
  plan?: SubscriptionPlan;
  recreated: ExpectedSubscription[];
  /** Created for the first time (no subscription of ours for the topic was ever seen). */
  registered: ExpectedSubscription[];
  /** Missing and not recreated (check mode, pass not complete, or the POST failed). */
  stillMissing: ExpectedSubscription[];
  error?: string;
}

/**
 * The subscription guard: ReCharge deletes a subscription after 20 failed deliveries over 48 h,
 * silently. Lists the token's subscriptions, recreates the missing ones of ours (never touching a
 * foreign address, never deleting anything), and counts both. Never throws: a failed check is
 * logged and reported, and the next run tries again.
 */
export async function guardSubscriptions(ports: GuardPorts, options: GuardOptions): Promise<GuardResult> {
  const { log, metrics } = ports;
  let plan: SubscriptionPlan;
  let seen: readonly string[] | undefined;
  try {
    plan = planSubscriptions(await ports.list(options.deadline), options.baseUrl, options.topics);
    seen = await ports.seen?.get();
  } catch (error) {
    const message = error instanceof AppError ? error.message : String((error as Error)?.message ?? error);
    log.warn('webhook subscriptions not checked', { error: message });
    return { outcome: 'failed', recreated: [], registered: [], stillMissing: [], error: message };
  }
  const firstTime = (topic: string) => seen !== undefined && !seen.includes(topic);
  const registered: ExpectedSubscription[] = [];
  const recreated: ExpectedSubscription[] = [];
  const stillMissing: ExpectedSubscription[] = [];
  let error: string | undefined;
  for (const missing of plan.missing) {
    if (options.mode === 'check' || !options.passCoveredGap) {
      log.warn('webhook subscription missing', {
        topic: missing.topic,
        address: missing.address,
        action:
          options.mode === 'check'
            ? 'reported (RECHARGE_WEBHOOK_GUARD=check)'
            : 'deferred until a pass completes',
      });
      stillMissing.push(missing);
      continue;
    }
    try {
      const created = await ports.create(missing, options.deadline);
      if (firstTime(missing.topic)) {
        log.info('webhook subscription registered', {
          topic: missing.topic,
          address: missing.address,
          id: created.id,
        });
        registered.push(missing);
      } else {
        log.warn('webhook subscription recreated', {
          needsAttention: ATTENTION.subscriptionRecreated,
          topic: missing.topic,
          address: missing.address,
          id: created.id,
        });
        recreated.push(missing);
      }
    } catch (createError) {
      error = createError instanceof AppError ? createError.message : String(createError);
      log.error('webhook subscription not recreated', {
        topic: missing.topic,
        address: missing.address,
        error,
      });
      stillMissing.push(missing);
    }
  }
  metrics.count(METRIC.subscriptionRecreated, recreated.length);
  countAttention(metrics, ATTENTION.subscriptionRecreated, recreated.length);
  metrics.count(METRIC.subscriptionRegistered, registered.length);
  // Remember what is ours now (one write, only when the set changed): a later loss is a re-creation.
  const nowOurs = [
    ...new Set([
      ...plan.ours.map((w) => w.topic),
      ...registered.map((s) => s.topic),
      ...recreated.map((s) => s.topic),
    ]),
  ].filter((topic) => options.topics.includes(topic));
  const known = [...new Set([...(seen ?? []), ...nowOurs])];
  if (ports.seen && seen !== undefined && known.length !== seen.length)
    await ports.seen.record(known).catch((error: unknown) =>
      log.warn('webhook subscriptions seen not recorded', {
        error: (error as Error)?.message ?? String(error),
      }),
    );
  // Missing after this run: recreated ones are counted above, so one event raises one alarm.
  metrics.count(METRIC.subscriptionMissing, stillMissing.length);
  countAttention(metrics, ATTENTION.subscriptionMissing, stillMissing.length);
  const outcome =
    stillMissing.length > 0
      ? 'missing'
      : recreated.length > 0
        ? 'recreated'
        : registered.length > 0
          ? 'registered'
          : 'ok';
  log.info('webhook subscriptions checked', {
    outcome,
    expected: plan.expected.length,
    ours: plan.ours.length,
    foreign: plan.foreign.length,
    recreated: recreated.length,
    registered: registered.length,
    stillMissing: stillMissing.length,
    ...(stillMissing.length > 0 ? { needsAttention: ATTENTION.subscriptionMissing } : {}),
  });
  return { outcome, plan, recreated, registered, stillMissing, ...(error ? { error } : {}) };
}
