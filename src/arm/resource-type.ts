import type { TSchema } from '@sinclair/typebox';
import type { NameRule } from './ids.js';
import type { OperationRecord, StoredResource } from '../store/types.js';
import type { RequestContext, ResourceReader } from './context.js';
import type { LroMode } from './lro/index.js';
import type { Operations } from './operations/templates.js';

/**
 * Where a resource is in its lifecycle; each type maps phases to the state fields it shows in `properties`.
 * `failed` is a create that failed; `updateFailed` and `deleteFailed` leave an existing resource behind.
 */
export type Phase = 'creating' | 'updating' | 'deleting' | 'succeeded' | 'failed' | 'updateFailed' | 'deleteFailed';

export interface VersionDef {
  /** The PUT body. Read-only fields are stripped before validation. */
  put: TSchema;
  /** The PATCH body (for a free-form PATCH, the merged document is validated against `put` too). */
  patch: TSchema;
  /** true: unknown fields are rejected (the version's swagger closes its objects); false: dropped silently. */
  closed: boolean;
  /** The name rule of PUT; `name` covers every other operation. */
  putName?: NameRule;
  name?: NameRule;
  /**
   * What a read at this version shows of the one stored resource (e.g. `viewOf(put)`: the fields its schema
   * declares); absent: everything stored. Fields it hides stay stored (another version set them).
   */
  view?(doc: Record<string, unknown>): Record<string, unknown>;
  /** What the result URL of a finished delete answers at this version; absent: `operations.delete.doneStatus`. */
  deleteDoneStatus?: 200 | 204;
}

export interface ActionResult {
  status: number;
  body?: unknown;
  /** The resource to store (conditional on the ETag it was read with; the handler runs again if it lost a race). */
  update?: StoredResource;
  /** Start a long-running operation that completes through `ActionDef.complete`, answering 202 + Location. */
  async?: { payload: unknown };
}

export interface ActionDef {
  method: 'POST' | 'GET';
  /** The path below the resource, e.g. `listKeys` or `deltaModels/modify`. */
  path: string;
  /** The request body's schema per api-version; absent means the action takes no body. */
  body?: TSchema;
  bodyRequired?: boolean;
  /** The api-versions that have the action; absent: every version of the type. Others answer as an unknown path. */
  versions?: readonly string[];
  handle(
    ctx: RequestContext,
    resource: StoredResource,
    body: unknown,
    query: Record<string, string>,
  ): Promise<ActionResult>;
  /** Applies an asynchronous action when its operation completes; returns the resource to store. */
  complete?(resource: StoredResource, operation: OperationRecord): StoredResource;
  /** Set by `actionAsync`: how an accepted run of the action answers. */
  lro?: LroMode;
}

export interface ResourceType {
  /** The ARM type, e.g. Microsoft.Resources/resourceGroups. */
  type: string;
  /** undefined: directly under a resource group (or, with `scope: 'subscription'`, under the subscription). */
  parent?: ResourceType;
  /** ARM's own types at subscription scope (`/subscriptions/{s}/{collection}/{name}`, no providers segment). */
  scope?: 'subscription';
  /** The route parameter that carries this level's name. */
  param: string;
  /** Every api-version served, each mapped to its family's rules (see `versionsFrom`). */
  versions: Record<string, VersionDef>;
  /**
   * Every api-version is accepted and follows the last line of `versions` (the one `/providers` lists): for types
   * stored as sent rather than emulated. Read a version's rules through `versionOf`.
   */
  anyVersion?: boolean;
  /**
   * Dotted paths of write-only fields (e.g. `properties.credentials`): a read never shows them, so comparisons of a
   * request with the stored resource (a template's what-if) leave them out.
   */
  writeOnly?: readonly string[];
  /** The operations served, named as TypeSpec names them (operations/templates.ts). */
  operations: Operations;
  /** The state fields a phase shows in `properties`. */
  lifecycle(phase: Phase): Record<string, unknown>;
  /** Fills in what the server owns when a resource is first created (keys, routes, defaults). */
  onCreate?(resource: StoredResource, ctx: RequestContext): void;
  /** Fills in defaults and checks what a schema cannot, on every accepted PUT and PATCH. */
  prepare?(
    ctx: RequestContext,
    doc: Record<string, unknown>,
    existing: StoredResource | undefined,
    id: string,
  ): Promise<void>;
  /** Adds computed fields to the document the client sees; `related` is what `lookup` read for it. */
  render?(resource: StoredResource, doc: Record<string, unknown>, ctx: RequestContext, related?: unknown): void;
  /** Reads what `render` shows of other resources (e.g. a hub's projects), before each render of a GET/LIST/PUT. */
  lookup?(ctx: RequestContext, resource: StoredResource): Promise<unknown>;
  /**
   * Keys of other resources a write refers to: each must exist and not be Deleting when the write commits (checked
   * by the database with the write, as the parents are).
   */
  requires?(doc: Record<string, unknown>, existing: StoredResource | undefined, ctx: RequestContext): string[];
  /** Keys of other resources (with everything below them) that go when this one's delete completes. */
  deletesWith?(store: ResourceReader, resource: StoredResource): Promise<string[]>;
  /** Refuses a delete that must not happen (e.g. a group still routed to). */
  beforeDelete?(ctx: RequestContext, resource: StoredResource): Promise<void>;
}

/**
 * An api-version table as data: each version names the family of rules it shares, so a new version that shares a
 * family's rules is one line in the table.
 */
export function versionsFrom<F extends string>(
  table: Readonly<Record<string, F>>,
  families: Readonly<Record<F, VersionDef>>,
): Record<string, VersionDef> {
  return Object.fromEntries(Object.entries(table).map(([version, family]) => [version, families[family as F]]));
}

/** The rules `apiVersion` follows for `t`: its line of the table, or for an `anyVersion` type the table's last. */
export function versionOf(t: ResourceType, apiVersion: string): VersionDef | undefined {
  return t.versions[apiVersion] ?? (t.anyVersion ? Object.values(t.versions).at(-1) : undefined);
}

/** The last segment of a type (e.g. resourceGroups), i.e. its collection in the path. */
export const collectionOf = (t: ResourceType): string => t.type.split('/').at(-1)!;

export const namespaceOf = (t: ResourceType): string => t.type.split('/')[0];

/** The chain from the top-level type down to `t`. */
export function lineage(t: ResourceType): ResourceType[] {
  const chain: ResourceType[] = [];
  for (let cur: ResourceType | undefined = t; cur; cur = cur.parent) chain.unshift(cur);
  return chain;
}
