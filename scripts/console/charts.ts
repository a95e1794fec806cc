import { Html, html } from './html';

/**
 * A small bar chart as inline SVG (no script, no style attribute: the page's CSP allows neither):
 * one bar per value, the tallest at full height, each with a tooltip from `label`.
 */
export function barChart(
  values: readonly number[],
  options: {
    label: (index: number, value: number) => string;
    width?: number;
    height?: number;
    title: string;
  },
): Html {
  const width = options.width ?? 240;
  const height = options.height ?? 40;
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, values.length);
  const bar = Math.max(1, step - 2);
  const bars = values.map((v, i) => {
    const h = v === 0 ? 1 : Math.max(2, Math.round((v / max) * (height - 2)));
    const cls = v === 0 ? 'bar zero' : 'bar';
    return html`<rect class="${cls}" x="${(i * step).toFixed(1)}" y="${height - h}" width="${bar.toFixed(1)}" height="${h}"><title>${options.label(i, v)}</title></rect>`;
  });
  return html`<svg class="chart" role="img" aria-label="${options.title}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${options.title}</title>${bars}</svg>`;
}

/** A horizontal proportion bar (e.g. a budget in use), as inline SVG. */
export function meter(used: number, limit: number, title: string): Html {
  const width = 120;
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  const cls = share >= 1 ? 'meter full' : share >= 0.75 ? 'meter high' : 'meter';
  return html`<svg class="chart" role="img" aria-label="${title}" viewBox="0 0 ${width} 10" width="${width}" height="10" xmlns="http://www.w3.org/2000/svg"><title>${title}</title><rect class="track" x="0" y="0" width="${width}" height="10"></rect><rect class="${cls}" x="0" y="0" width="${Math.round(share * width)}" height="10"></rect></svg>`;
}

export { Html };
