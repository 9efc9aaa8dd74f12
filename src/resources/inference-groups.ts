import { Type } from '@sinclair/typebox';
import type { ActionDef, ActionResult, ResourceType } from '../arm/resource-type.js';
import type { RequestContext } from '../arm/context.js';
import type { StoredResource } from '../store/types.js';
import { Nullable } from '../arm/schema.js';
import { errors } from '../arm/errors.js';
import { nextLink, wholeQuery } from '../arm/engine.js';
import { SKU_CATALOG } from './sku-catalog.js';
import {
  GROUP_TYPE, commonRules, duration, endpointsOf, inferencePools, int32, keyValueList, poolFamilyArm, previewOnly, openShapes, trackedSchema,
} from './inference-pools.js';

type Doc = Record<string, unknown>;

const { obj, partialTags, partialSku } = openShapes;

/** A probe counts at least one result before it decides (as Kubernetes requires of its thresholds). */
export const MIN_PROBE_THRESHOLD = 1;

const probe = obj({
  failureThreshold: Type.Optional(int32({ minimum: MIN_PROBE_THRESHOLD })),
  initialDelay: Type.Optional(Nullable(duration())),
  period: Type.Optional(duration()),
  successThreshold: Type.Optional(int32({ minimum: MIN_PROBE_THRESHOLD })),
  timeout: Type.Optional(duration()),
});

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const PROBE_DEFAULTS = { failureThreshold: 30, period: 'PT10S', successThreshold: 1, timeout: 'PT2S' };
const SKU_PAGE_SIZE = 10;

const propsOf = (r: StoredResource) => r.body.properties as Doc;

/** Scale units the group asks for: its sku capacity (in nodes) over the nodes per scale unit. */
function requestedUnits(r: StoredResource): number {
  const size = Math.max(1, (propsOf(r).scaleUnitSize as number | undefined) ?? 1);
  const capacity = ((r.body.sku as Doc | undefined)?.capacity as number | undefined) ?? size;
  return Math.max(0, Math.ceil(capacity / size));
}

function capacityInfo(r: StoredResource) {
  const n = requestedUnits(r);
  const none = { total: n, succeeded: 0, failed: 0, outdatedSucceeded: 0, outdatedFailed: 0 };
  switch (propsOf(r).provisioningState) {
    case 'Creating': return none;
    case 'Updating': return { ...none, outdatedSucceeded: n };
    case 'Failed': return { ...none, failed: n };
    default: return { ...none, succeeded: n };
  }
}

/** Instances that serve requests now (what getStatus shows as succeeded, outdated or not): the data plane's capacity. */
export function servingInstances(group: StoredResource): number {
  const info = capacityInfo(group);
  return info.succeeded + info.outdatedSucceeded;
}

async function groupStatus(ctx: RequestContext, r: StoredResource) {
  const name = r.name.toLowerCase();
  const routed = (await endpointsOf(ctx.store, r.parentKey))
    .filter((e) => String(propsOf(e).groupName ?? '').toLowerCase() === name);
  return { requestedCapacity: requestedUnits(r), actualCapacityInfo: capacityInfo(r), endpointCount: routed.length };
}

const getStatus: ActionDef = {
  method: 'POST',
  path: 'getStatus',
  handle: async (ctx, r) => ({ status: 200, body: await groupStatus(ctx, r) }),
};

const listSkus: ActionDef = {
  method: 'GET',
  path: 'skus',
  handle: async (ctx, _r, _body, query) => {
    const asked = wholeQuery(query.count, 'count') ?? 0;
    const count = asked > 0 ? asked : SKU_PAGE_SIZE;
    const skip = Math.max(0, wholeQuery(query.$skip ?? query.$skipToken, '$skip') ?? 0);
    const body: Doc = { value: SKU_CATALOG.slice(skip, skip + count) };
    if (skip + count < SKU_CATALOG.length) body.nextLink = nextLink(ctx, '$skip', String(skip + count));
    return { status: 200, body };
  },
};

// ---------- delta models: adapters loaded on top of the group's base model ----------

interface DeltaState { models: Record<string, string[]>; revision: number }

const deltaOf = (r: StoredResource): DeltaState =>
  (r.internal.deltaModels as DeltaState | undefined) ?? { models: {}, revision: 0 };

/** The base model a request names, or the group's own model. */
const baseOf = (r: StoredResource, target: string | null | undefined): string =>
  target ?? ((propsOf(r).modelConfiguration as Doc | null | undefined)?.modelId as string | null | undefined) ?? '';

const optionalString = Type.Optional(Nullable(Type.String()));
const modelList = (unique: boolean) => Type.Optional(Nullable(Type.Array(Type.String(), unique ? { uniqueItems: true } : {})));

const deltaStatus: ActionDef = {
  method: 'POST',
  path: 'deltaModels/getStatus',
  bodyRequired: true,
  body: obj({ deltaModels: modelList(false), targetBaseModel: optionalString }),
  handle: async (_ctx, r, body) => {
    const req = body as { deltaModels?: string[] | null; targetBaseModel?: string | null };
    const base = baseOf(r, req.targetBaseModel);
    const loaded = deltaOf(r).models[base] ?? [];
    const running = capacityInfo(r).succeeded;
    const state = (m: string) => (loaded.includes(m) && running > 0
      ? [{ count: running, sampleInstanceID: `${r.name.toLowerCase()}-0`, status: 'Loaded' }]
      : []);
    const out: Doc = {
      actualInstanceCount: running,
      expectedInstanceCount: requestedUnits(r),
      deltaModels: Object.fromEntries((req.deltaModels ?? loaded).map((m) => [m, state(m)])),
      revisionId: String(deltaOf(r).revision),
    };
    if (base) out.targetBaseModel = base;
    return { status: 200, body: out };
  },
};

