import { randomUUID } from 'node:crypto';
import { errors } from './errors.js';
import type { StoredResource } from '../store/types.js';
import type { RequestContext } from './context.js';

export const newEtag = (): string => `"${randomUUID()}"`;

const bare = (tag: string) =>
  tag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');

function matchesAny(header: string, etag: string): boolean {
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

/**
 * If-Match / If-None-Match as ARM applies them. `create` is true for PUT, where If-Match on a missing resource
 * fails; PATCH and DELETE answer 404 / 204 for a missing resource whatever the headers say.
 */
export function checkPreconditions(
  ctx: RequestContext,
  existing: StoredResource | undefined,
  id: string,
  create: boolean,
): void {
  const ifMatch = ctx.header('if-match');
  const ifNoneMatch = ctx.header('if-none-match');
  if (ifMatch !== undefined) {
    if (!existing) {
      if (create) throw errors.preconditionFailed(id);
    } else if (!matchesAny(ifMatch, existing.etag)) throw errors.preconditionFailed(id);
  }
  if (ifNoneMatch !== undefined && existing && matchesAny(ifNoneMatch, existing.etag))
    throw errors.preconditionFailed(id);
}

/** Whether the client made the write conditional (then a lost race is a 412, not a retry). */
export const isConditional = (ctx: RequestContext) =>
  ctx.header('if-match') !== undefined || ctx.header('if-none-match') !== undefined;
