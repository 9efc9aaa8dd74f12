import { Type } from '@sinclair/typebox';
import { versionsFrom, type ResourceType, type VersionDef } from '../../arm/resource-type.js';
import { nameRule } from '../../arm/ids.js';
import { armShapes, provisioningStateOnly } from '../../arm/common-types.js';
import {
  checkExistence,
  createOrReplaceSync,
  deleteAsync,
  listByParent,
  listBySubscription,
  read,
  updateSync,
} from '../../arm/operations/templates.js';
import { API_VERSIONS, typeName } from './provider.js';

const { obj, sku, partialSku, identity, partialIdentity, tracked, partialTags } = armShapes(false);
const rule = nameRule('^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$');
const open: VersionDef = {
  put: obj({
    ...tracked,
    identity: Type.Optional(identity),
    sku: Type.Optional(sku),
    kind: Type.Optional(Type.String()),
    properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
  patch: obj({
    tags: partialTags,
    identity: Type.Optional(partialIdentity),
    sku: Type.Optional(partialSku),
    properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
  closed: false,
  putName: rule,
  name: rule,
};

/** A minimal workspace: the parent of serverless endpoints and inference pools, with free-form properties. */
export const workspaces: ResourceType = {
  type: typeName('workspaces'),
  param: 'workspaceName',
  versions: versionsFrom(API_VERSIONS.workspaces, { open }),
  operations: {
    read: read(),
    checkExistence: checkExistence(),
    listByParent: listByParent(),
    listBySubscription: listBySubscription(),
    // Azure ML's swagger declares 200 or 202 for a workspace PUT, never 201 (the Python ML client refuses 201).
    createOrReplace: createOrReplaceSync({ createdStatus: 200 }),
    update: updateSync({ mergeProperties: true }),
    delete: deleteAsync(),
  },
  lifecycle: provisioningStateOnly,
};
