import { Type, type TProperties } from '@sinclair/typebox';
import { versionsFrom, type ActionDef, type ResourceType, type VersionDef } from '../../../arm/resource-type.js';
import type { StoredResource } from '../../../store/types.js';
import type { ResourceReader } from '../../../arm/context.js';
import { Nullable, ReadOnly, viewOf } from '../../../arm/schema.js';
import { errors } from '../../../arm/errors.js';
import { nameRule } from '../../../arm/ids.js';
import { armShapes, provisioningStateOnly } from '../../../arm/common-types.js';
import {
  checkExistence,
  createOrReplaceAsync,
  deleteAsync,
  listByParent,
  read,
  updateAsync,
} from '../../../arm/operations/templates.js';
import { API_VERSIONS, typeName } from '../provider.js';
import { poolQueryList } from './query.js';

/** The inference-pool family: shapes, operations and rules the pool, its groups and its endpoints share. */
export const POOL_TYPE = typeName('workspaces/inferencePools');
export const GROUP_TYPE = `${POOL_TYPE}/groups`;
export const ENDPOINT_TYPE = `${POOL_TYPE}/endpoints`;

export const POOL_NAME = nameRule('^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$');

type Doc = Record<string, unknown>;
interface KeyValue {
  key?: string;
  value?: string;
}

export const openShapes = armShapes(false);
export { int32 } from '../../../arm/common-types.js';
export const duration = () =>
  Type.String({
    pattern:
      '^-?P(?!$)(\\d+(\\.\\d+)?Y)?(\\d+(\\.\\d+)?M)?(\\d+(\\.\\d+)?W)?(\\d+(\\.\\d+)?D)?(T(?=\\d)(\\d+(\\.\\d+)?H)?(\\d+(\\.\\d+)?M)?(\\d+(\\.\\d+)?S)?)?$',
  });
export const keyValueList = () =>
  Type.Optional(
    Nullable(Type.Array(openShapes.obj({ key: Type.Optional(Type.String()), value: Type.Optional(Type.String()) }))),
  );

/** PropertiesBase plus the read-only provisioningState every pool resource shows. */
export const baseProperties = {
  description: Type.Optional(Nullable(Type.String())),
  properties: keyValueList(),
  provisioningState: ReadOnly(),
};

/** A tracked resource of this family: PUT body with `properties` required. */
export function trackedSchema(properties: TProperties) {
  const { obj, tracked, identity, sku } = openShapes;
  return obj({
    ...tracked,
    kind: Type.Optional(Type.String()),
    identity: Type.Optional(identity),
    sku: Type.Optional(sku),
    properties: obj({ ...baseProperties, ...properties }),
  });
}

/** What the pool, its groups and its endpoints share in ARM: every write a long-running operation, a finished
 * delete answers 200, lists filter and page by the family's query, and `properties` shows only a provisioningState. */
export function poolFamilyArm(
  o: { actions?: ActionDef[]; mergeProperties?: boolean } = {},
): Pick<ResourceType, 'operations' | 'lifecycle'> {
  return {
    operations: {
      read: read(),
      checkExistence: checkExistence(),
      listByParent: listByParent(poolQueryList),
      createOrReplace: createOrReplaceAsync(),
      update: updateAsync({ mergeProperties: o.mergeProperties }),
      delete: deleteAsync({ doneStatus: 200 }),
      ...(o.actions ? { actions: o.actions } : {}),
    },
    lifecycle: provisioningStateOnly,
  };
}

type FamilyDef = Omit<VersionDef, 'closed' | 'putName' | 'name'>;

/**
 * The family's two version families (API-VERSIONS.md §5): `v1` (2023-08-01-preview … 2024-04-01-preview) and
 * `preview` (every v2). Open objects, the pool name rule; each version shows only the fields its schema declares.
 */
