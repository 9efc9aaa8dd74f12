import { Type, type TSchema } from '@sinclair/typebox';
import { versionsFrom, type ActionDef, type ResourceType, type VersionDef } from '../../arm/resource-type.js';
import type { StoredResource } from '../../store/types.js';
import type { RequestContext } from '../../arm/context.js';
import { Enum, ReadOnly, shapes, validate } from '../../arm/schema.js';
import { nameRule } from '../../arm/ids.js';
import { PAGE_SIZE, decodeToken, encodeToken, nextLink } from '../../arm/paging.js';
import {
  actionSync,
  checkExistence,
  createOrReplaceSync,
  deleteSync,
  listByParent,
  read,
  updateSync,
  type ListRequest,
} from '../../arm/operations/templates.js';
import { API_VERSIONS, typeName } from './provider.js';
import { workspaces } from './workspaces.js';

type Doc = Record<string, unknown>;

/** Every `authType` some version knows; each version's family names its own subset. */
const AUTH_V1 = ['None', 'PAT', 'ManagedIdentity', 'UsernamePassword', 'SAS'] as const;
const AUTH_V1_PREVIEW = [...AUTH_V1, 'AccessKey', 'ServicePrincipal'] as const;
const AUTH_V2 = [...AUTH_V1_PREVIEW, 'ApiKey', 'CustomKeys'] as const;
const AUTH_V3 = [...AUTH_V2, 'AAD', 'AccountKey', 'OAuth2'] as const;
type AuthType = (typeof AUTH_V3)[number];

/** How one family of api-versions (flat/connections-<version>.txt) differs from the others. */
interface Family {
  /** Whether the swagger gives the name its pattern (absent before 2023-06-01-preview, and in 2023-04-01). */
  named: boolean;
  authTypes: readonly AuthType[];
  /** The optional writable fields of `properties` besides category, target, authType and credentials. */
  fields: readonly (keyof typeof FIELDS)[];
  /** The read-only fields the version shows. */
  readOnly: readonly ('createdByWorkspaceArmId' | 'group')[];
  /** `metadata`: free-form (`any`) in the 2023 previews and 2024-01-01-preview, a string map afterwards. */
  metadata?: 'any' | 'map';
  /** 2024-01-01-preview's AccountKey credentials carry `sas`; later versions a `key`. */
  accountKey?: 'sas' | 'key';
}

const FIELDS = {
  value: Type.String(),
  valueFormat: Type.String(),
  expiryTime: Type.String(),
  isSharedToAll: Type.Boolean(),
  sharedUserList: Type.Array(Type.String()),
  error: Type.String(),
  peRequirement: Type.String(),
  peStatus: Type.String(),
  useWorkspaceManagedIdentity: Type.Boolean(),
};

const LEGACY = ['value', 'valueFormat'] as const;
const V3_FIELDS = ['expiryTime', 'isSharedToAll', 'sharedUserList'] as const;
const V3_READ_ONLY = ['createdByWorkspaceArmId', 'group'] as const;

/**
 * Microsoft.MachineLearningServices/workspaces/connections, per family of the bicep types: the 2023 previews and
 * stables (`value`/`valueFormat`, five or seven auth types), the 2023-06/08 previews (ApiKey, CustomKeys, metadata),
 * 2024-01-01-preview (AAD, AccountKey, OAuth2), 2024-04-01-preview (string-map metadata), the hand-written stables
 * 2024-04-01 … 2025-09-01 (`value` again) and the current family (2024-07-01-preview and every TypeSpec version:
 * `error`, `peRequirement`, `peStatus`, `useWorkspaceManagedIdentity`).
 */
const FAMILIES = {
  v2302p: { named: false, authTypes: AUTH_V1_PREVIEW, fields: LEGACY, readOnly: [] },
  v2304p: { named: false, authTypes: AUTH_V1_PREVIEW, fields: [...LEGACY, 'expiryTime'], readOnly: [] },
  v2304: { named: false, authTypes: AUTH_V1, fields: LEGACY, readOnly: [] },
  v2310: { named: true, authTypes: AUTH_V1, fields: LEGACY, readOnly: [] },
  v2306p: { named: true, authTypes: AUTH_V2, fields: ['expiryTime'], readOnly: [], metadata: 'any' },
  v2308p: {
    named: true,
    authTypes: AUTH_V2,
    fields: ['expiryTime', 'isSharedToAll'],
    readOnly: ['createdByWorkspaceArmId'],
    metadata: 'any',
  },
  v2401p: {
    named: true,
    authTypes: AUTH_V3,
    fields: V3_FIELDS,
    readOnly: V3_READ_ONLY,
    metadata: 'any',
    accountKey: 'sas',
  },
  v2404p: { named: true, authTypes: AUTH_V3, fields: V3_FIELDS, readOnly: V3_READ_ONLY, metadata: 'map' },
  stable: {
    named: true,
    authTypes: AUTH_V3,
    fields: [...V3_FIELDS, ...LEGACY],
    readOnly: V3_READ_ONLY,
    metadata: 'map',
  },
  current: {
    named: true,
    authTypes: AUTH_V3,
    fields: [...V3_FIELDS, 'error', 'peRequirement', 'peStatus', 'useWorkspaceManagedIdentity'],
    readOnly: V3_READ_ONLY,
    metadata: 'map',
  },
} satisfies Record<string, Family>;
type FamilyName = keyof typeof FAMILIES;

