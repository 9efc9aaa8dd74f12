import type { RequestContext } from './context.js';
import { errors } from './errors.js';

/** Resources per page of a keyset-paged list. */
export const PAGE_SIZE = 100;

/** The absolute URL of the next page: the request's own URL with `param` set to `token`. */
export function nextLink(ctx: RequestContext, param: string, token: string): string {
  const next = new URL(ctx.url.pathname + ctx.url.search, ctx.origin);
  next.searchParams.set(param, token);
  return next.toString();
}

/** A whole-number query parameter (-1 allowed, as the swagger's defaults use it); undefined when absent. */
export function wholeQuery(raw: string | null | undefined, name: string): number | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -1)
    throw errors.badRequest(`The query parameter '${name}' must be a whole number, not '${raw}'.`, name);
  return n;
}

/** A keyset continuation token: the last key shown, opaque to the client. */
export const encodeToken = (key: string) => Buffer.from(key).toString('base64url');

export function decodeToken(token: string | null): string | undefined {
  if (!token) return undefined;
  const key = Buffer.from(token, 'base64url').toString();
  if (!key.startsWith('/subscriptions/'))
    throw errors.badRequest(`The continuation token '${token}' is not valid.`, '$skip');
  return key;
}
