import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Reply } from './engine.js';
import type { RequestContext } from './context.js';
import type { ResourceType } from './resource-type.js';
import type { TypeRegistry } from './registry.js';
import type { Store, StoredResource } from '../store/types.js';
import { ArmError, errors } from './errors.js';
import { keyOf } from './ids.js';
import { nextLink, encodeToken, decodeToken } from './paging.js';
import { resourceGroups } from './resource-groups.js';
import { parseResourceFilter } from './filter.js';
import { REGIONS as AZURE_REGIONS } from './regions.js';

/**
 * Azure Resource Manager's own endpoints around a resource provider: the generic resource lists
 * (`/resources`, what `ResourceManagementClient.resources.list*` call) and the provider registry
 * (`/providers/{namespace}`, where tools look up resource types and their api-versions).
 */
export interface GenericDeps {
  store: Store;
  registry: TypeRegistry;
  context(req: FastifyRequest, t: ResourceType | undefined, versions: readonly string[]): RequestContext;
  send(reply: FastifyReply, r: Reply): FastifyReply;
}

const RESOURCES_VERSIONS = Object.keys(resourceGroups.versions);
const PAGE_SIZE = 1000;
const REGIONS = AZURE_REGIONS.map((r) => r.name);

type Params = Record<string, string>;

export function genericRoutes(app: FastifyInstance, deps: GenericDeps): void {
  const { store, registry, context, send } = deps;
  const types = registry.providerTypes;
  const namespaces = registry.namespaces;

  async function list(req: FastifyRequest, reply: FastifyReply, scopeKey: string) {
    const ctx = context(req, resourceGroups, RESOURCES_VERSIONS);
    const q = ctx.url.searchParams;
    const asked = q.get('$top') ? Number(q.get('$top')) : PAGE_SIZE;
    if (!Number.isInteger(asked) || asked < 1)
      throw errors.badRequest(`The $top value '${q.get('$top')}' must be a positive whole number.`, '$top');
    // A larger $top is served in pages of PAGE_SIZE with a nextLink, as ARM pages its lists.
    const top = Math.min(asked, PAGE_SIZE);
    const filter = parseResourceFilter(q.get('$filter'));
    // `resourceGroup eq '…'` (what `az resource list -g` sends) reads that group only.
    if (filter.resourceGroup && scopeKey.split('/').length === 3)
      scopeKey = keyOf(`${scopeKey}/resourceGroups/${filter.resourceGroup}`);
    const expand = new Set((q.get('$expand') ?? '').split(',').map((s) => s.trim().toLowerCase()));
    const after = decodeToken(q.get('$skipToken'));
    // Every type's rows after the token, merged in key order: one page across types.
    const rows: [StoredResource, ResourceType][] = [];
    for (const t of types) {
      for (const r of await store.listBelow(scopeKey, t.type, { after, limit: top + 1 })) rows.push([r, t]);
    }
    rows.sort(([a], [b]) => (a.key < b.key ? -1 : 1));
    const page = rows.slice(0, top + 1);
    const more = page.length > top;
    const value = page
      .slice(0, top)
      .filter(([r, t]) => filter.test(r, t.type))
      .map(([r, t]) => generic(r, t, expand));
    const body: Record<string, unknown> = { value };
    if (more) body.nextLink = nextLink(ctx, '$skipToken', encodeToken(page[top - 1][0].key));
    return send(reply, { status: 200, body });
  }

  app.get('/subscriptions/:subscriptionId/resources', (req, reply) =>
    list(req, reply, keyOf(`/subscriptions/${(req.params as Params).subscriptionId}`)),
  );

  app.get('/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/resources', async (req, reply) => {
    const { subscriptionId, resourceGroupName } = req.params as Params;
    const rgId = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}`;
    context(req, resourceGroups, RESOURCES_VERSIONS);
    if (!(await store.get(keyOf(rgId)))) throw errors.resourceGroupNotFound(resourceGroupName);
    return list(req, reply, keyOf(rgId));
  });

  function provider(subscriptionId: string, ns: string) {
    return {
      id: `/subscriptions/${subscriptionId}/providers/${ns}`,
      namespace: ns,
      registrationState: 'Registered',
      registrationPolicy: 'RegistrationRequired',
      resourceTypes: types
        .filter((t) => t.type.startsWith(`${ns}/`))
        .map((t) => ({
          resourceType: t.type.slice(ns.length + 1),
          locations: REGIONS,
          apiVersions: Object.keys(t.versions).sort().reverse(),
          capabilities: 'None',
        })),
    };
  }

  const providerOrNotFound = (subscriptionId: string, namespace: string) => {
    const ns = namespaces.find((n) => n.toLowerCase() === namespace.toLowerCase());
    if (!ns)
      throw new ArmError(
        404,
        'InvalidResourceNamespace',
        `The resource namespace '${namespace}' is invalid: amlite emulates ${namespaces.join(', ')}.`,
        namespace,
      );
    return provider(subscriptionId, ns);
  };

  app.get('/subscriptions/:subscriptionId/providers', async (req, reply) => {
    const { subscriptionId } = req.params as Params;
    context(req, resourceGroups, RESOURCES_VERSIONS);
    return send(reply, { status: 200, body: { value: namespaces.map((ns) => provider(subscriptionId, ns)) } });
  });
  app.get('/subscriptions/:subscriptionId/providers/:namespace', async (req, reply) => {
    const { subscriptionId, namespace } = req.params as Params;
    context(req, resourceGroups, RESOURCES_VERSIONS);
    return send(reply, { status: 200, body: providerOrNotFound(subscriptionId, namespace) });
  });
  app.post('/subscriptions/:subscriptionId/providers/:namespace/register', async (req, reply) => {
    const { subscriptionId, namespace } = req.params as Params;
    context(req, resourceGroups, RESOURCES_VERSIONS);
    return send(reply, { status: 200, body: providerOrNotFound(subscriptionId, namespace) });
  });
}

/** The GenericResourceExpanded shape of ARM's lists: nested resources are named parent/child. */
function generic(r: StoredResource, t: ResourceType, expand: Set<string>): Record<string, unknown> {
  const name = r.id
    .split('/')
    .slice(7)
    .filter((_, i) => i % 2 === 1)
    .join('/');
  const out: Record<string, unknown> = { id: r.id, name, type: t.type };
  for (const k of ['location', 'tags', 'kind', 'sku', 'identity', 'managedBy'])
    if (r.body[k] !== undefined) out[k] = r.body[k];
  if (expand.has('createdtime')) out.createdTime = r.createdAt;
  if (expand.has('changedtime')) out.changedTime = r.updatedAt;
  if (expand.has('provisioningstate'))
    out.provisioningState = (r.body.properties as { provisioningState?: string } | undefined)?.provisioningState;
  return out;
}