interface ListToken { base: string; offset: number; count: number }

function decodeListToken(token: string): ListToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString()) as ListToken;
    if (typeof t.base === 'string' && Number.isInteger(t.offset) && t.offset >= 0 && Number.isInteger(t.count)) return t;
  } catch { /* reported below */ }
  throw errors.badRequest(`The skip token '${token}' is not valid.`, 'skipToken');
}

/** POST is the declared operation; GET serves the nextLink for clients that fetch next pages with GET. */
async function listDeltaModels(ctx: RequestContext, r: StoredResource, body: unknown, query: Record<string, string>): Promise<ActionResult> {
  const req = (body ?? {}) as { count?: number; skipToken?: string | null; targetBaseModel?: string | null };
  const token = query.$skipToken || query.skipToken || req.skipToken;
  const page = token ? decodeListToken(token) : { base: baseOf(r, req.targetBaseModel), offset: 0, count: req.count ?? -1 };
  const all = deltaOf(r).models[page.base] ?? [];
  const end = page.count > 0 ? page.offset + page.count : all.length;
  const out: Doc = { value: all.slice(page.offset, end) };
  if (end < all.length) {
    out.nextLink = nextLink(ctx, '$skipToken', Buffer.from(JSON.stringify({ ...page, offset: end })).toString('base64url'));
  }
  return { status: 200, body: out };
}

const listBody = obj({ count: Type.Optional(int32()), skipToken: optionalString, targetBaseModel: optionalString });
const deltaList: ActionDef = { method: 'POST', path: 'deltaModels/list', bodyRequired: true, body: listBody, handle: listDeltaModels };
const deltaListNext: ActionDef = { method: 'GET', path: 'deltaModels/list', handle: listDeltaModels };

interface ModifyPayload { base: string; add: string[]; remove: string[] }

const deltaModify: ActionDef = {
  method: 'POST',
  path: 'deltaModels/modify',
  bodyRequired: true,
  body: obj({ addDeltaModels: modelList(true), removeDeltaModels: modelList(true), targetBaseModel: optionalString }),
  handle: async (_ctx, r, body) => {
    const req = body as { addDeltaModels?: string[] | null; removeDeltaModels?: string[] | null; targetBaseModel?: string | null };
    const add = req.addDeltaModels ?? [];
    const remove = req.removeDeltaModels ?? [];
    const both = add.find((m) => remove.includes(m));
    if (both !== undefined) throw errors.badRequest(`The delta model '${both}' is both added and removed.`, 'removeDeltaModels');
    return { status: 202, async: { payload: { base: baseOf(r, req.targetBaseModel), add, remove } satisfies ModifyPayload } };
  },
  complete: (r, op) => {
    const { base, add, remove } = op.payload as ModifyPayload;
    const state = deltaOf(r);
    const current = (state.models[base] ?? []).filter((m) => !remove.includes(m));
    const models = { ...state.models, [base]: [...current, ...add.filter((m) => !current.includes(m))] };
    return { ...r, internal: { ...r.internal, deltaModels: { models, revision: state.revision + 1 } } };
  },
};

/** A catalog SKU runs at least its catalog minimum of instances (ListSkus shows it). */
function checkCatalogCapacity(sku: Doc | undefined): void {
  if (typeof sku?.capacity !== 'number' || typeof sku.name !== 'string') return;
  const name = sku.name.toLowerCase();
  const entry = SKU_CATALOG.find((e) => e.sku.name.toLowerCase() === name);
  if (entry && sku.capacity < entry.capacity.minimum) {
    throw errors.invalidContent([{
      path: 'sku.capacity',
      message: `The capacity ${sku.capacity} is below the SKU '${entry.sku.name}''s minimum ${entry.capacity.minimum}.`,
    }]);
  }
}

export const inferenceGroups: ResourceType = {
  type: GROUP_TYPE,
  parent: inferencePools,
  param: 'groupName',
  versions: previewOnly({
    put: trackedSchema({
      environmentConfiguration: Type.Optional(Nullable(obj({
        environmentId: optionalString,
        environmentVariables: keyValueList(),
        livenessProbe: Type.Optional(Nullable(probe)),
        readinessProbe: Type.Optional(Nullable(probe)),
        startupProbe: Type.Optional(Nullable(probe)),
      }))),
      modelConfiguration: Type.Optional(Nullable(obj({ modelId: optionalString }))),
      nodeSkuType: optionalString,
      scaleUnitSize: Type.Optional(int32({ minimum: 1 })),
    }),
    patch: obj({ tags: partialTags, sku: Type.Optional(partialSku) }),
  }),
  ...poolFamilyArm,
  prepare: async (_ctx, doc, existing) => {
    commonRules(doc, existing);
    checkCatalogCapacity(doc.sku as Doc | undefined);
    const props = doc.properties as Doc;
    const env = (props.environmentConfiguration ?? {}) as Doc;
    for (const p of PROBES) env[p] = { ...PROBE_DEFAULTS, ...(env[p] as Doc | null | undefined) };
    props.environmentConfiguration = env;
  },
  beforeDelete: async (ctx, r) => {
    const { endpointCount } = await groupStatus(ctx, r);
    if (endpointCount > 0)
      throw errors.conflict(`The inference group '${r.name}' cannot be deleted: ${endpointCount} endpoint(s) of the pool are routed to it. Delete them or move them to another group first.`, r.id);
  },
  actions: [getStatus, listSkus, deltaStatus, deltaList, deltaListNext, deltaModify],
};
