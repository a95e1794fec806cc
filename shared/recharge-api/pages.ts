import * as z from 'zod';
import { TransientError } from '../errors';
import type { RechargeAnswer, RechargeClient } from './client';

/** ReCharge's largest page (`limit`), used for every list call: fewest calls against the rate limit. */
export const RECHARGE_PAGE_LIMIT = 250;

/** Bodies of list answers: the items under the resource's key, and in 2021-11 a `next_cursor`. */
const listBody = z.record(z.string(), z.unknown());
const itemsSchema = z.array(z.unknown());
const cursorSchema = z.string().nullish().catch(undefined);

/** The `rel="next"` target of a `Link` header (RFC 8288), if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (match?.[2] && /\brel\s*=\s*"?next"?/i.test(match[2])) return match[1];
  }
  return undefined;
}

/** Where the next page is: 2021-11 gives a cursor in the body, 2021-01 a `Link` header. */
export function nextPagePath(
  answer: RechargeAnswer,
  resource: string,
  cursor: string | null | undefined,
): string | undefined {
  if (cursor) return `/${resource}?cursor=${encodeURIComponent(cursor)}&limit=${RECHARGE_PAGE_LIMIT}`;
  return nextLink(answer.headers.get('link'));
}

/**
 * Pages of a ReCharge list endpoint, one call per page, in both pagination styles: a body cursor
 * (2021-11; the next call repeats no filter, as ReCharge asks) or `Link: <...>; rel="next"`
 * (2021-01, followed only within the configured API URL). Each item is returned as ReCharge sent
 * it. A body without the list is a TransientError (a page we cannot read fails the whole listing).
 */
export async function* listPages(
  client: RechargeClient,
  resource: string,
  firstPath: string,
  deadline: number,
): AsyncGenerator<unknown[]> {
  let path: string | undefined = firstPath;
  const seen = new Set<string>();
  while (path) {
    if (seen.has(path)) throw new TransientError(`recharge /${resource}: pagination repeated a page`);
    seen.add(path);
    const answer = await client.call('GET', path, undefined, deadline);
    const body = listBody.safeParse(answer.body);
    const items = itemsSchema.safeParse(body.success ? body.data[resource] : undefined);
    if (!body.success || !items.success)
      throw new TransientError(`recharge /${resource}: list answer without "${resource}"`);
    yield items.data;
    // An empty page ends the listing even if a cursor came with it.
    const cursor = cursorSchema.parse(body.data.next_cursor);
    path = items.data.length === 0 ? undefined : nextPagePath(answer, resource, cursor);
  }
}
