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
import { Enum, Nullable, OpenEnum, ReadOnly, keepUnknown, viewOf } from '../../arm/schema.js';
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
import { linkMarketplaceSubscription, parseModelId } from './marketplace-subscriptions.js';

/**
 * How one family of api-versions (API-VERSIONS.md §2) differs from the others. Every enum of every version is open
 * (`modelAsString`): the values listed are the known ones, any string is accepted.
 */
interface Family {
  /** Hand-written swaggers close every object and keep the name patterns; TypeSpec ones do neither. */
  handWritten: boolean;
  authModes: string[];
  contentSafetyLevel?: 'optional' | 'required';
  /**
   * S1 and S2: authMode optional (Azure applies Key), `offer` and `capacityReservation`, no contentSafety.
   * S1 requires `offer` and has no modelSettings, endpointState or marketplaceSubscriptionId.
   */
  offer?: 'required' | 'optional';
  /** S1 and S2 (hand-written previews): the `getStatus` action; a finished DELETE answers 200 (also declared). */
  earlyPreview?: boolean;
}

/**
 * Microsoft.MachineLearningServices/workspaces/serverlessEndpoints, per family: `offerRequired` (S1) requires an
 * offer and knows no model settings; `offerPreview` (S2) has an
 * optional authMode, offers and capacity reservations; `stable` (S3, 2024-04-01 … 2025-09-01) knows authMode Key
 * only; `levelRequired` (S4) and `levelPreview` (S4') add the AAD auth modes and contentSafetyLevel; `preview` (S5)
 * and `typespecStable` (S6) are open and drop the name patterns.
 */
const FAMILIES = {
  offerRequired: { handWritten: true, authModes: ['Key', 'AAD'], offer: 'required', earlyPreview: true },
  offerPreview: { handWritten: true, authModes: ['Key', 'AAD'], offer: 'optional', earlyPreview: true },
  stable: { handWritten: true, authModes: ['Key'] },
  levelRequired: { handWritten: true, authModes: ['Key', 'AAD', 'KeyAndAAD'], contentSafetyLevel: 'required' },
  levelPreview: { handWritten: true, authModes: ['Key', 'AAD', 'KeyAndAAD'], contentSafetyLevel: 'optional' },
  preview: { handWritten: false, authModes: ['Key', 'AAD', 'KeyAndAAD'], contentSafetyLevel: 'optional' },
  typespecStable: { handWritten: false, authModes: ['Key', 'AAD', 'KeyAndAAD'] },
} satisfies Record<string, Family>;

const S2_ID = Type.String({ minLength: 1, pattern: '[a-zA-Z0-9_]' });

function offerProperties(obj: ReturnType<typeof armShapes>['obj'], required: boolean) {
  const offer = obj({ publisher: S2_ID, offerName: S2_ID });
  return {
    offer: required ? offer : Type.Optional(offer),
    capacityReservation: Type.Optional(
      obj({ capacityReservationGroupId: S2_ID, endpointReservedCapacity: Type.Optional(int32()) }),
    ),
  };
}