const TABLE: Readonly<Record<string, FamilyName>> = API_VERSIONS.connections;
/** The versions whose swagger has POST `listsecrets`: every one from 2023-06-01-preview except 2023-10-01. */
const WITHOUT_LIST_SECRETS: readonly FamilyName[] = ['v2302p', 'v2304p', 'v2304', 'v2310'];
const LIST_SECRETS_VERSIONS = Object.keys(TABLE).filter((v) => !WITHOUT_LIST_SECRETS.includes(TABLE[v]));

const { obj } = shapes(false);
const str = () => Type.Optional(Type.String());
const STRING_MAP = Type.Record(Type.String(), Type.String());
const UUID = '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$';

/** Each auth type's `credentials` (open objects: unknown members are dropped, as for the rest of the body). */
function credentialsSchema(authType: AuthType, f: Family): TSchema | undefined {
  switch (authType) {
    case 'None':
    case 'AAD':
      return undefined;
    case 'PAT':
      return obj({ pat: str() });
    case 'SAS':
      return obj({ sas: str() });
    case 'ApiKey':
      return obj({ key: str() });
    case 'AccountKey':
      return f.accountKey === 'sas' ? obj({ sas: str() }) : obj({ key: str() });
    case 'AccessKey':
      return obj({ accessKeyId: str(), secretAccessKey: str() });
    case 'ManagedIdentity':
      return obj({ resourceId: str(), clientId: str() });
    case 'UsernamePassword':
      return obj({ username: str(), password: str(), securityToken: str() });
    case 'ServicePrincipal':
      return obj({ clientId: str(), clientSecret: str(), tenantId: str() });
    case 'CustomKeys':
      return obj({ keys: Type.Optional(STRING_MAP) });
    case 'OAuth2':
      return obj({
        authUrl: str(),
        clientId: Type.Optional(Type.String({ pattern: UUID, minLength: 36, maxLength: 36 })),
        clientSecret: str(),
        developerToken: str(),
        password: str(),
        refreshToken: str(),
        tenantId: str(),
        username: str(),
      });
  }
}

