import { Type } from '@sinclair/typebox';
import type { ActionDef, ResourceType } from '../../../arm/resource-type.js';
import type { RequestContext } from '../../../arm/context.js';
import type { StoredResource } from '../../../store/types.js';
import { Nullable } from '../../../arm/schema.js';
import { errors } from '../../../arm/errors.js';
import { nextLink, wholeQuery } from '../../../arm/paging.js';
import { actionSync } from '../../../arm/operations/templates.js';
import { SKU_CATALOG } from './sku-catalog.js';
import {
  GROUP_TYPE,
  commonRules,
  duration,
  endpointsOf,
  int32,
  isV1,
  keyValueList,
  poolFamilyArm,
  poolVersions,
  openShapes,
  routedGroupName,
  trackedSchema,
  v1TrackedSchema,
  V2_VERSIONS,
} from './family.js';
import { inferencePools } from './pools.js';
import { capacityInfo, propsOf, requestedUnits } from './capacity.js';
import { deltaList, deltaListNext, deltaModify, deltaStatus } from './delta-models.js';

export { servingInstances } from './capacity.js';

type Doc = Record<string, unknown>;

const { obj, partialTags, partialSku } = openShapes;
const optionalString = Type.Optional(Nullable(Type.String()));

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

async function groupStatus(ctx: RequestContext, r: StoredResource) {
  const name = r.name.toLowerCase();
  const routed = (await endpointsOf(ctx.store, r.parentKey)).filter(
    (e) => routedGroupName(propsOf(e)).toLowerCase() === name,
  );
  if (!isV1(ctx))
    return { requestedCapacity: requestedUnits(r), actualCapacityInfo: capacityInfo(r), endpointCount: routed.length };
  // v1's GroupStatus: instances allocated to the group and how their assignment went.
  const info = capacityInfo(r);
  return {
    requestedCapacity: requestedUnits(r),
    actualCapacityInfo: {
      allocated: info.total,
      assignmentSuccess: info.succeeded + info.outdatedSucceeded,
      assignmentFailed: info.failed + info.outdatedFailed,
    },
    bonusExtraCapacity: Number(propsOf(r).bonusExtraCapacity ?? 0),
    endpointCount: routed.length,
  };
}

const getStatus: ActionDef = actionSync({
  method: 'POST',
  path: 'getStatus',
  handle: async (ctx, r) => ({ status: 200, body: await groupStatus(ctx, r) }),
});

const listSkus: ActionDef = actionSync({
  method: 'GET',
  path: 'skus',
  versions: V2_VERSIONS,
  handle: async (ctx, _r, _body, query) => {
    const asked = wholeQuery(query.count, 'count') ?? 0;
    const count = asked > 0 ? asked : SKU_PAGE_SIZE;
    const skip = Math.max(0, wholeQuery(query.$skip ?? query.$skipToken, '$skip') ?? 0);
    const body: Doc = { value: SKU_CATALOG.slice(skip, skip + count) };
    if (skip + count < SKU_CATALOG.length) body.nextLink = nextLink(ctx, '$skip', String(skip + count));
    return { status: 200, body };
  },
});

/** A catalog SKU runs at least its catalog minimum of instances (ListSkus shows it). */
function checkCatalogCapacity(sku: Doc | undefined): void {
  if (typeof sku?.capacity !== 'number' || typeof sku.name !== 'string') return;
  const name = sku.name.toLowerCase();
  const entry = SKU_CATALOG.find((e) => e.sku.name.toLowerCase() === name);
  if (entry && sku.capacity < entry.capacity.minimum) {
    throw errors.invalidContent([
      {
        path: 'sku.capacity',
        message: `The capacity ${sku.capacity} is below the SKU '${entry.sku.name}''s minimum ${entry.capacity.minimum}.`,
      },
    ]);
  }
}

export const inferenceGroups: ResourceType = {
  type: GROUP_TYPE,
  parent: inferencePools,
  param: 'groupName',
  versions: poolVersions({
    v1: {
      put: v1TrackedSchema({
        bonusExtraCapacity: Type.Optional(int32()),
        metadata: optionalString,
        priority: Type.Optional(int32()),
      }),
      patch: obj({ tags: partialTags, sku: Type.Optional(partialSku) }),
    },
    preview: {
      put: trackedSchema({
        environmentConfiguration: Type.Optional(
          Nullable(
            obj({
              environmentId: optionalString,
              environmentVariables: keyValueList(),
              livenessProbe: Type.Optional(Nullable(probe)),
              readinessProbe: Type.Optional(Nullable(probe)),
              startupProbe: Type.Optional(Nullable(probe)),
            }),
          ),
        ),
        modelConfiguration: Type.Optional(Nullable(obj({ modelId: optionalString }))),
        nodeSkuType: optionalString,
        scaleUnitSize: Type.Optional(int32({ minimum: 1 })),
      }),
      patch: obj({ tags: partialTags, sku: Type.Optional(partialSku) }),
    },
  }),
  ...poolFamilyArm({ actions: [getStatus, listSkus, deltaStatus, deltaList, deltaListNext, deltaModify] }),
  prepare: async (ctx, doc, existing) => {
    commonRules(doc, existing);
    checkCatalogCapacity(doc.sku as Doc | undefined);
    if (isV1(ctx)) return;
    const props = doc.properties as Doc;
    const env = (props.environmentConfiguration ?? {}) as Doc;
    for (const p of PROBES) env[p] = { ...PROBE_DEFAULTS, ...(env[p] as Doc | null | undefined) };
    props.environmentConfiguration = env;
  },
  beforeDelete: async (ctx, r) => {
    const { endpointCount } = await groupStatus(ctx, r);
    if (endpointCount > 0)
      throw errors.conflict(
        `The inference group '${r.name}' cannot be deleted: ${endpointCount} endpoint(s) of the pool are routed to it. Delete them or move them to another group first.`,
        r.id,
      );
  },
};
