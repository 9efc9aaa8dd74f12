import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine, Reply, ResourceRef } from './engine.js';
import type { RequestContext } from './context.js';
import type { ResourceType } from './resource-type.js';
import type { Store } from '../store/types.js';
import type { Provisioner } from '../provisioner/provisioner.js';
import type { Profile } from '../provisioner/profiles.js';
import { authenticate, type AuthMode } from '../auth/bearer.js';
import { authenticateRequest } from '../auth/strict.js';
import { errors } from './errors.js';
import { isGuid, keyOf } from './ids.js';
import { collectionOf, lineage, namespaceOf } from './resource-type.js';
import { acceptedHeaders, statusBody } from './operations.js';
import { resourceGroups } from '../resources/resource-groups.js';
import { genericRoutes } from './generic.js';
import type { TestControl } from '../control/control.js';
import type { Principal } from './context.js';

export interface ArmDeps {
  engine: Engine;
  store: Store;
  provisioner: Provisioner;
  profile: Profile;
  types: ResourceType[];
  auth: AuthMode;
  anyApiVersion: boolean;
  control?: TestControl;
}

type Params = Record<string, string>;
/** What a route tells the test-control rules about itself. */
interface RouteInfo { armType?: string; nameParam?: string; action?: string }
type Query = Record<string, string | string[] | undefined>;

/** The management plane: every resource type's routes, resource groups, and the operation endpoints. */
export async function armRoutes(app: FastifyInstance, deps: ArmDeps): Promise<void> {
  const { engine } = deps;

  // Every management request: who is calling, then what test-control rules say (injected failures, throttles).
  const principals = new WeakMap<FastifyRequest, Principal>();
  app.addHook('preHandler', async (req, reply) => {
    // Before authentication: a subscription that cannot exist is never bound to a tenant.
    const { subscriptionId } = (req.params ?? {}) as Params;
    if (subscriptionId !== undefined && !isGuid(subscriptionId)) throw errors.invalidSubscriptionId(subscriptionId);
    principals.set(req, await authenticateRequest(req.headers.authorization, deps.auth, new Date(), req));
    if (!deps.control) return;
    const route = (req.routeOptions.config ?? {}) as RouteInfo;
    const params = req.params as Params;
    reply.headers(await deps.control.beforeManagementRequest({
      plane: 'management', type: route.armType ?? '', name: (route.nameParam && params[route.nameParam]) || '',
      method: req.method, action: route.action, subscription: params.subscriptionId ?? '',
    }, Date.now()));
  });

  /** Builds the request context: the caller (authenticated by the hook above) and the api-version settled against the type's. */
  function context(req: FastifyRequest, t: ResourceType | undefined, versions: readonly string[]): RequestContext {
    const now = new Date();
    const principal = principals.get(req) ?? authenticate(req.headers.authorization, deps.auth, now, req);
    const apiVersion = t ? resolveApiVersion(req, t, versions, deps.anyApiVersion) : anyVersion(req);
    return {
      apiVersion,
      principal,
      origin: `${req.protocol}://${req.host}`,
      url: urlOf(req),
      store: deps.store,
      header: (name) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      },
      now: () => new Date(),
    };
  }

  const urlOf = (req: FastifyRequest) => new URL(req.url, `${req.protocol}://${req.host}`);

  function send(reply: FastifyReply, r: Reply): FastifyReply {
    reply.code(r.status);
    if (r.headers) reply.headers(r.headers);
    return r.body === undefined ? reply.send() : reply.send(r.body);
  }

  function register(t: ResourceType): void {
    const chain = lineage(t);
    const isGroup = t === resourceGroups;
    let item = isGroup ? '/subscriptions/:subscriptionId/resourcegroups/:resourceGroupName'
      : `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${namespaceOf(t)}`;
    if (!isGroup) for (const level of chain) item += `/${collectionOf(level)}/:${level.param}`;
    const collection = item.slice(0, item.lastIndexOf('/'));
    const versions = Object.keys(t.versions);
    const ref = (p: Params) => (isGroup ? groupRef(p) : refOf(t, chain, p));

    const config: RouteInfo = { armType: t.type, nameParam: t.param };
    app.get(collection, { config: { armType: t.type } }, async (req, reply) => {
      const p = req.params as Params;
      const ctx = context(req, t, versions);
      if (isGroup) return send(reply, await engine.list(t, keyOf(`/subscriptions/${p.subscriptionId}`), ctx));
      const parent = refOf(t, chain, { ...p, [t.param]: '_' });
      engine.checkPath(t, parent, ctx);
      await engine.checkParents(parent);
      return send(reply, await engine.list(t, parent.parentKey, ctx));
    });
    app.get(item, { config }, async (req, reply) => send(reply, await engine.get(t, ref(req.params as Params), context(req, t, versions))));
    app.head(item, { config }, async (req, reply) => {
      context(req, t, versions);
      return send(reply, await engine.head(t, ref(req.params as Params)));
    });
    app.put(item, { config }, async (req, reply) => send(reply, await engine.put(t, ref(req.params as Params), req.body, context(req, t, versions))));
    app.patch(item, { config }, async (req, reply) => send(reply, await engine.patch(t, ref(req.params as Params), req.body, context(req, t, versions))));
    app.delete(item, { config }, async (req, reply) => send(reply, await engine.delete(t, ref(req.params as Params), context(req, t, versions))));
    for (const action of t.actions ?? []) {
      app.route({
        method: action.method,
        url: `${item}/${action.path}`,
        config: { ...config, action: action.path },
        handler: async (req, reply) => send(reply,
          await engine.action(t, action, ref(req.params as Params), req.body, context(req, t, versions), flatQuery(req.query as Query))),
      });
    }
  }

  for (const t of [resourceGroups, ...deps.types]) register(t);
  genericRoutes(app, { store: deps.store, types: deps.types, context, send });

  // Workspaces listed across a subscription.
  const workspaces = deps.types.find((t) => t.type === 'Microsoft.MachineLearningServices/workspaces');
  if (workspaces) {
    app.get('/subscriptions/:subscriptionId/providers/Microsoft.MachineLearningServices/workspaces', async (req, reply) => {
      const { subscriptionId } = req.params as Params;
      const ctx = context(req, workspaces, Object.keys(workspaces.versions));
      return send(reply, await engine.list(workspaces, keyOf(`/subscriptions/${subscriptionId}`), ctx, 'below'));
    });
  }

  // Long-running operations: the status (Azure-AsyncOperation) and the result (Location).
  async function operation(req: FastifyRequest) {
    const { subscriptionId, operationId } = req.params as Params;
    const op = await deps.store.getOperation(operationId);
    if (!op || op.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) throw errors.operationNotFound(operationId);
    await deps.provisioner.settle(op.id);
    return (await deps.store.getOperation(op.id))!;
  }

  app.get('/subscriptions/:subscriptionId/providers/Microsoft.MachineLearningServices/locations/:location/mfeOperationsStatus/:operationId', async (req, reply) => {
    context(req, undefined, []);
    return send(reply, { status: 200, body: statusBody(await operation(req)) });
  });

  const result = async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = context(req, undefined, []);
    const op = await operation(req);
    if (op.status === 'InProgress') return send(reply, { status: 202, headers: acceptedHeaders(op, ctx, deps.profile, 'location') });
    if (op.status !== 'Succeeded') {
      const error = op.error ?? { code: op.status, message: `The operation ended ${op.status}.` };
      return send(reply, { status: 400, body: { error } });
    }
    const t = [resourceGroups, ...deps.types].find((x) => x.type === op.resourceType);
    if (op.kind === 'delete') return send(reply, { status: t?.deleteDoneStatus ?? 200 });
    const resource = await engine.load(op.resourceKey);
    if (!t || !resource || op.kind === 'action') return send(reply, { status: 204 });
    return send(reply, { status: 200, body: engine.render(t, resource, ctx), headers: { etag: resource.etag } });
  };
  app.get('/subscriptions/:subscriptionId/providers/Microsoft.MachineLearningServices/locations/:location/mfeOperationResults/:operationId', result);
  app.get('/subscriptions/:subscriptionId/operationresults/:operationId', result);
}