function versionDef(f: Family): VersionDef {
  const fields = Object.fromEntries(f.fields.map((k) => [k, Type.Optional(FIELDS[k])]));
  const metadata: Record<string, TSchema> = {};
  if (f.metadata) metadata.metadata = Type.Optional(f.metadata === 'map' ? STRING_MAP : Type.Unknown());
  const readOnly = Object.fromEntries(f.readOnly.map((k) => [k, ReadOnly()]));
  const properties = obj({
    // The swagger leaves `category` optional, but a connection means nothing without one (Bicep's AVM module and
    // the ML clients always send it); amlite requires it so a forgotten category fails at once.
    category: Type.String({ minLength: 1 }),
    target: str(),
    authType: Enum(f.authTypes),
    // Checked against the auth type's own shape in `prepare`, then kept out of the document.
    credentials: Type.Optional(Type.Unknown()),
    ...fields,
    ...metadata,
    ...readOnly,
  });
  const rule = f.named ? nameRule('^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$') : undefined;
  return {
    put: obj({ id: ReadOnly(), name: ReadOnly(), type: ReadOnly(), systemData: ReadOnly(), properties }),
    patch: obj({ properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
    closed: false,
    ...(rule ? { putName: rule, name: rule } : {}),
  };
}

const familyOf = (apiVersion: string): Family => FAMILIES[TABLE[apiVersion] ?? 'current'];

/** The credentials are the connection's secret: kept in its internal state, shown only by `listsecrets`. */
interface ConnectionSecrets {
  credentials?: Doc;
}
const secretsOf = (r: StoredResource): ConnectionSecrets => r.internal as ConnectionSecrets;

/** Credentials of a create, between `prepare` (which has the document) and `onCreate` (which has the resource). */
const pendingCredentials = new WeakMap<object, Doc>();

/** Takes `credentials` out of `properties`, validated against the auth type's shape at the request's version. */
function takeCredentials(ctx: RequestContext, properties: Doc): Doc | undefined {
  const given = properties.credentials;
  delete properties.credentials;
  if (given === undefined || given === null) return undefined;
  const schema = credentialsSchema(properties.authType as AuthType, familyOf(ctx.apiVersion));
  if (!schema) return undefined;
  const checked = validate<{ properties: { credentials: Doc } }>(
    obj({ properties: obj({ credentials: schema }) }),
    { properties: { credentials: given } },
    false,
  );
  return checked.properties.credentials;
}

/**
 * Keeps the credentials of a PUT or PATCH out of the stored document. Given ones replace the stored ones; without
 * them the stored ones stay while the auth type does (a PATCH of the target keeps the key), and go when it changes.
 */
async function prepare(ctx: RequestContext, doc: Doc, existing: StoredResource | undefined): Promise<void> {
  const properties = doc.properties as Doc;
  const given = takeCredentials(ctx, properties);
  if (!existing) {
    if (given) pendingCredentials.set(doc, given);
    return;
  }
  // The engine builds the stored resource from `existing` (sharing its `internal`), so the change lands with the
  // same conditional commit as the document.
  const secrets = secretsOf(existing);
  const sameAuth = (existing.body.properties as Doc | undefined)?.authType === properties.authType;
  if (given) secrets.credentials = given;
  else if (!sameAuth) delete secrets.credentials;
}

/** The connection as the request's api-version shows it: only the fields that version knows. */
function view(r: StoredResource, ctx: RequestContext): Doc {
  const f = familyOf(ctx.apiVersion);
  const known = new Set<string>(['category', 'target', 'authType', ...f.fields, ...(f.metadata ? ['metadata'] : [])]);
  const stored = (r.body.properties ?? {}) as Doc;
  const properties: Doc = Object.fromEntries(Object.entries(stored).filter(([k]) => known.has(k)));
  if (f.readOnly.includes('createdByWorkspaceArmId'))
    properties.createdByWorkspaceArmId = r.id.slice(0, r.id.toLowerCase().lastIndexOf('/connections/'));
  return properties;
}

const listSecrets: ActionDef = actionSync({
  method: 'POST',
  path: 'listsecrets',
  versions: LIST_SECRETS_VERSIONS,
  handle: async (ctx, r) => {
    const properties = view(r, ctx);
    const { credentials } = secretsOf(r);
    if (credentials && credentialsSchema(properties.authType as AuthType, familyOf(ctx.apiVersion)))
      properties.credentials = credentials;
    const body = { id: r.id, name: r.name, type: r.type, properties, systemData: r.systemData };
    return { status: 200, body };
  },
});

/** LIST with the swagger's `target` and `category` filters (category without case), keyset-paged by `$skip`. */
async function listConnections({ ctx, rows, render }: ListRequest) {
  const q = ctx.url.searchParams;
  const target = q.get('target') ?? undefined;
  const category = q.get('category')?.toLowerCase();
  const after = decodeToken(q.get('$skip') ?? q.get('$skipToken'));
  const matching = (await rows()).filter((r) => {
    const p = (r.body.properties ?? {}) as Doc;
    return (
      (target === undefined || p.target === target) &&
      (category === undefined || String(p.category).toLowerCase() === category) &&
      (after === undefined || r.key > after)
    );
  });
  const shown = matching.slice(0, PAGE_SIZE);
  const body: Doc = { value: await render(shown) };
  if (matching.length > PAGE_SIZE) body.nextLink = nextLink(ctx, '$skip', encodeToken(shown.at(-1)!.key));
  return { status: 200, body };
}

export const connections: ResourceType = {
  type: typeName('workspaces/connections'),
  parent: workspaces,
  param: 'connectionName',
  writeOnly: ['properties.credentials'],
  versions: versionsFrom(
    API_VERSIONS.connections,
    Object.fromEntries(Object.entries(FAMILIES).map(([k, f]) => [k, versionDef(f)])) as Record<FamilyName, VersionDef>,
  ),
  operations: {
    read: read(),
    checkExistence: checkExistence(),
    listByParent: listByParent(listConnections),
    // The swagger declares 200 only, for a create as for a replace.
    createOrReplace: createOrReplaceSync({ createdStatus: 200 }),
    // PATCH is in the previews from 2023-06-01-preview and the stables from 2024-10-01; amlite serves it at every one.
    update: updateSync({ mergeProperties: true }),
    delete: deleteSync(),
    actions: [listSecrets],
  },
  // A connection has no provisioningState in any version.
  lifecycle: () => ({}),
  prepare: (ctx, doc, existing) => prepare(ctx, doc, existing),
  onCreate: (r) => {
    const given = pendingCredentials.get(r.body);
    pendingCredentials.delete(r.body);
    if (given) secretsOf(r).credentials = given;
  },
  render: (r, doc, ctx) => {
    doc.properties = view(r, ctx);
  },
};
