import { randomBytes, randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { ActionDef, ResourceType, VersionDef } from '../../arm/resource-type.js';
import type { RequestContext } from '../../arm/context.js';
import type { StoredResource } from '../../store/types.js';
import type { Provider } from '../../arm/registry.js';
import { Nullable, ReadOnly } from '../../arm/schema.js';
import { provisioningStateOnly } from '../../arm/common-types.js';
import { ARM_OPERATION_URLS } from '../../arm/resource-groups.js';
import {
  actionSync,
  checkExistence,
  createOrReplaceSync,
  deleteSync,
  listByParent,
  listBySubscription,
  read,
  updateSync,
} from '../../arm/operations/templates.js';

/**
 * Placeholders: other providers' resources that templates create beside Azure ML's (storage accounts, key vaults,
 * AI Services accounts…). They are stored as sent and answered as sent, with `provisioningState: Succeeded` and
 * the read-only fields templates read filled with plausible values. They are not emulations: nothing is validated
 * beyond a JSON object body, every api-version is accepted, and no service stands behind the endpoints they name.
 */

export type Doc = Record<string, unknown>;

/** Values minted once when a placeholder is created and kept for its life: ids and keys (never logged). */
export interface Minted {
  /** Two GUIDs (principal / client ids, instrumentation keys, customer ids…). */
  guids: [string, string];
  /** Two secrets of 64 random bytes; each type shows them in the form its service uses. */
  keys: [Buffer, Buffer];
  /** The tenant of the caller that created it. */
  tenantId: string;
  createdAt: string;
}

interface StoredMinted {
  guids: [string, string];
  keys: [string, string];
  tenantId: string;
  createdAt: string;
}

const ZERO = '00000000-0000-0000-0000-000000000000';

export function mintedOf(r: StoredResource): Minted {
  const m = r.internal.placeholder as StoredMinted | undefined;
  // Every placeholder mints at creation; a row without (written by hand) still answers, with zero values.
  if (!m) return { guids: [ZERO, ZERO], keys: [Buffer.alloc(64), Buffer.alloc(64)], tenantId: ZERO, createdAt: '' };
  return {
    guids: m.guids,
    keys: [Buffer.from(m.keys[0], 'base64'), Buffer.from(m.keys[1], 'base64')],
    tenantId: m.tenantId,
    createdAt: m.createdAt,
  };
}

const open = { additionalProperties: Type.Unknown() };

/** Any JSON object: the fields the engine reads are given their JSON types, everything else is kept as sent. */
const PUT = Type.Object(
  {
    id: ReadOnly(),
    name: ReadOnly(),
    type: ReadOnly(),
    systemData: ReadOnly(),
    etag: ReadOnly(),
    location: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
    identity: Type.Optional(
      Type.Object({ type: Type.Optional(Type.String()), principalId: ReadOnly(), tenantId: ReadOnly() }, open),
    ),
    properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  open,
);

const PATCH = Type.Object(
  {
    tags: Type.Optional(Nullable(Type.Record(Type.String(), Nullable(Type.String())))),
    identity: Type.Optional(
      Type.Object({ type: Type.Optional(Type.String()), principalId: ReadOnly(), tenantId: ReadOnly() }, open),
    ),
    properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  open,
);

const AS_SENT: VersionDef = { put: PUT, patch: PATCH, closed: false };

export interface PlaceholderSpec {
  /** The full ARM type, e.g. Microsoft.Storage/storageAccounts. */
  type: string;
  parent?: ResourceType;
  /** The route parameter of this level's name. */
  param: string;
  /** The api-version `/providers` lists (tools that pick one from there use it); every other is accepted too. */
  version: string;
  /** Read-only fields a template reads, computed at each read (they follow the name and the stored values). */
  fill?(r: StoredResource, doc: Doc, ctx: RequestContext): void;
  /** Drops what Azure never stores or shows (e.g. a secret's value). */
  prepare?(doc: Doc): void;
  actions?: ActionDef[];
  /** Fields Azure never shows on a read (see `ResourceType.writeOnly`). */
  writeOnly?: readonly string[];
}

/** A placeholder type: synchronous PUT / PATCH (merge) / DELETE, GET and lists, any api-version. */
export function placeholder(spec: PlaceholderSpec): ResourceType {
  return {
    type: spec.type,
    parent: spec.parent,
    param: spec.param,
    versions: { [spec.version]: AS_SENT },
    anyVersion: true,
    writeOnly: spec.writeOnly,
    operations: {
      read: read(),
      checkExistence: checkExistence(),
      listByParent: listByParent(),
      ...(spec.parent ? {} : { listBySubscription: listBySubscription() }),
      createOrReplace: createOrReplaceSync(),
      update: updateSync({ mergeProperties: true }),
      delete: deleteSync(),
      actions: spec.actions,
    },
    lifecycle: provisioningStateOnly,
    onCreate: (r, ctx) => {
      const stored: StoredMinted = {
        guids: [randomUUID(), randomUUID()],
        keys: [randomBytes(64).toString('base64'), randomBytes(64).toString('base64')],
        tenantId: ctx.principal.tenantId,
        createdAt: r.createdAt,
      };
      r.internal.placeholder = stored;
    },
    prepare: spec.prepare && (async (_ctx, doc) => spec.prepare!(doc)),
    render: spec.fill && ((r, doc, ctx) => spec.fill!(r, doc, ctx)),
  };
}

/** Adds `fields` to the rendered document's `properties` (a fresh object: render never edits stored ones). */
export function fillProperties(doc: Doc, fields: Doc): void {
  doc.properties = { ...((doc.properties as Doc | undefined) ?? {}), ...fields };
}

export const propsOf = (doc: Doc): Doc => (doc.properties ?? {}) as Doc;

/** A POST action answering `body(resource)` at once. */
export const keysAction = (path: string, body: (r: StoredResource) => unknown, method: 'POST' | 'GET' = 'POST') =>
  actionSync({ method, path, handle: async (_ctx, r) => ({ status: 200, body: body(r) }) });

/** A provider of placeholder types; operations are synchronous, so ARM's own operation URLs are never used. */
export const placeholderProvider = (namespace: string, types: ResourceType[]): Provider => ({
  namespace,
  operationUrls: ARM_OPERATION_URLS,
  types,
});

/** The DNS label of a resource: Azure's host names are lower case. */
export const host = (name: string): string => name.toLowerCase();
