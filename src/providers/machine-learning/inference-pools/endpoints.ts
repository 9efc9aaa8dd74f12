import { randomBytes } from 'node:crypto';
import { Type, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ResourceType } from '../../../arm/resource-type.js';
import { Enum, Nullable, OpenEnum, ReadOnly } from '../../../arm/schema.js';
import { errors } from '../../../arm/errors.js';
import { childKey, keyOf, parentKeyOf } from '../../../arm/ids.js';
import {
  ENDPOINT_TYPE,
  GROUP_TYPE,
  commonRules,
  duration,
  int32,
  isV1,
  poolFamilyArm,
  poolVersions,
  openShapes,
  routedGroupName,
  trackedSchema,
  v1RequiredName,
  v1TrackedSchema,
} from './family.js';
import { inferencePools } from './pools.js';

type Doc = Record<string, unknown>;

const { obj, partialTags, partialSku, partialIdentity } = openShapes;

/** At least one request in flight per instance: with 0, every data-plane request would be refused (429) forever. */
export const MIN_CONCURRENT_REQUESTS = 1;

const REQUEST_DEFAULTS = { maxConcurrentRequestsPerInstance: 1, requestTimeout: 'PT5S' };

const put = trackedSchema({
  authMode: Enum(['AAD']),
  groupName: Type.String({ minLength: 1, pattern: '[a-zA-Z0-9_]' }),
  endpointUri: ReadOnly(),
  requestConfiguration: Type.Optional(
    Nullable(
      obj({
        maxConcurrentRequestsPerInstance: Type.Optional(int32({ minimum: MIN_CONCURRENT_REQUESTS })),
        requestTimeout: Type.Optional(duration()),
      }),
    ),
  ),
});
const propertiesSchema = put.properties.properties as TObject;

/** v1 (2023-08-01-preview … 2024-04-01-preview): `groupId` names the group (v2 calls it groupName). */
const v1Put = v1TrackedSchema({
  authMode: OpenEnum(['AAD']),
  groupId: v1RequiredName(),
  endpointUri: ReadOnly(),
});
const v1PropertiesSchema = v1Put.properties.properties as TObject;
const patch = obj({
  tags: partialTags,
  sku: Type.Optional(partialSku),
  identity: Type.Optional(partialIdentity),
  properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const inferenceEndpoints: ResourceType = {
  type: ENDPOINT_TYPE,
  parent: inferencePools,
  param: 'endpointName',
  versions: poolVersions({ v1: { put: v1Put, patch }, preview: { put, patch } }),
  ...poolFamilyArm({ mergeProperties: true }),
  prepare: async (ctx, doc, existing, id) => {
    // A merged PATCH may carry fields the schema does not know: they are dropped, as on PUT.
    const v1 = isV1(ctx);
    const props = Value.Clean(v1 ? v1PropertiesSchema : propertiesSchema, doc.properties) as Doc;
    delete props.endpointUri;
    doc.properties = props;
    commonRules(doc, existing);
    if (!v1)
      props.requestConfiguration = { ...REQUEST_DEFAULTS, ...(props.requestConfiguration as Doc | null | undefined) };
    const groupName = routedGroupName(props);
    const group = await ctx.store.get(childKey(parentKeyOf(keyOf(id)), GROUP_TYPE, groupName));
    if (!group || (group.body.properties as Doc | undefined)?.provisioningState === 'Deleting')
      throw errors.badRequest(
        `The inference group '${groupName}' does not exist in this pool: an endpoint must name a group of its own pool.`,
        v1 ? 'properties.groupId' : 'properties.groupName',
      );
  },
  onCreate: (r) => {
    r.internal.route = `${r.name.toLowerCase()}-${randomBytes(3).toString('hex')}`;
  },
  render: (r, doc, ctx) => {
    const route = encodeURIComponent(String(r.internal.route));
    doc.properties = { ...(doc.properties as Doc), endpointUri: `${ctx.origin}/pools/${route}` };
  },
};
