import type { ArchivedWebhook } from '../../shared/archive/archive';
import type { OrderRecord } from '../../shared/domain/order-record';
import { PROVIDERS } from '../../shared/queue/message';
import type { DlqEntry } from '../cli/dlq';
import type { ScanReport } from '../cli/dlq-scan';
import { describeScan } from '../cli/dlq-scan';
import { barChart, meter } from './charts';
import type { OrderView, Overview, ProviderFigures, TimelineItem } from './data';
import { Html, html, query } from './html';

/** What every page needs besides its data. */
export interface PageContext {
  csrf: string;
  readOnly: boolean;
  /** One line: what the console talks to (local mode, or the stack and region). */
  targetLabel: string;
  /** The path (and query) of this page, to come back to after an action. */
  path: string;
  flash?: string | undefined;
}

type Nav = 'overview' | 'orders' | 'dlq' | 'none';

export function layout(ctx: PageContext, title: string, nav: Nav, body: Html): string {
  const link = (href: string, name: Nav, text: string) =>
    html`<a href="${href}"${name === nav ? new Html(' aria-current="page"') : ''}>${text}</a>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>${title} · order-webhooks console</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body><header><span class="brand">order-webhooks</span><nav>${link('/', 'overview', 'Overview')}${link('/orders', 'orders', 'Orders')}${link('/dlq', 'dlq', 'Dead-letter queue')}</nav><span class="target">${ctx.targetLabel}${ctx.readOnly ? html` · <strong>read-only</strong>` : ''}</span></header>
<main>${ctx.flash ? html`<p class="flash" role="status">${ctx.flash}</p>` : ''}<h1>${title}</h1>${body}</main></body></html>`
    .value;
}

export function errorPage(ctx: PageContext, title: string, message: string): string {
  return layout(
    ctx,
    title,
    'none',
    html`<p class="error">${message}</p><p><a href="/">Back to the overview</a></p>`,
  );
}

/** A short, human age ("3 min", "2 h 5 min", "4 d"). */
export function age(fromIso: string | undefined, now: number): string {
  if (!fromIso) return '-';
  const ms = now - Date.parse(fromIso);
  if (Number.isNaN(ms)) return '-';
  const min = Math.floor(ms / 60_000);
  if (min < 1) return `${Math.max(0, Math.floor(ms / 1000))} s`;
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

function errorNote(what: string, error: Error): Html {
  return html`<p class="error">${what}: ${error.name}: ${error.message}</p>`;
}

/** A POST form for an action; disabled (with the reason) when the console is read-only. */
function actionForm(
  ctx: PageContext,
  action: string,
  fields: Record<string, string | string[]>,
  label: string,
  back = ctx.path,
): Html {
  if (ctx.readOnly)
    return html`<button type="button" disabled title="the console runs with --read-only">${label}</button>`;
  const inputs = Object.entries(fields).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map(
      (v) => html`<input type="hidden" name="${name}" value="${v}">`,
    ),
  );
  return html`<form method="post" action="${action}" class="inline"><input type="hidden" name="csrf" value="${ctx.csrf}"><input type="hidden" name="back" value="${back}">${inputs}<button type="submit">${label}</button></form>`;
}

function figuresTable(rows: ProviderFigures[], o: Overview, label: string): Html {
  return html`<table class="figures"><caption>${label}</caption><thead><tr><th>Provider</th><th>Received</th><th>Applied</th><th title="received and archived, but in no order's history and not dead-lettered">Repeats / no change</th><th>Dead-lettered</th><th>In the DLQ now</th><th>Oldest in the DLQ</th></tr></thead><tbody>${rows.map(
    (r) => {
      const dlq = o.dlqByProvider[r.provider];
      return html`<tr><td>${r.provider}</td><td class="num">${r.received}</td><td class="num">${r.applied}</td><td class="num">${r.noChange}</td><td class="num${r.failed > 0 ? ' bad' : ''}">${r.failed}</td><td class="num${dlq?.count ? ' bad' : ''}">${dlq?.count ?? 0}</td><td>${age(dlq?.oldestAt, o.now)}</td></tr>`;
    },
  )}</tbody></table>`;
}

const CHECK_MARK: Record<string, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skipped: 'skip' };

