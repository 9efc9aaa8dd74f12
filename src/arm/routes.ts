import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine, Reply, ResourceRef } from './engine.js';
import type { Principal, RequestContext } from './context.js';
import type { ResourceType } from './resource-type.js';
import type { TypeRegistry } from './registry.js';
import type { ManagementHooks } from './hooks.js';
import type { Store } from '../store/types.js';
import type { Provisioner } from '../provisioner/provisioner.js';
import type { Profile } from '../provisioner/profiles.js';
import { errors } from './errors.js';
import { isGuid, keyOf } from './ids.js';
import { collectionOf, namespaceOf, versionOf } from './resource-type.js';
import { resultResponse, routeOf, statusResponse } from './lro/index.js';
import { RESOURCE_GROUP_TYPE, isResourceGroup } from './resource-groups.js';
import { genericRoutes } from './generic.js';
import { JsonText } from './render-cache.js';
import { DEFAULT_SUBSCRIPTION, platformRoutes } from './platform.js';

export interface ArmDeps {
  engine: Engine;
  store: Store;
  provisioner: Provisioner;
  profile: Profile;
  registry: TypeRegistry;
  /** Who is calling (the server's authenticator chain): throws an ARM error to refuse. */
  authenticate(req: FastifyRequest): Promise<Principal> | Principal;
  anyApiVersion: boolean;
  /** The subscription `GET /subscriptions` always lists (config defaultSubscription). */
  defaultSubscription?: string;
  /** Strict mode: the tenant a subscription is bound to, for `GET /subscriptions`. */
  tenantOf?: (subscriptionId: string) => Promise<string | undefined>;
  hooks?: ManagementHooks;
  /** Routes of ARM's own that no registered type declares (template deployments), behind the same preHandler. */
  extraRoutes?: ((app: FastifyInstance, helpers: ArmRouteHelpers) => void)[];
}

/** What extra routes get of the management plane: the request context (caller authenticated) and the reply. */
export interface ArmRouteHelpers {
  context(req: FastifyRequest, t: ResourceType | undefined, versions: readonly string[]): RequestContext;
  send(reply: FastifyReply, r: Reply): FastifyReply;
  anyApiVersion: boolean;
}

type Params = Record<string, string>;
/** What a route tells the before-request hooks about itself. */
interface RouteInfo {
  armType?: string;
  nameParam?: string;
  action?: string;
}
type Query = Record<string, string | string[] | undefined>;
/** What Fastify itself sends with a JSON body it serialised. */
const JSON_TYPE = 'application/json; charset=utf-8';

