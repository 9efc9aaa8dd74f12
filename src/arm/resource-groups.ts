import { Type } from '@sinclair/typebox';
import type { ResourceType } from './resource-type.js';
import type { OperationUrlShapes } from './lro/index.js';
import { ReadOnly } from './schema.js';
import { armShapes, provisioningStateOnly } from './common-types.js';
import { nameRule } from './ids.js';
import {
  checkExistence,
  createOrReplaceSync,
  deleteAsync,
  listByParent,
  read,
  updateSync,
} from './operations/templates.js';

/** The Microsoft.Resources api-versions we answer for resource groups (ARM's own endpoints). */
export const RESOURCE_GROUP_API_VERSIONS = [
  '2019-05-01',
  '2019-10-01',
  '2020-06-01',
  '2020-10-01',
  '2021-01-01',
  '2021-04-01',
  '2022-09-01',
  '2023-07-01',
  '2024-03-01',
  '2024-07-01',
  '2024-11-01',
  '2025-03-01',
  '2025-04-01',
] as const;

/** ARM's own operation URL: `/subscriptions/{s}/operationresults/{id}`, Location only, no timeout header. */
export const ARM_OPERATION_URLS: OperationUrlShapes = {
  result: '/subscriptions/{subscriptionId}/operationresults/{operationId}',
  timeoutHeader: false,
};

const { obj, tags, partialTags } = armShapes(false);
// 1 to 90 of letters, digits, _ - . ( ), not ending in '.'.
const groupName = nameRule('^[-\\w._()]{0,89}[-\\w_()]$');
const version = {
  put: obj({
    id: ReadOnly(),
    name: ReadOnly(),
    type: ReadOnly(),
    properties: ReadOnly(),
    location: Type.String({ minLength: 1 }),
    tags,
    managedBy: Type.Optional(Type.String()),
  }),
  patch: obj({ tags: partialTags, managedBy: Type.Optional(Type.String()) }),
  closed: false,
  putName: groupName,
  name: groupName,
};

export const RESOURCE_GROUP_TYPE = 'Microsoft.Resources/resourceGroups';

export const resourceGroups: ResourceType = {
  type: RESOURCE_GROUP_TYPE,
  scope: 'subscription',
  param: 'resourceGroupName',
  versions: Object.fromEntries(RESOURCE_GROUP_API_VERSIONS.map((v) => [v, version])),
  operations: {
    read: read(),
    checkExistence: checkExistence(),
    listByParent: listByParent(),
    createOrReplace: createOrReplaceSync(),
    update: updateSync(),
    delete: deleteAsync(),
  },
  lifecycle: provisioningStateOnly,
  // ARM's resource groups show no systemData.
  render: (_r, doc) => {
    delete doc.systemData;
  },
};

export const isResourceGroup = (t: ResourceType): boolean => t === resourceGroups;