export function poolVersions(defs: { v1: FamilyDef; preview: FamilyDef }): Record<string, VersionDef> {
  const family = (def: FamilyDef): VersionDef => ({
    view: viewOf(def.put),
    ...def,
    closed: false,
    putName: POOL_NAME,
    name: POOL_NAME,
  });
  return versionsFrom(API_VERSIONS.inferencePools, { v1: family(defs.v1), preview: family(defs.preview) });
}

/** Whether the request's api-version has the v1 shape. */
export const isV1 = (ctx: { apiVersion: string }): boolean =>
  (API_VERSIONS.inferencePools as Record<string, string>)[ctx.apiVersion] === 'v1';

/** v1's `properties.properties`: a string map (v2 makes it a key/value list). */
export const v1PropertyMap = () => Type.Optional(Nullable(Type.Record(Type.String(), Type.String())));

/** A v1 tracked resource: PUT body with `properties` required, `properties.properties` a map. */
export const v1TrackedSchema = (properties: TProperties) =>
  trackedSchema({ properties: v1PropertyMap(), ...properties });

/** A v1 required name-like string: `minLength 1, pattern [a-zA-Z0-9_]`. */
export const v1RequiredName = () => Type.String({ minLength: 1, pattern: '[a-zA-Z0-9_]' });

/** The rules every pool, group and endpoint shares, run on each accepted PUT and PATCH. */
export function commonRules(doc: Doc, existing: StoredResource | undefined): void {
  const sku = doc.sku as Doc | undefined;
  if (sku && typeof sku.name !== 'string')
    throw errors.invalidContent([{ path: 'sku.name', message: 'Required property is missing: a sku needs a name.' }]);
  checkPropertyList(
    (doc.properties as Doc | undefined)?.properties,
    (existing?.body.properties as Doc | undefined)?.properties,
  );
}

/** `properties.properties` may gain entries; an entry once stored can be neither removed nor changed. */
function checkPropertyList(next: unknown, stored: unknown): void {
  // v1's string map (written or stored) has no such rule.
  const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isMap(next) || isMap(stored)) return;
  const given = new Map<string, string | undefined>();
  for (const kv of (Array.isArray(next) ? next : []) as KeyValue[]) {
    const key = kv.key ?? '';
    if (given.has(key))
      throw errors.badRequest(
        `The property '${key}' appears more than once in properties.properties.`,
        'properties.properties',
      );
    given.set(key, kv.value);
  }
  for (const kv of (Array.isArray(stored) ? stored : []) as KeyValue[]) {
    const key = kv.key ?? '';
    if (!given.has(key))
      throw errors.badRequest(
        `The property '${key}' cannot be removed: entries of properties.properties can be added, but not removed or changed.`,
        'properties.properties',
      );
    if (given.get(key) !== kv.value)
      throw errors.badRequest(
        `The property '${key}' cannot be changed from '${kv.value ?? ''}' to '${given.get(key) ?? ''}': entries of properties.properties can be added, but not removed or changed.`,
        'properties.properties',
      );
  }
}

/** Every endpoint of a pool. */
export const endpointsOf = (store: ResourceReader, poolKey: string) =>
  store.listChildren(poolKey, ENDPOINT_TYPE, { limit: Number.MAX_SAFE_INTEGER });

/** The versions of one family: an action that only one family's swaggers have lists them (`ActionDef.versions`). */
const versionsIn = (family: 'v1' | 'preview'): readonly string[] =>
  Object.entries(API_VERSIONS.inferencePools)
    .filter(([, f]) => f === family)
    .map(([v]) => v);
export const V1_VERSIONS = versionsIn('v1');
export const V2_VERSIONS = versionsIn('preview');

/**
 * The group an endpoint routes to: v2's `groupName`, or v1's `groupId` (a group name, or the group's full id, whose
 * last segment is the name).
 */
export function routedGroupName(props: Doc): string {
  if (typeof props.groupName === 'string') return props.groupName;
  const id = String(props.groupId ?? '');
  return id.includes('/') ? (id.split('/').filter(Boolean).at(-1) ?? '') : id;
}
