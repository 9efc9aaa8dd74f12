import { errors } from '../../../arm/errors.js';
import { PAGE_SIZE, nextLink, wholeQuery } from '../../../arm/paging.js';
import type { ListRequest } from '../../../arm/operations/templates.js';
import type { Reply } from '../../../arm/lro/index.js';

type Doc = Record<string, unknown>;

/** The orders a pool-family list can be sorted in. */
export const ORDERS = ['CreatedAtDesc', 'CreatedAtAsc', 'UpdatedAtDesc', 'UpdatedAtAsc'];

/**
 * The inference-pool family's list operation: `count` (page size), `$skip` (an offset), `tags` and `properties`
 * filters (`k1,k2=v`: the key present, with that value when given) and `orderBy`.
 */
export async function poolQueryList({ ctx, rows: all, render }: ListRequest): Promise<Reply> {
  const q = ctx.url.searchParams;
  const count = intParam(q.get('count'), 'count', PAGE_SIZE) || PAGE_SIZE;
  const skip = intParam(q.get('$skip'), '$skip', 0);
  const orderBy = q.get('orderBy') ?? q.get('$orderBy') ?? undefined;
  if (orderBy !== undefined && !ORDERS.includes(orderBy))
    throw errors.badRequest(
      `The orderBy value '${orderBy}' is not supported. Use one of ${ORDERS.join(', ')}.`,
      'orderBy',
    );
  const tagFilter = filterPairs(q.get('tags'));
  const propertyFilter = filterPairs(q.get('properties'));
  let rows = await all();
  rows = rows.filter((r) => {
    const tags = (r.body.tags ?? {}) as Record<string, string>;
    const list = ((r.body.properties as Doc | undefined)?.properties ?? []) as { key: string; value: string }[];
    const props = new Map(list.map((kv) => [kv.key, kv.value]));
    return (
      tagFilter.every(([k, v]) => k in tags && (v === undefined || tags[k] === v)) &&
      propertyFilter.every(([k, v]) => props.has(k) && (v === undefined || props.get(k) === v))
    );
  });
  if (orderBy) {
    const field = orderBy.startsWith('Created') ? 'createdAt' : 'updatedAt';
    const dir = orderBy.endsWith('Desc') ? -1 : 1;
    rows.sort((a, b) => dir * (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : a.key < b.key ? -1 : 1));
  }
  const shown = rows.slice(skip, skip + count);
  const body: Doc = { value: await render(shown) };
  if (skip + count < rows.length) body.nextLink = nextLink(ctx, '$skip', String(skip + count));
  return { status: 200, body };
}

function intParam(raw: string | null, name: string, fallback: number): number {
  const n = wholeQuery(raw, name);
  return n === undefined || n < 0 ? fallback : n;
}

/** `k1,k2=v` → [[k1, undefined], [k2, 'v']]. */
function filterPairs(raw: string | null): [string, string | undefined][] {
  if (!raw) return [];
  return raw
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      return i < 0 ? [pair.trim(), undefined] : [pair.slice(0, i).trim(), pair.slice(i + 1)];
    });
}
