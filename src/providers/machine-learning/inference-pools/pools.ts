import { Type } from '@sinclair/typebox';
import type { ActionDef, ResourceType } from '../../../arm/resource-type.js';
import { Nullable } from '../../../arm/schema.js';
import { actionSync } from '../../../arm/operations/templates.js';
import { workspaces } from '../workspaces.js';
import {
  GROUP_TYPE,
  POOL_TYPE,
  commonRules,
  duration,
  int32,
  V1_VERSIONS,
  openShapes,
  poolFamilyArm,
  poolVersions,
  trackedSchema,
  v1RequiredName,
  v1TrackedSchema,
} from './family.js';
import { requestedUnits, servingInstances } from './capacity.js';

type Doc = Record<string, unknown>;

const { obj, partialTags, partialSku, partialIdentity } = openShapes;
const optionalString = Type.Optional(Nullable(Type.String()));

const patch = obj({ tags: partialTags, sku: Type.Optional(partialSku), identity: Type.Optional(partialIdentity) });

/** v1's probe settings (no bounds in its swagger). */
const v1Probe = Type.Optional(
  Nullable(
    obj({
      failureThreshold: Type.Optional(int32()),
      initialDelay: Type.Optional(Nullable(duration())),
      period: Type.Optional(duration()),
      successThreshold: Type.Optional(int32()),
      timeout: Type.Optional(duration()),
    }),
  ),
);

/** v1 (2023-08-01-preview … 2024-04-01-preview): the pool carries the node SKU and the code, environment, model and
 * request configuration its groups run. */
const v1Put = v1TrackedSchema({
  nodeSkuType: v1RequiredName(),
  codeConfiguration: Type.Optional(Nullable(obj({ codeId: optionalString, scoringScript: v1RequiredName() }))),
  environmentConfiguration: Type.Optional(
    Nullable(
      obj({
        environmentId: optionalString,
        environmentVariables: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
        livenessProbe: v1Probe,
        readinessProbe: v1Probe,
        startupProbe: v1Probe,
      }),
    ),
  ),
  modelConfiguration: Type.Optional(Nullable(obj({ modelId: optionalString }))),
  requestConfiguration: Type.Optional(
    Nullable(
      obj({
        maxConcurrentRequestsPerInstance: Type.Optional(int32()),
        requestTimeout: Type.Optional(duration()),
      }),
    ),
  ),
});

/** v1's PoolStatus: the pool's groups and the instances they ask for and run. */
const getStatus: ActionDef = actionSync({
  method: 'POST',
  path: 'getStatus',
  versions: V1_VERSIONS,
  handle: async (ctx, r) => {
    const groups = await ctx.store.listChildren(r.key, GROUP_TYPE, { limit: Number.MAX_SAFE_INTEGER });
    const sum = (f: (g: (typeof groups)[number]) => number) => groups.reduce((n, g) => n + f(g), 0);
    const requested = sum(requestedUnits);
    const body = {
      actualCapacity: sum(servingInstances),
      groupCount: groups.length,
      requestedCapacity: requested,
      reservedCapacity: Math.max(requested, Number((r.body.sku as Doc | undefined)?.capacity ?? 0)),
    };
    return { status: 200, body };
  },
});

export const inferencePools: ResourceType = {
  type: POOL_TYPE,
  parent: workspaces,
  param: 'inferencePoolName',
  versions: poolVersions({
    v1: { put: v1Put, patch },
    preview: {
      put: trackedSchema({
        scaleUnitConfiguration: Type.Optional(
          Nullable(
            obj({
              disablePublicEgress: Type.Optional(Type.Boolean()),
              registries: Type.Optional(Nullable(Type.Array(Type.String()))),
            }),
          ),
        ),
      }),
      patch,
    },
  }),
  ...poolFamilyArm({ actions: [getStatus] }),
  prepare: async (_ctx, doc, existing) => {
    commonRules(doc, existing);
    const scaleUnit = (doc.properties as Doc).scaleUnitConfiguration as Doc | null | undefined;
    if (scaleUnit) scaleUnit.disablePublicEgress ??= false;
  },
};