export function overviewPage(ctx: PageContext, o: Overview): string {
  const depthRow = (name: string, d: Overview['queue']) =>
    d instanceof Error
      ? html`<tr><th>${name}</th><td colspan="3" class="error">${d.name}: ${d.message}</td></tr>`
      : html`<tr><th>${name}</th><td class="num">${d.visible}</td><td class="num">${d.inFlight}</td><td class="num">${d.delayed}</td></tr>`;
  const queues = html`<table class="figures"><caption>Queues now</caption><thead><tr><th></th><th>Waiting</th><th>In flight</th><th>Delayed</th></tr></thead><tbody>${depthRow('main', o.queue)}${depthRow('dead-letter', o.dlq)}</tbody></table>`;
  const firstHour = Math.floor(o.now / 3_600_000) * 3_600_000 - 23 * 3_600_000;
  const charts = html`<section><h2>Received per hour, last 24 hours</h2><div class="charts">${PROVIDERS.map(
    (p) =>
      html`<figure><figcaption>${p}: ${o.hourly[p].reduce((a, b) => a + b, 0)}</figcaption>${barChart(
        o.hourly[p],
        {
          title: `${p}: webhooks received per hour`,
          label: (i, v) => `${new Date(firstHour + i * 3_600_000).toISOString().slice(11, 16)} UTC: ${v}`,
        },
      )}</figure>`,
  )}</div></section>`;
  const checks =
    o.checks instanceof Error
      ? errorNote('the checks could not run', o.checks)
      : html`<table class="checks"><thead><tr><th></th><th>Check</th><th>Result</th></tr></thead><tbody>${o.checks.results.map(
          (r) =>
            html`<tr class="${r.status}"><td class="mark">${CHECK_MARK[r.status] ?? r.status}</td><td>${r.name}</td><td><span class="detail">${r.detail}</span>${r.measure ? html` ${meter(r.measure.used, r.measure.limit, `${r.measure.used} of ${r.measure.limit}`)}` : ''}${r.fix && r.status !== 'ok' ? html`<br><span class="fix">fix: ${r.fix}</span>` : ''}</td></tr>`,
        )}</tbody></table><p class="muted">Checked ${age(new Date(o.checks.at).toISOString(), o.now)} ago (the checks call ReCharge, so they run at most every 5 minutes). <a href="/?checks=fresh">Check again</a></p>`;
  const orders =
    o.orders instanceof Error
      ? errorNote('orders', o.orders)
      : html`<p>${o.orders.total} order(s) in the ledger: ${Object.entries(o.orders.byStatus)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([s, n]) => `${s} ${n}`)
          .join(', ')}</p>`;
  return layout(
    ctx,
    'Overview',
    'overview',
    html`<div class="grid">${figuresTable(o.hour, o, 'Last hour')}${figuresTable(o.day, o, 'Last 24 hours')}${queues}</div>
${o.archive ? errorNote('the archive could not be read (received counts are missing)', o.archive) : ''}
${o.dlqScan instanceof Error ? errorNote('the dead-letter queue could not be read', o.dlqScan) : html`<p class="muted">${o.dlqScan ? describeScan(o.dlqScan) : 'the dead-letter queue reports no message'}</p>`}
${charts}<section><h2>Orders</h2>${orders}</section>
<section><h2>Health: subscriptions, ReCharge budget, reconcile, alarms</h2>${checks}</section>`,
  );
}

function orderLink(o: Pick<OrderRecord, 'provider' | 'providerOrderId'>): string {
  return `/order${query({ provider: o.provider, id: o.providerOrderId })}`;
}

