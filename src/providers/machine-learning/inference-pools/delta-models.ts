import { Type } from '@sinclair/typebox';
import type { ActionDef, ActionResult } from '../../../arm/resource-type.js';
import type { RequestContext } from '../../../arm/context.js';
import type { StoredResource } from '../../../store/types.js';
import { Nullable } from '../../../arm/schema.js';
import { errors } from '../../../arm/errors.js';
import { nextLink } from '../../../arm/paging.js';
import { actionAsync, actionSync } from '../../../arm/operations/templates.js';
import { internalOf, type DeltaState, type MlInternal } from '../internal.js';
import { capacityInfo, propsOf, requestedUnits } from './capacity.js';
import { V2_VERSIONS, int32, openShapes } from './family.js';

/** Delta models: adapters loaded on top of an inference group's base model. */

type Doc = Record<string, unknown>;

const { obj } = openShapes;

const deltaOf = (r: StoredResource): DeltaState => internalOf(r).deltaModels ?? { models: {}, revision: 0 };

/** The base model a request names, or the group's own model. */
const baseOf = (r: StoredResource, target: string | null | undefined): string =>
  target ?? ((propsOf(r).modelConfiguration as Doc | null | undefined)?.modelId as string | null | undefined) ?? '';

const optionalString = Type.Optional(Nullable(Type.String()));
const modelList = (unique: boolean) =>
  Type.Optional(Nullable(Type.Array(Type.String(), unique ? { uniqueItems: true } : {})));

export const deltaStatus: ActionDef = actionSync({
  method: 'POST',
  path: 'deltaModels/getStatus',
  versions: V2_VERSIONS,
  bodyRequired: true,
  body: obj({ deltaModels: modelList(false), targetBaseModel: optionalString }),
  handle: async (_ctx, r, body) => {
    const req = body as { deltaModels?: string[] | null; targetBaseModel?: string | null };
    const base = baseOf(r, req.targetBaseModel);
    const loaded = deltaOf(r).models[base] ?? [];
    const running = capacityInfo(r).succeeded;
    const state = (m: string) =>
      loaded.includes(m) && running > 0
        ? [{ count: running, sampleInstanceID: `${r.name.toLowerCase()}-0`, status: 'Loaded' }]
        : [];
    const out: Doc = {
      actualInstanceCount: running,
      expectedInstanceCount: requestedUnits(r),
      deltaModels: Object.fromEntries((req.deltaModels ?? loaded).map((m) => [m, state(m)])),
      revisionId: String(deltaOf(r).revision),
    };
    if (base) out.targetBaseModel = base;
    return { status: 200, body: out };
  },
});

interface ListToken {
  base: string;
  offset: number;
  count: number;
}

function decodeListToken(token: string): ListToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString()) as ListToken;
    if (typeof t.base === 'string' && Number.isInteger(t.offset) && t.offset >= 0 && Number.isInteger(t.count))
      return t;
  } catch {
    /* reported below */
  }
  throw errors.badRequest(`The skip token '${token}' is not valid.`, 'skipToken');
}

/** POST is the declared operation; GET serves the nextLink for clients that fetch next pages with GET. */
async function listDeltaModels(
  ctx: RequestContext,
  r: StoredResource,
  body: unknown,
  query: Record<string, string>,
): Promise<ActionResult> {
  const req = (body ?? {}) as { count?: number; skipToken?: string | null; targetBaseModel?: string | null };
  const token = query.$skipToken || query.skipToken || req.skipToken;
  const page = token
    ? decodeListToken(token)
    : { base: baseOf(r, req.targetBaseModel), offset: 0, count: req.count ?? -1 };
  const all = deltaOf(r).models[page.base] ?? [];
  const end = page.count > 0 ? page.offset + page.count : all.length;
  const out: Doc = { value: all.slice(page.offset, end) };
  if (end < all.length) {
    out.nextLink = nextLink(
      ctx,
      '$skipToken',
      Buffer.from(JSON.stringify({ ...page, offset: end })).toString('base64url'),
    );
  }
  return { status: 200, body: out };
}

const listBody = obj({ count: Type.Optional(int32()), skipToken: optionalString, targetBaseModel: optionalString });
export const deltaList: ActionDef = actionSync({
  method: 'POST',
  path: 'deltaModels/list',
  versions: V2_VERSIONS,
  bodyRequired: true,
  body: listBody,
  handle: listDeltaModels,
});
export const deltaListNext: ActionDef = actionSync({
  method: 'GET',
  path: 'deltaModels/list',
  versions: V2_VERSIONS,
  handle: listDeltaModels,
});

interface ModifyPayload {
  base: string;
  add: string[];
  remove: string[];
}

export const deltaModify: ActionDef = actionAsync({
  method: 'POST',
  path: 'deltaModels/modify',
  versions: V2_VERSIONS,
  bodyRequired: true,
  body: obj({ addDeltaModels: modelList(true), removeDeltaModels: modelList(true), targetBaseModel: optionalString }),
  handle: async (_ctx, r, body) => {
    const req = body as {
      addDeltaModels?: string[] | null;
      removeDeltaModels?: string[] | null;
      targetBaseModel?: string | null;
    };
    const add = req.addDeltaModels ?? [];
    const remove = req.removeDeltaModels ?? [];
    const both = add.find((m) => remove.includes(m));
    if (both !== undefined)
      throw errors.badRequest(`The delta model '${both}' is both added and removed.`, 'removeDeltaModels');
    return {
      status: 202,
      async: { payload: { base: baseOf(r, req.targetBaseModel), add, remove } satisfies ModifyPayload },
    };
  },
  complete: (r, op) => {
    const { base, add, remove } = op.payload as ModifyPayload;
    const state = deltaOf(r);
    const current = (state.models[base] ?? []).filter((m) => !remove.includes(m));
    const models = { ...state.models, [base]: [...current, ...add.filter((m) => !current.includes(m))] };
    const internal: MlInternal = { ...r.internal, deltaModels: { models, revision: state.revision + 1 } };
    return { ...r, internal };
  },
});
