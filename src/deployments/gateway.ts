/**
 * What a deployment does to a resource goes through the engine as the same request from the deployment's caller
 * would: the same validation, operations, test-control hooks and errors.
 */
import type { Engine, Reply, ResourceRef } from '../arm/engine.js';
import type { Principal, RequestContext } from '../arm/context.js';
import type { ManagementHooks } from '../arm/hooks.js';
import type { ResourceType } from '../arm/resource-type.js';
import type { TypeRegistry } from '../arm/registry.js';
import { ArmError, errors } from '../arm/errors.js';
import { keyOf } from '../arm/ids.js';
import { RESOURCE_GROUP_TYPE } from '../arm/resource-groups.js';
import type { OperationRecord, Store } from '../store/types.js';
import type { Provisioner } from '../provisioner/provisioner.js';
import { DEPLOYMENT_POLL_MS } from './limits.js';

export interface GatewayDeps {
  engine: Engine;
  store: Store;
  registry: TypeRegistry;
  provisioner: Provisioner;
  hooks?: ManagementHooks;
  anyApiVersion: boolean;
}

export interface Caller {
  principal: Principal;
  origin: string;
}

/** A resource id taken apart: its type name and the ref the engine addresses it by. */
export interface Target {
  typeName: string;
  ref: ResourceRef;
}

/** Parses `/subscriptions/{s}/resourceGroups/{rg}[/providers/{ns}/{type}/{name}[/{type}/{name}…]]`. */
export function parseTarget(id: string): Target | undefined {
  id = canonicalId(id);
  const parts = id.split('/');
  if (parts[0] !== '' || parts[1]?.toLowerCase() !== 'subscriptions' || !parts[2]) return undefined;
  const sub = parts[2];
  const subId = `/subscriptions/${sub}`;
  if (parts[3]?.toLowerCase() !== 'resourcegroups' || !parts[4]) return undefined;
  const rg = parts[4];
  const groupId = `${subId}/resourceGroups/${rg}`;
  if (parts.length === 5) {
    const ref = { id, key: keyOf(id), name: rg, parentKey: keyOf(subId), subscriptionId: sub, resourceGroup: rg };
    return { typeName: RESOURCE_GROUP_TYPE, ref: { ...ref, ancestors: [] } };
  }
  if (parts[5]?.toLowerCase() !== 'providers' || !parts[6]) return undefined;
  const rest = parts.slice(7);
  if (rest.length < 2 || rest.length % 2 !== 0 || rest.some((p) => !p)) return undefined;
  const ancestors = [{ type: RESOURCE_GROUP_TYPE, id: groupId, name: rg }];
  let typeName = parts[6];
  let current = `${groupId}/providers/${parts[6]}`;
  let parentId = groupId;
  for (let i = 0; i < rest.length; i += 2) {
    typeName += `/${rest[i]}`;
    if (i > 0) {
      ancestors.push({ type: typeName.slice(0, typeName.lastIndexOf('/')), id: current, name: rest[i - 1] });
      parentId = current;
    }
    current += `/${rest[i]}/${rest[i + 1]}`;
  }
  const ref: ResourceRef = {
    id,
    key: keyOf(id),
    name: rest.at(-1)!,
    parentKey: keyOf(parentId),
    subscriptionId: sub,
    resourceGroup: rg,
    ancestors,
  };
  return { typeName, ref };
}

/** A resource group's id as resourceId() spells it at subscription scope (…/providers/Microsoft.Resources/…) → ARM's. */
export function canonicalId(id: string): string {
  const m = /^(\/subscriptions\/[^/]+)\/providers\/Microsoft\.Resources\/resourceGroups\/([^/]+)$/i.exec(id);
  return m ? `${m[1]}/resourceGroups/${m[2]}` : id;
}

/** Fixes each ancestor's type to its registered spelling (the id carries the client's). */
function withRegisteredTypes(target: Target, registry: TypeRegistry): Target {
  const ancestors = target.ref.ancestors.map((a) => ({ ...a, type: registry.find(a.type)?.type ?? a.type }));
  return { ...target, ref: { ...target.ref, ancestors } };
}

export class Gateway {
  constructor(private readonly deps: GatewayDeps) {}

  get store(): Store {
    return this.deps.store;
  }

  /** The registered type of `id`, or ARM's error for a type no provider serves. */
  resolve(id: string, location?: string, apiVersion?: string): { t: ResourceType; target: Target } {
    const parsed = parseTarget(id);
    if (!parsed) throw errors.badRequest(`The resource id '${id}' is not a valid resource id.`, id);
    const t = this.deps.registry.find(parsed.typeName);
    if (!t) throw noProvider(parsed.typeName, location, apiVersion);
    return { t, target: withRegisteredTypes(parsed, this.deps.registry) };
  }