/** The management plane: every registered type's declared operations, and its providers' operation endpoints. */
export async function armRoutes(app: FastifyInstance, deps: ArmDeps): Promise<void> {
  const { engine, registry } = deps;

  // Every management request: who is calling, then what the before-request hooks say (e.g. injected failures).
  const principals = new WeakMap<FastifyRequest, Principal>();
  app.addHook('preHandler', async (req, reply) => {
    // Before authentication: a subscription that cannot exist is never bound to a tenant.
    const { subscriptionId } = (req.params ?? {}) as Params;
    if (subscriptionId !== undefined && !isGuid(subscriptionId)) throw errors.invalidSubscriptionId(subscriptionId);
    const caller = deps.authenticate(req);
    principals.set(req, caller instanceof Promise ? await caller : caller);
    const hooks = deps.hooks?.beforeRequest;
    if (!hooks?.length) return;
    const route = (req.routeOptions.config ?? {}) as RouteInfo;
    const params = req.params as Params;
    const subject = {
      plane: 'management' as const,
      type: route.armType ?? '',
      name: (route.nameParam && params[route.nameParam]) || '',
      method: req.method,
      action: route.action,
      subscription: params.subscriptionId ?? '',
    };
    for (const hook of hooks) reply.headers(await hook(subject, Date.now()));
  });

  /** The request context: the caller (authenticated above) and the api-version settled against the type's. */
  function context(req: FastifyRequest, t: ResourceType | undefined, versions: readonly string[]): RequestContext {
    const principal = principals.get(req);
    if (!principal) throw new Error(`${req.url} reached a handler unauthenticated`);
    const apiVersion = t ? resolveApiVersion(req, t, versions, deps.anyApiVersion) : anyVersion(req);
    const origin = `${req.protocol}://${req.host}`;
    let url: URL | undefined;
    return {
      apiVersion,
      principal,
      origin,
      // Parsed when asked for (paging, filters, operation URLs): most requests never read it.
      get url() {
        return (url ??= new URL(req.url, origin));
      },
      store: deps.store,
      header: (name) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      },
      now: () => new Date(),
    };
  }

  function send(reply: FastifyReply, r: Reply): FastifyReply {
    reply.code(r.status);
    if (r.headers) reply.headers(r.headers);
    if (r.body instanceof JsonText) return reply.type(JSON_TYPE).send(r.body.text);
    return r.body === undefined ? reply.send() : reply.send(r.body);
  }

  /** Each declared operation of `t` adds its routes. */
  function mount(t: ResourceType): void {
    const item = itemPath(t, registry.lineage(t));
    const collection = item.slice(0, item.lastIndexOf('/'));
    const versions = Object.keys(t.versions);
    const ref = refBuilder(t, registry.lineage(t));
    const config: RouteInfo = { armType: t.type, nameParam: t.param };
    const ops = t.operations;
    const ctxOf = (req: FastifyRequest) => context(req, t, versions);
    const refOf = (req: FastifyRequest) => ref(req.params as Params);

    app.get(collection, { config: { armType: t.type } }, async (req, reply) => {
      const ctx = ctxOf(req);
      const parent = ref({ ...(req.params as Params), [t.param]: '_' });
      engine.checkPath(t, parent, ctx);
      return send(reply, await engine.listJson(t, parent, ctx));
    });
    if (ops.listBySubscription) {
      app.get(`/subscriptions/:subscriptionId/providers/${namespaceOf(t)}/${collectionOf(t)}`, async (req, reply) => {
        const { subscriptionId } = req.params as Params;
        return send(reply, await engine.list(t, keyOf(`/subscriptions/${subscriptionId}`), ctxOf(req), 'below'));
      });
    }
    app.get(item, { config }, async (req, reply) => send(reply, await engine.getJson(t, refOf(req), ctxOf(req))));
    app.head(item, { config }, async (req, reply) => {
      ctxOf(req);
      return send(reply, await engine.head(t, refOf(req)));
    });
    app.put(item, { config }, async (req, reply) => send(reply, await engine.put(t, refOf(req), req.body, ctxOf(req))));
    if (ops.update)
      app.patch(item, { config }, async (req, reply) =>
        send(reply, await engine.patch(t, refOf(req), req.body, ctxOf(req))),
      );
    app.delete(item, { config }, async (req, reply) => send(reply, await engine.delete(t, refOf(req), ctxOf(req))));
    for (const action of ops.actions ?? []) {
      app.route({
        method: action.method,
        url: `${item}/${action.path}`,
        config: { ...config, action: action.path },
        handler: async (req, reply) => {
          const ctx = ctxOf(req);
          // The version's swagger has no such operation: the provider answers as for any path it does not serve.
          if (action.versions && !action.versions.includes(ctx.apiVersion))
            throw errors.noRoute(req.method, req.url.split('?')[0]);
          return send(reply, await engine.action(t, action, refOf(req), req.body, ctx, flatQuery(req.query as Query)));
        },
      });
    }
  }

  for (const t of registry.all) mount(t);
  for (const extra of deps.extraRoutes ?? []) extra(app, { context, send, anyApiVersion: deps.anyApiVersion });
  genericRoutes(app, { store: deps.store, registry, context, send });
  platformRoutes(app, {
    store: deps.store,
    registry,
    context,
    send,
    load: (key) => engine.load(key),
    anyApiVersion: deps.anyApiVersion,
    defaultSubscription: deps.defaultSubscription ?? DEFAULT_SUBSCRIPTION,
    tenantOf: deps.tenantOf,
  });

  // Long-running operations at each provider's URL shapes: the status (Azure-AsyncOperation), the result (Location).
  async function operation(req: FastifyRequest) {
    const { subscriptionId, operationId } = req.params as Params;
    const op = await deps.store.getOperation(operationId);
    if (!op || op.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase())
      throw errors.operationNotFound(operationId);
    await deps.provisioner.settle(op.id);
    return (await deps.store.getOperation(op.id))!;
  }

  const status = async (req: FastifyRequest, reply: FastifyReply) => {
    context(req, undefined, []);
    const op = await operation(req);
    return send(reply, statusResponse(op, registry.operationUrlsOf(registry.find(op.resourceType)), deps.profile));
  };

  const result = async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = context(req, undefined, []);
    const op = await operation(req);
    const t = registry.find(op.resourceType);
    const rules = t && {
      deleteDoneStatus: versionOf(t, ctx.apiVersion)?.deleteDoneStatus ?? t.operations.delete.doneStatus,
      render: (r: Parameters<Engine['render']>[1]) => engine.render(t, r, ctx),
    };
    const urls = registry.operationUrlsOf(t);
    return send(reply, await resultResponse(op, () => engine.load(op.resourceKey), rules, urls, ctx, deps.profile));
  };

  const mounted = new Set<string>();
  for (const { operationUrls } of registry.providers) {
    for (const [template, handler] of [
      [operationUrls.status, status],
      [operationUrls.result, result],
    ] as const) {
      if (!template || mounted.has(template.toLowerCase())) continue;
      mounted.add(template.toLowerCase());
      app.get(routeOf(template), handler);
    }
  }
}

