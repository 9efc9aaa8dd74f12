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
import { armShapes, int32 } from '../../arm/common-types.js';
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

/** How one family of api-versions (API-VERSIONS.md §2) differs from the others. */
interface Family {
  /** Hand-written swaggers close every object and keep the name patterns; TypeSpec ones do neither. */
  handWritten: boolean;
  authModes: string[];
  contentSafetyLevel?: 'optional' | 'required';
  /** S2: authMode optional (Azure applies Key), `offer` and `capacityReservation`, no contentSafety. */
  offer?: boolean;
}

/**
 * Microsoft.MachineLearningServices/workspaces/serverlessEndpoints, per family: `offerPreview` (S2) has an
 * optional authMode, offers and capacity reservations; `stable` (S3, 2024-04-01 … 2025-09-01) knows authMode Key
 * only; `levelRequired` (S4) and `levelPreview` (S4') add the AAD auth modes and contentSafetyLevel; `preview` (S5)
 * and `typespecStable` (S6) are open and drop the name patterns.
 */
const FAMILIES = {
  offerPreview: { handWritten: true, authModes: ['Key', 'AAD'], offer: true },
  stable: { handWritten: true, authModes: ['Key'] },
  levelRequired: { handWritten: true, authModes: ['Key', 'AAD', 'KeyAndAAD'], contentSafetyLevel: 'required' },
  levelPreview: { handWritten: true, authModes: ['Key', 'AAD', 'KeyAndAAD'], contentSafetyLevel: 'optional' },
  preview: { handWritten: false, authModes: ['Key', 'AAD', 'KeyAndAAD'], contentSafetyLevel: 'optional' },
  typespecStable: { handWritten: false, authModes: ['Key', 'AAD', 'KeyAndAAD'] },
} satisfies Record<string, Family>;

const S2_ID = Type.String({ minLength: 1, pattern: '[a-zA-Z0-9_]' });

function offerProperties(obj: ReturnType<typeof armShapes>['obj']) {
  return {
    offer: Type.Optional(obj({ publisher: S2_ID, offerName: S2_ID })),
    capacityReservation: Type.Optional(
      obj({ capacityReservationGroupId: S2_ID, endpointReservedCapacity: Type.Optional(int32()) }),
    ),
  };
}

function versionDef(f: Family): VersionDef {
  const { obj, sku, partialSku, identity, partialIdentity, tracked, partialTags } = armShapes(f.handWritten);
  const level = Enum(['Blocking', 'Deferred']);
  const contentSafety = obj({
    contentSafetyStatus: Enum(['Enabled', 'Disabled']),
    ...(f.contentSafetyLevel
      ? { contentSafetyLevel: f.contentSafetyLevel === 'required' ? level : Type.Optional(level) }
      : {}),
  });
  const properties = obj({
    authMode: f.offer ? Type.Optional(Enum(f.authModes)) : Enum(f.authModes),
    ...(f.offer ? offerProperties(obj) : { contentSafety: Type.Optional(Nullable(contentSafety)) }),
    modelSettings: Type.Optional(Nullable(obj({ modelId: f.offer ? S2_ID : Type.Optional(Nullable(Type.String())) }))),
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
    closed: f.handWritten,
    ...(f.handWritten
      ? { putName: nameRule('^[a-zA-Z][a-zA-Z0-9-]{0,51}$'), name: nameRule('^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$') }
      : {}),
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
  versions: versionsFrom(
    API_VERSIONS.serverlessEndpoints,
    Object.fromEntries(Object.entries(FAMILIES).map(([k, f]) => [k, versionDef(f)])) as Record<
      keyof typeof FAMILIES,
      VersionDef
    >,
  ),
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
  prepare: async (_ctx, doc) => {
    // S2 lets authMode out (as azure-ai-ml and az ml send it); Azure applies Key.
    const properties = doc.properties as Record<string, unknown> | undefined;
    if (properties && properties.authMode === undefined) properties.authMode = 'Key';
  },
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