function groupRef(p: Params): ResourceRef {
  const id = `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroupName}`;
  return {
    id, key: keyOf(id), name: p.resourceGroupName, parentKey: keyOf(`/subscriptions/${p.subscriptionId}`),
    subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroupName, ancestors: [],
  };
}

/** The resource a provider path names, with the resource group and every enclosing resource as ancestors. */
function refOf(t: ResourceType, chain: ResourceType[], p: Params): ResourceRef {
  const group = groupRef(p);
  const ancestors = [{ type: resourceGroups.type, id: group.id, name: group.name }];
  let id = `${group.id}/providers/${namespaceOf(t)}`;
  let parentId = group.id;
  chain.forEach((level, i) => {
    parentId = i === 0 ? group.id : id;
    id += `/${collectionOf(level)}/${p[level.param]}`;
    if (i < chain.length - 1) ancestors.push({ type: level.type, id, name: p[level.param] });
  });
  return { id, key: keyOf(id), name: p[t.param], parentKey: keyOf(parentId), subscriptionId: p.subscriptionId, resourceGroup: group.name, ancestors };
}

function firstQuery(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Query)[name];
  return Array.isArray(v) ? v[0] : v;
}

const flatQuery = (q: Query) => Object.fromEntries(Object.entries(q).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v ?? '']));

function resolveApiVersion(req: FastifyRequest, t: ResourceType, supported: readonly string[], anyApiVersion: boolean): string {
  const asked = firstQuery(req, 'api-version');
  if (!asked) throw errors.missingApiVersion();
  const known = supported.find((v) => v.toLowerCase() === asked.toLowerCase());
  if (known) return known;
  if (anyApiVersion) return [...supported].sort().at(-1)!;
  if (t === resourceGroups) throw errors.invalidApiVersion(asked, supported);
  const location = typeof (req.body as { location?: unknown } | undefined)?.location === 'string' ? (req.body as { location: string }).location : '';
  throw errors.noRegisteredProvider(location, asked, t.type.split('/').slice(1).join('/'), supported);
}

/** Operation URLs carry the api-version of the request that started them; any value is accepted, none is not. */
function anyVersion(req: FastifyRequest): string {
  const asked = firstQuery(req, 'api-version');
  if (!asked) throw errors.missingApiVersion();
  return asked;
}
