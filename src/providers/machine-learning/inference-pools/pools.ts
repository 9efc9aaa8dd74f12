import { Type } from '@sinclair/typebox';
import type { ResourceType } from '../../../arm/resource-type.js';
import { Nullable } from '../../../arm/schema.js';
import { workspaces } from '../workspaces.js';
import { POOL_TYPE, commonRules, openShapes, poolFamilyArm, previewOnly, trackedSchema } from './family.js';

type Doc = Record<string, unknown>;

const { obj, partialTags, partialSku, partialIdentity } = openShapes;

export const inferencePools: ResourceType = {
  type: POOL_TYPE,
  parent: workspaces,
  param: 'inferencePoolName',
  versions: previewOnly({
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
    patch: obj({ tags: partialTags, sku: Type.Optional(partialSku), identity: Type.Optional(partialIdentity) }),
  }),
  ...poolFamilyArm(),
  prepare: async (_ctx, doc, existing) => {
    commonRules(doc, existing);
    const scaleUnit = (doc.properties as Doc).scaleUnitConfiguration as Doc | null | undefined;
    if (scaleUnit) scaleUnit.disablePublicEgress ??= false;
  },
};
