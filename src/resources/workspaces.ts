import { Type } from '@sinclair/typebox';
import type { ResourceType } from '../arm/resource-type.js';
import { nameRule } from '../arm/ids.js';
import { armShapes, provisioningStateOnly } from './common.js';

/** A minimal workspace: the parent of serverless endpoints and inference pools, with free-form properties. */
export const WORKSPACE_API_VERSIONS = ['2024-04-01', '2024-10-01', '2025-09-01', '2025-10-01-preview', '2026-03-15-preview'] as const;

const { obj, sku, partialSku, identity, partialIdentity, tracked, partialTags } = armShapes(false);
const rule = nameRule('^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$');
const version = {
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

export const workspaces: ResourceType = {
  type: 'Microsoft.MachineLearningServices/workspaces',
  param: 'workspaceName',
  versions: Object.fromEntries(WORKSPACE_API_VERSIONS.map((v) => [v, version])),
  async: { put: false, patch: false, delete: true },
  patchMergesProperties: true,
  lifecycle: provisioningStateOnly,
};
