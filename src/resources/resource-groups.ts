import { Type } from '@sinclair/typebox';
import type { ResourceType } from '../arm/resource-type.js';
import { ReadOnly } from '../arm/schema.js';
import { armShapes, provisioningStateOnly } from './common.js';
import { nameRule } from '../arm/ids.js';

/** The Microsoft.Resources api-versions we answer for resource groups (ARM's own endpoints). */
export const RESOURCE_GROUP_API_VERSIONS = [
  '2019-05-01', '2019-10-01', '2020-06-01', '2020-10-01', '2021-01-01', '2021-04-01', '2022-09-01',
  '2023-07-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-03-01', '2025-04-01',
] as const;

const { obj, tags, partialTags } = armShapes(false);
const version = {
  put: obj({
    id: ReadOnly(), name: ReadOnly(), type: ReadOnly(), properties: ReadOnly(),
    location: Type.String({ minLength: 1 }),
    tags,
    managedBy: Type.Optional(Type.String()),
  }),
  patch: obj({ tags: partialTags, managedBy: Type.Optional(Type.String()) }),
  closed: false,
  // 1 to 90 of letters, digits, _ - . ( ), not ending in '.'.
  putName: nameRule('^[-\\w._()]{0,89}[-\\w_()]$'),
  name: nameRule('^[-\\w._()]{0,89}[-\\w_()]$'),
};

export const resourceGroups: ResourceType = {
  type: 'Microsoft.Resources/resourceGroups',
  param: 'resourceGroupName',
  versions: Object.fromEntries(RESOURCE_GROUP_API_VERSIONS.map((v) => [v, version])),
  async: { put: false, patch: false, delete: true },
  lifecycle: provisioningStateOnly,
  // ARM's resource groups show no systemData.
  render: (_r, doc) => { delete doc.systemData; },
};