  /** The api-version a request at `asked` runs at, or the error a direct request would get. */
  version(t: ResourceType, asked: string | undefined, location?: string): string {
    const versions = Object.keys(t.versions);
    const latest = [...versions].sort().at(-1)!;
    if (asked === undefined) return latest;
    const known = versions.find((v) => v.toLowerCase() === asked.toLowerCase());
    if (known) return known;
    if (t.anyVersion) return asked;
    if (this.deps.anyApiVersion) return latest;
    if (t.scope === 'subscription') throw errors.invalidApiVersion(asked, versions);
    throw errors.noRegisteredProvider(location ?? '', asked, t.type.split('/').slice(1).join('/'), versions);
  }

  context(caller: Caller, apiVersion: string, id: string): RequestContext {
    const url = new URL(`${id}?api-version=${encodeURIComponent(apiVersion)}`, caller.origin);
    return {
      apiVersion,
      principal: caller.principal,
      origin: caller.origin,
      url,
      header: () => undefined,
      now: () => new Date(),
      store: this.deps.store,
    };
  }

  /** What the before-request hooks say of this request (an injected error is thrown, as to a client). */
  async beforeRequest(t: ResourceType, target: Target, method: string, action?: string): Promise<void> {
    for (const hook of this.deps.hooks?.beforeRequest ?? []) {
      await hook(
        {
          plane: 'management',
          type: t.type,
          name: target.ref.name,
          method,
          action,
          subscription: target.ref.subscriptionId,
        },
        Date.now(),
      );
    }
  }

  async put(caller: Caller, id: string, apiVersion: string | undefined, body: unknown): Promise<PutResult> {
    const location = (body as { location?: unknown })?.location;
    const { t, target } = this.resolve(id, typeof location === 'string' ? location : undefined, apiVersion);
    const version = this.version(t, apiVersion, typeof location === 'string' ? location : undefined);
    await this.beforeRequest(t, target, 'PUT');
    const reply = await this.deps.engine.put(t, target.ref, body, this.context(caller, version, target.ref.id));
    return { reply, operationId: reply.operationId, version };
  }

  async get(caller: Caller, id: string, apiVersion: string | undefined): Promise<Record<string, unknown>> {
    const { t, target } = this.resolve(id, undefined, apiVersion);
    const version = this.version(t, apiVersion);
    const reply = await this.deps.engine.get(t, target.ref, this.context(caller, version, id));
    return { ...(reply.body as Record<string, unknown>), apiVersion: version };
  }

  async action(caller: Caller, id: string, action: string, apiVersion: string, body: unknown): Promise<unknown> {
    const { t, target } = this.resolve(id, undefined, apiVersion);
    const version = this.version(t, apiVersion);
    const def = t.operations.actions?.find((a) => a.path.toLowerCase() === action.toLowerCase());
    if (!def || (def.versions && !def.versions.includes(version))) throw errors.noRoute('POST', `${id}/${action}`);
    await this.beforeRequest(t, target, 'POST', def.path);
    const reply = await this.deps.engine.action(t, def, target.ref, body, this.context(caller, version, id), {});
    return reply.body ?? null;
  }

  /** Deletes through the engine; the engine's operation id when it runs on. */
  async delete(caller: Caller, id: string): Promise<string | undefined> {
    const { t, target } = this.resolve(id);
    const version = this.version(t, undefined);
    await this.beforeRequest(t, target, 'DELETE');
    const reply: Reply = await this.deps.engine.delete(t, target.ref, this.context(caller, version, id));
    return reply.status === 202 ? reply.operationId : undefined;
  }

  /** Waits for the engine's operation to end (the provisioner ends it); undefined if `stop` says to stop waiting. */
  async waitFor(opId: string, stop: () => boolean): Promise<OperationRecord | undefined> {
    for (;;) {
      if (stop()) return undefined;
      await this.deps.provisioner.settle(opId);
      const op = await this.deps.store.getOperation(opId);
      if (!op) throw new ArmError(500, 'InternalServerError', `The operation '${opId}' disappeared.`);
      if (op.status !== 'InProgress') return op;
      await new Promise((resolve) => setTimeout(resolve, DEPLOYMENT_POLL_MS));
    }
  }
}

export interface PutResult {
  reply: Reply;
  /** The engine's operation on the resource when the PUT was accepted to run on. */
  operationId?: string;
  version: string;
}

/** ARM's answer for a resource type no registered provider serves. */
export function noProvider(typeName: string, location?: string, apiVersion?: string): ArmError {
  const where = location ? `location '${location}' and ` : '';
  return new ArmError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for ${where}API version '${apiVersion ?? ''}' for type ` +
      `'${typeName}': amlite does not serve this resource type.`,
    typeName,
  );
}