export function ordersPage(
  ctx: PageContext,
  search: { q?: string | undefined; provider?: string | undefined },
  orders: OrderRecord[],
  total: number | undefined,
): string {
  const options = [
    html`<option value="">any provider</option>`,
    ...PROVIDERS.map(
      (p) => html`<option value="${p}"${search.provider === p ? new Html(' selected') : ''}>${p}</option>`,
    ),
  ];
  const rows = orders.map(
    (o) =>
      html`<tr><td>${o.provider}</td><td><a href="${orderLink(o)}">${o.providerOrderId}</a></td><td>${o.status ?? '-'}</td><td>${o.paymentStatus}</td><td>${o.fulfilmentStatus}</td><td>${o.externalId ?? '-'}</td><td>${o.externalNumber ?? '-'}</td><td>${o.updatedAt}</td></tr>`,
  );
  return layout(
    ctx,
    'Orders',
    'orders',
    html`<form method="get" action="/orders" class="search" role="search"><label>Order id, external id or number <input type="search" name="q" value="${search.q ?? ''}" autofocus></label> <select name="provider" aria-label="provider">${options}</select> <button type="submit">Find</button></form>
${search.q ? html`<p>${orders.length} order(s) match <code>${search.q}</code>.</p>` : html`<p>The ${orders.length} most recent of ${total ?? orders.length} order(s).</p>`}
<table class="list"><thead><tr><th>Provider</th><th>Order id</th><th>Status</th><th>Payment</th><th>Fulfilment</th><th>External id</th><th>Number</th><th>Updated</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function timelineRow(ctx: PageContext, view: OrderView, item: TimelineItem): Html {
  const { order } = view;
  if (item.delivery) {
    const d = item.delivery;
    const body = `/delivery${query({ provider: order.provider, key: d.deliveryKey, order: order.providerOrderId })}`;
    return html`<tr class="delivery"><td>${item.at}</td><td>delivery</td><td><strong>${d.topic}</strong> <span class="muted">verified: ${d.verification || '-'} · ${d.bytes} bytes</span><br><code class="key">${d.deliveryKey}</code></td><td class="outcome">${d.outcome}</td><td><a href="${body}">body</a> ${actionForm(ctx, '/actions/replay', { provider: order.provider, key: d.deliveryKey }, 'Replay')}</td></tr>`;
  }
  if (item.change) {
    const h = item.change;
    const what =
      h.from || h.to
        ? `${h.field}: ${h.from ?? '-'} → ${h.to ?? '-'}`
        : h.field === 'details'
          ? 'details'
          : h.field;
    const extra = [
      h.providerStatus && `provider status ${h.providerStatus}`,
      h.transactionId && `transaction ${h.transactionId}`,
      h.origin && `from a ${h.origin}`,
    ]
      .filter(Boolean)
      .join(', ');
    return html`<tr class="change"><td>${item.at}</td><td>state change</td><td>${what} <span class="muted">(${h.topic}${extra ? `; ${extra}` : ''})</span></td><td class="outcome">${h.outcome}</td><td></td></tr>`;
  }
  if (item.effect) {
    const e = item.effect;
    const result = e.result === undefined ? '' : JSON.stringify(e.result);
    const when = e.status === 'COMPLETED' ? '' : e.at ? `held until ${e.at}` : '';
    return html`<tr class="effect"><td>${item.at || '-'}</td><td>effect</td><td><strong>${e.step}</strong>${e.qualifier ? html` <span class="muted">[${e.qualifier}]</span>` : ''} ${result ? html`<code>${result}</code>` : ''} ${when ? html`<span class="muted">${when}</span>` : ''}</td><td class="outcome">${e.status}</td><td></td></tr>`;
  }
  const d = item.dead as DlqEntry;
  return html`<tr class="dead"><td>${item.at || '-'}</td><td>dead-letter</td><td><a href="/dlq/message${query({ id: d.messageId })}">${d.failureStep ? `[${d.failureStep}] ` : ''}${d.failureReason}</a> <span class="muted">${d.failureClass ?? ''} · ${d.topic ?? ''}</span></td><td class="outcome bad">in the DLQ</td><td>${actionForm(ctx, '/actions/redrive', { id: d.messageId }, 'Redrive')}</td></tr>`;
}

export function orderPage(ctx: PageContext, view: OrderView): string {
  const { order } = view;
  const facts: [string, unknown][] = [
    ['Provider', order.provider],
    ['Order id', order.providerOrderId],
    ['Status', order.status ?? '-'],
    ['Payment', order.paymentStatus],
    ['Fulfilment', order.fulfilmentStatus],
    ['Subscription', order.subscriptionStatus ?? '-'],
    ['Provider status', order.providerStatus ?? '-'],
    ['External id', order.externalId ?? '-'],
    ['Number', order.externalNumber ?? '-'],
    ['Created', order.createdAt],
    ['Updated', order.updatedAt],
  ];
  return layout(
    ctx,
    `${order.provider} order ${order.providerOrderId}`,
    'orders',
    html`<dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
${view.dead.length > 0 ? html`<p class="flash bad">${view.dead.length} message(s) of this order in the dead-letter queue. ${actionForm(ctx, '/actions/redrive', { id: view.dead.map((d) => d.messageId) }, 'Redrive them')}</p>` : ''}
${view.archiveError ? errorNote('deliveries unknown: the archive could not be read', view.archiveError) : ''}
${view.dlqError ? errorNote('the dead-letter queue could not be read', view.dlqError) : ''}
<h2>Timeline</h2><p class="muted">${view.deliveries.length} delivery(ies), ${order.history.length} state change(s), ${view.effects.length} effect(s), oldest first. Effects in progress have no time yet and come last.</p>
<table class="timeline"><thead><tr><th>Time (UTC)</th><th>Kind</th><th>What</th><th>Outcome</th><th></th></tr></thead><tbody>${view.timeline.map((item) => timelineRow(ctx, view, item))}</tbody></table>`,
  );
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function deliveryPage(
  ctx: PageContext,
  shown: { key: string; webhook: ArchivedWebhook; received: number },
  orderId: string | undefined,
): string {
  const { body, ...meta } = shown.webhook;
  return layout(
    ctx,
    `Delivery ${meta.topic}`,
    'orders',
    html`<dl class="facts">${Object.entries(meta).map(([k, v]) => html`<div><dt>${k}</dt><dd>${String(v)}</dd></div>`)}<div><dt>archive key</dt><dd>${shown.key}</dd></div><div><dt>bytes</dt><dd>${Buffer.byteLength(body)}</dd></div></dl>
${orderId ? html`<p><a href="${`/order${query({ provider: meta.provider, id: orderId })}`}">Back to the order</a></p>` : ''}
<h2>Body as received</h2><pre class="body">${pretty(body)}</pre>`,
  );
}

function dlqRow(ctx: PageContext, e: DlqEntry, now: number): Html {
  return html`<tr><td><a href="/dlq/message${query({ id: e.messageId })}">${e.messageId}</a></td><td>${e.provider ?? '-'}</td><td>${e.topic ?? '-'}</td><td>${e.failureStep ?? '-'}</td><td>${e.failureClass ?? '-'}</td><td>${age(e.receivedAt ?? e.failedAt, now)}</td><td>${actionForm(ctx, '/actions/redrive', { id: e.messageId }, 'Redrive')}</td></tr>`;
}

/**
 * The group a dead-letter message falls in: its step and reason with ids masked (long digit runs,
 * UUIDs, long hex), so "recharge /orders/123 answered 404" for many orders is one group.
 */
export function reasonGroup(e: Pick<DlqEntry, 'failureStep' | 'failureReason'>): string {
  const reason = e.failureReason
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '*')
    .replace(/\b[0-9a-f]{16,}\b/gi, '*')
    .replace(/\d{5,}/g, '*');
  return `${e.failureStep ? `[${e.failureStep}] ` : ''}${reason}`;
}

export function dlqPage(ctx: PageContext, entries: DlqEntry[], scan: ScanReport, now: number): string {
  const groups = new Map<string, DlqEntry[]>();
  for (const e of entries) {
    const reason = reasonGroup(e);
    groups.set(reason, [...(groups.get(reason) ?? []), e]);
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  const chart =
    sorted.length > 1
      ? barChart(
          sorted.map(([, g]) => g.length),
          { title: 'messages per reason', label: (i, v) => `${sorted[i]?.[0] ?? ''}: ${v}` },
        )
      : '';
  return layout(
    ctx,
    'Dead-letter queue',
    'dlq',
    html`<p>${entries.length} message(s) in ${groups.size} group(s) by reason. ${entries.length > 0 ? actionForm(ctx, '/actions/redrive', { id: entries.map((e) => e.messageId) }, `Redrive all ${entries.length}`) : ''}</p>
<p class="muted">${describeScan(scan)}</p>${chart}
${sorted.map(
  ([reason, group]) =>
    html`<section class="group"><h2><span class="count">${group.length}</span> ${reason}</h2>${actionForm(ctx, '/actions/redrive', { id: group.map((e) => e.messageId) }, `Redrive these ${group.length}`)}
<table class="list"><thead><tr><th>Message id</th><th>Provider</th><th>Topic</th><th>Step</th><th>Class</th><th>Age</th><th></th></tr></thead><tbody>${group.map((e) => dlqRow(ctx, e, now))}</tbody></table></section>`,
)}`,
  );
}

export function dlqMessagePage(ctx: PageContext, e: DlqEntry, now: number): string {
  const { body, earlierFailure, ...meta } = e;
  return layout(
    ctx,
    `Dead-letter message ${e.messageId}`,
    'dlq',
    html`<dl class="facts">${Object.entries(meta).map(([k, v]) => html`<div><dt>${k}</dt><dd>${v === undefined ? '-' : String(v)}</dd></div>`)}<div><dt>age</dt><dd>${age(e.receivedAt ?? e.failedAt, now)}</dd></div>${earlierFailure ? html`<div><dt>before a redrive</dt><dd>${earlierFailure.failureClass ?? '-'} [${earlierFailure.failureStep ?? '-'}] ${earlierFailure.failureReason ?? '-'} at ${earlierFailure.failedAt ?? '-'}</dd></div>` : ''}</dl>
<p>${actionForm(ctx, '/actions/redrive', { id: e.messageId }, 'Redrive this message', '/dlq')}</p>
<h2>Body</h2><pre class="body">${pretty(body)}</pre>`,
  );
}

/** The confirmation every action asks for: what it will do, and how many. */
export function confirmPage(
  ctx: PageContext,
  action: string,
  question: string,
  fields: Record<string, string | string[]>,
  back: string,
  items: string[],
): string {
  const inputs = Object.entries(fields).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map(
      (v) => html`<input type="hidden" name="${name}" value="${v}">`,
    ),
  );
  return layout(
    ctx,
    'Confirm',
    'none',
    html`<form method="post" action="${action}" class="confirm"><p class="question">${question}</p>${items.length > 0 ? html`<ul>${items.slice(0, 50).map((i) => html`<li><code>${i}</code></li>`)}${items.length > 50 ? html`<li>and ${items.length - 50} more</li>` : ''}</ul>` : ''}<input type="hidden" name="csrf" value="${ctx.csrf}"><input type="hidden" name="back" value="${back}"><input type="hidden" name="confirmed" value="yes">${inputs}<button type="submit" class="primary">Yes, do it</button> <a href="${back}">Cancel</a></form>`,
  );
}

export const CONSOLE_CSS = `
:root{color-scheme:light dark;--fg:#1d2433;--muted:#5d6779;--bg:#fff;--panel:#f4f6fa;--line:#dde2ea;--accent:#2458c6;--bad:#b42318;--warn:#9a6700;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa4b5;--bg:#14171c;--panel:#1c2129;--line:#2d3440;--accent:#7aa2f7;--bad:#ff7b72;--warn:#d29922;--ok:#56d364}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.2rem;border-bottom:1px solid var(--line);background:var(--panel)}
.brand{font-weight:700}nav a{margin-right:1rem;color:var(--fg);text-decoration:none}nav a[aria-current]{color:var(--accent);font-weight:600;border-bottom:2px solid var(--accent)}
.target{margin-left:auto;color:var(--muted);font-size:12px}main{padding:1rem 1.2rem;max-width:1200px}h1{font-size:20px;margin:.2rem 0 1rem}h2{font-size:15px;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;color:var(--muted);font-size:12px}
caption{text-align:left;font-weight:600;padding:.2rem 0}.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:var(--bad)}.muted{color:var(--muted);font-size:12px}
.grid{display:grid;grid-template-columns:minmax(0,1fr);gap:.6rem;max-width:900px}.figures th{white-space:nowrap}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure{margin:0}figcaption{font-size:12px;color:var(--muted)}
.chart .bar{fill:var(--accent)}.chart .bar.zero{fill:var(--line)}.chart .track{fill:var(--line)}.chart .meter{fill:var(--ok)}.chart .meter.high{fill:var(--warn)}.chart .meter.full{fill:var(--bad)}
.checks .mark{font-weight:700;width:3.5rem}.checks tr.ok .mark{color:var(--ok)}.checks tr.warn .mark{color:var(--warn)}.checks tr.fail .mark{color:var(--bad)}.checks tr.skipped .mark{color:var(--muted)}.fix{color:var(--muted)}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.4rem 1rem;margin:0 0 1rem}.facts div{background:var(--panel);padding:.4rem .6rem;border-radius:4px}dt{font-size:11px;color:var(--muted)}dd{margin:0;word-break:break-all}
.timeline td:first-child{white-space:nowrap;font-variant-numeric:tabular-nums;color:var(--muted);font-size:12px}.timeline td:nth-child(2){white-space:nowrap;font-size:12px;color:var(--muted)}
.timeline tr.delivery td:nth-child(2){color:var(--accent)}.timeline tr.dead td{background:color-mix(in srgb,var(--bad) 8%,transparent)}.outcome{min-width:7rem}.key{font-size:11px;color:var(--muted)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}pre.body{background:var(--panel);padding:.8rem;overflow:auto;max-height:70vh;font:12px ui-monospace,monospace}
form.inline{display:inline}button{font:inherit;padding:.2rem .7rem;border:1px solid var(--line);border-radius:4px;background:var(--panel);color:var(--fg);cursor:pointer}button:hover{border-color:var(--accent)}button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}button[disabled]{opacity:.5;cursor:not-allowed}
.flash{padding:.5rem .8rem;background:var(--panel);border-left:3px solid var(--accent)}.flash.bad{border-left-color:var(--bad)}.error{color:var(--bad)}.question{font-size:16px;font-weight:600}
.search input{width:22rem;font:inherit;padding:.25rem .4rem}.search select{font:inherit;padding:.2rem}.group h2 .count{display:inline-block;min-width:2rem;text-align:center;background:var(--bad);color:#fff;border-radius:10px;padding:0 .4rem;margin-right:.3rem}
`;
