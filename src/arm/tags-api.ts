import type { Reply } from './engine.js';
import type { RequestContext } from './context.js';
import type { StoredResource } from '../store/types.js';
import type { Store } from '../store/types.js';
import { ArmError, errors } from './errors.js';
import { keyOf } from './ids.js';
import { newEtag } from './etag.js';
import { checkTags } from './tags.js';
import { isPlainObject } from './merge-patch.js';
import { REQUEST_COMMIT_ATTEMPTS, commitWithRetry } from './lro/index.js';

/**
 * ARM's tags API at a resource's scope, `{resourceId}/providers/Microsoft.Resources/tags/default` (what `az tag` and
 * Terraform use): GET the tags, PUT to replace them, PATCH with `operation` Merge | Replace | Delete, DELETE to remove
 * them all. It writes the resource's `tags` as a PATCH would (new ETag, systemData.lastModified*), synchronously.
 */

/** The path that names the tags of the resource before it. */
export const TAGS_SUFFIX = /\/providers\/microsoft\.resources\/tags\/default$/i;

export interface TagsDeps {
  /** A resource by key, operations on it that are due finished first. */
  load(key: string): Promise<StoredResource | undefined>;
  store: Store;
}

type Tags = Record<string, string>;

export async function tagsAtScope(
  method: string,
  resourceId: string,
  body: unknown,
  ctx: RequestContext,
  deps: TagsDeps,
): Promise<Reply> {
  const id = `${resourceId}/providers/Microsoft.Resources/tags/default`;
  const view = (r: StoredResource): Reply => ({
    status: 200,
    body: { id, name: 'default', type: 'Microsoft.Resources/tags', properties: { tags: tagsOf(r) } },
  });
  if (method === 'GET') return view(await existing(resourceId, deps));
  const change = changeOf(method, body);
  return commitWithRetry(
    async () => {
      const r = await existing(resourceId, deps);
      if (r.internal.pendingOperation) {
        const phase = String((r.body.properties as { provisioningState?: unknown } | undefined)?.provisioningState);
        throw errors.operationInProgress(r.id, phase);
      }
      const tags = change(tagsOf(r));
      checkTags(tags);
      const now = ctx.now().toISOString();
      const next: StoredResource = {
        ...r,
        body: { ...r.body, tags },
        systemData: {
          ...r.systemData,
          lastModifiedBy: ctx.principal.name,
          lastModifiedByType: ctx.principal.type,
          lastModifiedAt: now,
        },
        etag: newEtag(),
        updatedAt: now,
      };
      if (!(await deps.store.commit([{ op: 'update', resource: next, ifEtag: r.etag }]))) return undefined;
      return method === 'DELETE' ? { status: 200 } : view(next);
    },
    {
      attempts: REQUEST_COMMIT_ATTEMPTS,
      exhausted: () => errors.conflict('The resource is being changed by other requests; retry the request.'),
    },
  );
}

const tagsOf = (r: StoredResource): Tags => ({ ...((r.body.tags ?? {}) as Tags) });

async function existing(resourceId: string, deps: TagsDeps): Promise<StoredResource> {
  const r = await deps.load(keyOf(resourceId));
  if (r) return r;
  const parts = resourceId.split('/');
  const rg = parts[4] ?? '';
  if (parts.length <= 5 || !(await deps.store.get(keyOf(parts.slice(0, 5).join('/')))))
    throw errors.resourceGroupNotFound(rg);
  const after = resourceId.slice(resourceId.toLowerCase().indexOf('/providers/') + '/providers/'.length);
  throw errors.resourceNotFound(after, rg);
}

/** What the request does to the current tags. */
function changeOf(method: string, body: unknown): (current: Tags) => Tags {
  if (method === 'DELETE') return () => ({});
  if (!isPlainObject(body)) throw errors.bodyRequired();
  const given = requestTags(body);
  if (method === 'PUT') return () => given;
  const operation = String(body.operation ?? '');
  switch (operation.toLowerCase()) {
    case 'merge':
      return (current) => ({ ...current, ...given });
    case 'replace':
      return () => given;
    case 'delete':
      // By name, or by name and value when a value is given.
      return (current) =>
        Object.fromEntries(
          Object.entries(current).filter(([k, v]) => {
            const match = Object.entries(given).find(([gk]) => gk.toLowerCase() === k.toLowerCase());
            return !match || (match[1] !== '' && match[1] !== v);
          }),
        );
    default:
      throw new ArmError(
        400,
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: 'operation' must be Merge, Replace or ` +
          `Delete, not '${operation.slice(0, 40)}'.`,
        'operation',
      );
  }
}

function requestTags(body: Record<string, unknown>): Tags {
  const properties = body.properties;
  const tags = isPlainObject(properties) ? properties.tags : undefined;
  if (!isPlainObject(tags) || Object.values(tags).some((v) => typeof v !== 'string' && v !== null))
    throw errors.invalidContent([
      { path: 'properties.tags', message: "'properties.tags' must be an object of string values." },
    ]);
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, v ?? ''])) as Tags;
}