/** The item route of `t`: ARM's own types under the subscription, providers' types below a resource group. */
function itemPath(t: ResourceType, chain: ResourceType[]): string {
  if (t.scope === 'subscription') return `/subscriptions/:subscriptionId/${collectionOf(t).toLowerCase()}/:${t.param}`;
  let item = `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${namespaceOf(t)}`;
  for (const level of chain.slice(1)) item += `/${collectionOf(level)}/:${level.param}`;
  return item;
}

/** The resource a path names, with the resource group and every enclosing resource as ancestors. */
function refBuilder(t: ResourceType, chain: ResourceType[]): (p: Params) => ResourceRef {
  const subKey = (p: Params) => `/subscriptions/${p.subscriptionId}`;
  if (t.scope === 'subscription') {
    return (p) => {
      const id = `${subKey(p)}/${collectionOf(t)}/${p[t.param]}`;
      return {
        id,
        key: keyOf(id),
        name: p[t.param],
        parentKey: keyOf(subKey(p)),
        subscriptionId: p.subscriptionId,
        resourceGroup: isResourceGroup(t) ? p[t.param] : '',
        ancestors: [],
      };
    };
  }
  const levels = chain.slice(1);
  return (p) => {
    const groupId = `${subKey(p)}/resourceGroups/${p.resourceGroupName}`;
    const ancestors = [{ type: RESOURCE_GROUP_TYPE, id: groupId, name: p.resourceGroupName }];
    let id = `${groupId}/providers/${namespaceOf(t)}`;
    let parentId = groupId;
    levels.forEach((level, i) => {
      parentId = i === 0 ? groupId : id;
      id += `/${collectionOf(level)}/${p[level.param]}`;
      if (i < levels.length - 1) ancestors.push({ type: level.type, id, name: p[level.param] });
    });
    return {
      id,
      key: keyOf(id),
      name: p[t.param],
      parentKey: keyOf(parentId),
      subscriptionId: p.subscriptionId,
      resourceGroup: p.resourceGroupName,
      ancestors,
    };
  };
}

function firstQuery(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Query)[name];
  return Array.isArray(v) ? v[0] : v;
}

const flatQuery = (q: Query) =>
  Object.fromEntries(Object.entries(q).map(([k, v]) => [k, Array.isArray(v) ? v[0] : (v ?? '')]));

function resolveApiVersion(
  req: FastifyRequest,
  t: ResourceType,
  supported: readonly string[],
  anyApiVersion: boolean,
): string {
  const asked = firstQuery(req, 'api-version');
  if (!asked) throw errors.missingApiVersion();
  const known = supported.find((v) => v.toLowerCase() === asked.toLowerCase());
  if (known) return known;
  if (t.anyVersion) return asked;
  if (anyApiVersion) return [...supported].sort().at(-1)!;
  if (t.scope === 'subscription') throw errors.invalidApiVersion(asked, supported);
  const given = (req.body as { location?: unknown } | undefined)?.location;
  const location = typeof given === 'string' ? given : '';
  throw errors.noRegisteredProvider(location, asked, t.type.split('/').slice(1).join('/'), supported);
}

/** Operation URLs carry the api-version of the request that started them; any value is accepted, none is not. */
function anyVersion(req: FastifyRequest): string {
  const asked = firstQuery(req, 'api-version');
  if (!asked) throw errors.missingApiVersion();
  return asked;
}