function versionDef(f: Family): VersionDef {
  const { obj, sku, partialSku, identity, partialIdentity, tracked, partialTags } = armShapes(f.handWritten);
  const level = OpenEnum(['Blocking', 'Deferred']);
  const contentSafety = obj({
    contentSafetyStatus: OpenEnum(['Enabled', 'Disabled']),
    ...(f.contentSafetyLevel
      ? { contentSafetyLevel: f.contentSafetyLevel === 'required' ? level : Type.Optional(level) }
      : {}),
  });
  const s1 = f.offer === 'required';
  const modelId = f.offer ? S2_ID : Type.Optional(Nullable(Type.String()));
  const properties = obj({
    authMode: f.offer ? Type.Optional(OpenEnum(f.authModes)) : OpenEnum(f.authModes),
    ...(f.offer ? offerProperties(obj, s1) : { contentSafety: Type.Optional(Nullable(contentSafety)) }),
    ...(s1
      ? {}
      : {
          modelSettings: Type.Optional(Nullable(obj({ modelId }))),
          endpointState: ReadOnly(),
          marketplaceSubscriptionId: ReadOnly(),
        }),
    inferenceEndpoint: ReadOnly(),
    provisioningState: ReadOnly(),
  });
  const put = obj({
    ...tracked,
    kind: Type.Optional(Type.String()),
    identity: Type.Optional(identity),
    sku: Type.Optional(sku),
    properties,
  });
  // Every operation but PUT takes the long name rule in the hand-written files; S1's PUT does too.
  const name = nameRule('^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$');
  return {
    put,
    patch: obj({ tags: partialTags, sku: Type.Optional(partialSku), identity: Type.Optional(partialIdentity) }),
    closed: f.handWritten,
    ...(f.handWritten ? { putName: s1 ? name : nameRule('^[a-zA-Z][a-zA-Z0-9-]{0,51}$'), name } : {}),
    view: viewOf(put),
    ...(f.earlyPreview ? { deleteDoneStatus: 200 as const } : {}),
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

const VERSIONS = versionsFrom(
  API_VERSIONS.serverlessEndpoints,
  Object.fromEntries(Object.entries(FAMILIES).map(([k, f]) => [k, versionDef(f)])) as Record<
    keyof typeof FAMILIES,
    VersionDef
  >,
);

/** S1 and S2 only: the model's metrics from the backing endpoint (`ServerlessEndpointStatus`); amlite has none. */
const getStatus: ActionDef = actionSync({
  method: 'POST',
  path: 'getStatus',
  versions: Object.entries(API_VERSIONS.serverlessEndpoints)
    .filter(([, family]) => (FAMILIES[family] as Family).earlyPreview)
    .map(([version]) => version),
  handle: async () => ({ status: 200, body: { metrics: {} } }),
});

const offerRequiredAt = (version: string) =>
  (
    FAMILIES[API_VERSIONS.serverlessEndpoints[version as keyof typeof API_VERSIONS.serverlessEndpoints]] as
      Family | undefined
  )?.offer === 'required';

/** The offer of an endpoint's model: its vendor (`azureml-meta` → Meta) and model name; else the endpoint's name. */
function offerOf(r: StoredResource, properties: Record<string, unknown>): { publisher: string; offerName: string } {
  const modelId = (properties.modelSettings as { modelId?: unknown } | null | undefined)?.modelId;
  const model = typeof modelId === 'string' ? parseModelId(modelId) : undefined;
  if (!model) return { publisher: 'Microsoft', offerName: r.name };
  const vendor = model.registry.replace(/^azureml-?/, '');
  return { publisher: vendor ? vendor[0].toUpperCase() + vendor.slice(1) : 'Microsoft', offerName: model.model };
}

export const serverlessEndpoints: ResourceType = {
  type: typeName('workspaces/serverlessEndpoints'),
  parent: workspaces,
  param: 'name',
  versions: VERSIONS,
  operations: {
    read: read(),
    checkExistence: checkExistence(),
    listByParent: listByParent(),
    createOrReplace: createOrReplaceAsync({ serverOwned: ['endpointState'] }),
    update: updateAsync(),
    // The swaggers from 2024-04-01 on declare only 202 and 204 for delete (S1 and S2 also 200: VersionDef).
    delete: deleteAsync({ doneStatus: 204 }),
    actions: [listKeys, regenerateKeys, getStatus],
  },
  lifecycle: (phase) => STATES[phase],
  prepare: async (ctx, doc, existing, id) => {
    // One resource, many versions: what this version does not know of the stored resource stays as it was.
    if (existing) keepUnknown(VERSIONS[ctx.apiVersion].put, existing.body, doc);
    // S2 lets authMode out (as azure-ai-ml and az ml send it); Azure applies Key.
    const properties = doc.properties as Record<string, unknown> | undefined;
    if (properties && properties.authMode === undefined) properties.authMode = 'Key';
    // marketplaceSubscriptionId: the workspace's subscription for the model, as Azure fills it in.
    await linkMarketplaceSubscription(ctx, doc, existing, id);
  },
  onCreate: (r) => {
    internalOf(r).keys = { primaryKey: newKey(), secondaryKey: newKey() };
    // The data-plane route: unique per endpoint, also when a deleted name is created again.
    r.internal.route = `${r.name.toLowerCase()}-${randomBytes(3).toString('hex')}`;
  },
  render: (r, doc, ctx) => {
    const uri = `${ctx.origin}/serverless/${encodeURIComponent(String(r.internal.route))}`;
    const properties: Record<string, unknown> = { ...(doc.properties as object), inferenceEndpoint: { uri } };
    // S1 requires an offer; an endpoint created at a later version names its model instead.
    if (properties.offer === undefined && offerRequiredAt(ctx.apiVersion)) properties.offer = offerOf(r, properties);
    doc.properties = properties;
  },
};
