import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import {
  versionsFrom,
  type ActionDef,
  type Phase,
  type ResourceType,
  type VersionDef,
} from '../../arm/resource-type.js';
import type { StoredResource } from '../../store/types.js';
import { Enum, Nullable, ReadOnly } from '../../arm/schema.js';
import { nameRule } from '../../arm/ids.js';
import { armShapes } from '../../arm/common-types.js';
import {
  actionSync,
  checkExistence,
  createOrReplaceAsync,
  deleteAsync,
  listByParent,
  read,
  updateAsync,
} from '../../arm/operations/templates.js';
import { API_VERSIONS, typeName } from './provider.js';
import { internalOf, type EndpointKeys } from './internal.js';
import { workspaces } from './workspaces.js';

/**
 * Microsoft.MachineLearningServices/workspaces/serverlessEndpoints.
 * 2025-09-01 (stable) closes every object and knows authMode Key only; 2026-03-15-preview is open, adds the
 * AAD auth modes and contentSafetyLevel, and drops the name patterns.
 */
function versionDef(preview: boolean): VersionDef {
  const { obj, sku, partialSku, identity, partialIdentity, tracked, partialTags } = armShapes(!preview);
  const contentSafety = preview
    ? obj({
        contentSafetyStatus: Enum(['Enabled', 'Disabled']),
        contentSafetyLevel: Type.Optional(Enum(['Blocking', 'Deferred'])),
      })
    : obj({ contentSafetyStatus: Enum(['Enabled', 'Disabled']) });
  const properties = obj({
    authMode: preview ? Enum(['Key', 'AAD', 'KeyAndAAD']) : Enum(['Key']),
    contentSafety: Type.Optional(Nullable(contentSafety)),
    modelSettings: Type.Optional(Nullable(obj({ modelId: Type.Optional(Nullable(Type.String())) }))),
    endpointState: ReadOnly(),
    inferenceEndpoint: ReadOnly(),
    marketplaceSubscriptionId: ReadOnly(),
    provisioningState: ReadOnly(),
  });
  return {
    put: obj({
      ...tracked,
      kind: Type.Optional(Type.String()),
      identity: Type.Optional(identity),
      sku: Type.Optional(sku),
      properties,
    }),
    patch: obj({ tags: partialTags, sku: Type.Optional(partialSku), identity: Type.Optional(partialIdentity) }),
    closed: !preview,
    ...(preview
      ? {}
      : { putName: nameRule('^[a-zA-Z][a-zA-Z0-9-]{0,51}$'), name: nameRule('^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$') }),
  };
}

export type { EndpointKeys } from './internal.js';

const newKey = () => randomBytes(24).toString('base64url');

export const keysOf = (r: StoredResource): EndpointKeys => internalOf(r).keys!;

const STATES: Record<Phase, Record<string, string>> = {
  creating: { provisioningState: 'Creating', endpointState: 'Creating' },
  updating: { provisioningState: 'Updating' },
  deleting: { provisioningState: 'Deleting', endpointState: 'Deleting' },
  succeeded: { provisioningState: 'Succeeded', endpointState: 'Online' },
  failed: { provisioningState: 'Failed', endpointState: 'CreationFailed' },
  updateFailed: { provisioningState: 'Failed' },
  deleteFailed: { provisioningState: 'Failed', endpointState: 'DeletionFailed' },
};

const listKeys: ActionDef = actionSync({
  method: 'POST',
  path: 'listKeys',
  handle: async (_ctx, r) => ({ status: 200, body: keysOf(r) }),
});

const regenerateKeys: ActionDef = actionSync({
  method: 'POST',
  path: 'regenerateKeys',
  bodyRequired: true,
  body: Type.Object({
    keyType: Enum(['Primary', 'Secondary']),
    keyValue: Type.Optional(Nullable(Type.String({ minLength: 1 }))),
  }),
  handle: async (_ctx, r, body) => {
    const { keyType, keyValue } = body as { keyType: 'Primary' | 'Secondary'; keyValue?: string | null };
    const keys = { ...keysOf(r), [keyType === 'Primary' ? 'primaryKey' : 'secondaryKey']: keyValue ?? newKey() };
    return { status: 200, body: keys, update: { ...r, internal: { ...r.internal, keys } } };
  },
});

export const serverlessEndpoints: ResourceType = {
  type: typeName('workspaces/serverlessEndpoints'),
  parent: workspaces,
  param: 'name',
  versions: versionsFrom(API_VERSIONS.serverlessEndpoints, { stable: versionDef(false), preview: versionDef(true) }),
  operations: {
    read: read(),
    checkExistence: checkExistence(),
    listByParent: listByParent(),
    createOrReplace: createOrReplaceAsync({ serverOwned: ['endpointState'] }),
    update: updateAsync(),
    // The swagger declares only 202 and 204 for delete.
    delete: deleteAsync({ doneStatus: 204 }),
    actions: [listKeys, regenerateKeys],
  },
  lifecycle: (phase) => STATES[phase],
  onCreate: (r) => {
    internalOf(r).keys = { primaryKey: newKey(), secondaryKey: newKey() };
    // The data-plane route: unique per endpoint, also when a deleted name is created again.
    r.internal.route = `${r.name.toLowerCase()}-${randomBytes(3).toString('hex')}`;
  },
  render: (r, doc, ctx) => {
    const uri = `${ctx.origin}/serverless/${encodeURIComponent(String(r.internal.route))}`;
    doc.properties = { ...(doc.properties as object), inferenceEndpoint: { uri } };
  },
};
