import { isBeingDeleted, type Store, type StoredResource, type Write, type OperationRecord } from '../store/types.js';
import type { Provisioner } from '../provisioner/provisioner.js';
import type { Profile } from '../provisioner/profiles.js';
import type { RequestContext } from './context.js';
import type { ActionDef, ResourceType, VersionDef } from './resource-type.js';
import { versionOf } from './resource-type.js';
import { TypeRegistry } from './registry.js';
import type { ManagementHooks } from './hooks.js';
import { ArmError, errors } from './errors.js';
import { checkName, keyOf, normalizeLocation } from './ids.js';
import { checkPreconditions, isConditional, newEtag } from './etag.js';
import { validate } from './schema.js';
import { mergePatch, isPlainObject } from './merge-patch.js';
import { resolveIdentity, type Identity } from './identity.js';
import { checkTags } from './tags.js';
import {
  REQUEST_COMMIT_ATTEMPTS,
  acceptedHeaders,
  commitWithRetry,
  newOperation,
  type LroMode,
  type Reply,
} from './lro/index.js';
import { PAGE_SIZE, decodeToken, encodeToken, nextLink } from './paging.js';
import { RESOURCE_GROUP_TYPE, isResourceGroup } from './resource-groups.js';
import { JsonText, RenderCache } from './render-cache.js';

export type { Reply } from './lro/index.js';

/** A resource addressed by a request: its id and the ids of the resources it lives under. */
export interface ResourceRef {
  id: string;
  key: string;
  name: string;
  parentKey: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Every enclosing resource from the resource group down, for the parent checks. */
  ancestors: { type: string; id: string; name: string }[];
}

type Doc = Record<string, unknown>;

/** The ARM contract over any ResourceType: CRUD, actions, ETags, systemData, identities, lifecycle, paging. */
export class Engine {
  /** The rendered forms the management plane's GET and LIST answer with (see render-cache.ts). */
  private readonly rendered = new RenderCache();
  /** Operations whose accepting commit also ended them (the fast profile; see Provisioner.endsWithAcceptance). */
  private readonly endedOnAcceptance = new WeakSet<OperationRecord>();

  constructor(
    private readonly store: Store,
    private readonly provisioner: Provisioner,
    private readonly profile: Profile,
    /** Every type served (default: ARM's own only, for tools that render resources without a provider). */
    private readonly registry: TypeRegistry = new TypeRegistry([]),
    private readonly hooks?: ManagementHooks,
  ) {}

  /** The answer to a request whose operation was just committed: 202, once the provisioner has it. */
  private started(op: OperationRecord, t: ResourceType, ctx: RequestContext, mode: LroMode): Reply {
    this.schedule(op);
    return { status: 202, headers: this.accepted(op, t, ctx, mode), operationId: op.id };
  }

  /** The headers of an accepted request on `resource`, in its provider's operation URL shapes. */
  private accepted(op: OperationRecord, t: ResourceType, ctx: RequestContext, mode: LroMode): Record<string, string> {
    return acceptedHeaders(op, this.registry.operationUrlsOf(t), ctx, this.profile, mode);
  }

  // ---------- reads ----------

  /** Reads a resource, first finishing an operation on it that is due, so a finished operation never shows as running. */
  async load(key: string): Promise<StoredResource | undefined> {
    const r = await this.store.get(key);
    if (!r?.internal.pendingOperation) return r;
    await this.provisioner.settle(r.internal.pendingOperation);
    return this.store.get(key);
  }

  async get(t: ResourceType, ref: ResourceRef, ctx: RequestContext): Promise<Reply> {
    this.checkName(t, ref, ctx, 'other');
    const r = await this.load(ref.key);
    if (!r) throw await this.missing(t, ref);
    return { status: 200, body: await this.renderFull(t, r, ctx), headers: { etag: r.etag } };
  }

  /**
   * GET as the management plane answers it: the rendered JSON text, kept for as long as the stored text is the same.
   * Not kept: a resource with an operation on it (reading it may settle the operation), a type whose render reads
   * other resources (`lookup`), a store that cannot read its documents as text.
   */
  async getJson(t: ResourceType, ref: ResourceRef, ctx: RequestContext): Promise<Reply> {
    if (!this.store.getText || t.lookup) return this.get(t, ref, ctx);
    this.checkName(t, ref, ctx, 'other');
    const version = await this.store.dataVersion?.();
    let json = this.rendered.current(ref.key, version, formOf(ctx));
    if (!json) {
      const text = await this.store.getText(ref.key);
      if (text === undefined) throw await this.missing(t, ref);
      json = this.renderedJson(t, ref.key, text, ctx, version);
    }
    if (!json) return this.get(t, ref, ctx);
    return { status: 200, body: new JsonText(json.json), headers: { etag: json.etag } };
  }

  /**
   * The JSON text of the stored `text` (read at the store's data `version` or later) rendered for `ctx`; undefined
   * for a resource with an operation on it.
   */
  private renderedJson(t: ResourceType, key: string, text: string, ctx: RequestContext, version: string | undefined) {
    const form = formOf(ctx);
    const kept = this.rendered.form(key, text, form, version);
    if (kept) return kept;
    const r = JSON.parse(text) as StoredResource;
    if (r.internal.pendingOperation) return undefined;
    const json = JSON.stringify(this.render(t, r, ctx));
    this.rendered.put(key, text, r.etag, form, json, version);
    return { json, etag: r.etag };
  }

  async head(t: ResourceType, ref: ResourceRef): Promise<Reply> {
    return { status: (await this.store.get(ref.key)) ? 204 : 404 };
  }

  /**
   * Lists resources of type `t` under `parentKey` (direct children, or anywhere below for subscription-wide lists).
   * Keyset paging in key order with an opaque `$skip` token (flat cost at any depth), unless the type's list
   * operation brings its own query language.
   */
  async list(
    t: ResourceType,
    parentKey: string,
    ctx: RequestContext,
    scope: 'children' | 'below' = 'children',
  ): Promise<Reply> {
    const custom = t.operations.listByParent.query;
    if (custom && scope === 'children') {
      return custom({
        ctx,
        rows: () => this.store.listChildren(parentKey, t.type, { limit: Number.MAX_SAFE_INTEGER }),
        render: (rows) => this.renderAll(t, rows, ctx),
      });
    }
    const q = ctx.url.searchParams;
    const after = decodeToken(q.get('$skip') ?? q.get('$skipToken'));
    const page = { after, limit: PAGE_SIZE + 1 };
    const rows =
      scope === 'children'
        ? await this.store.listChildren(parentKey, t.type, page)
        : await this.store.listBelow(parentKey, t.type, page);
    const more = rows.length > PAGE_SIZE;
    const shown = more ? rows.slice(0, PAGE_SIZE) : rows;
    const body: Doc = { value: await this.renderAll(t, shown, ctx) };
    if (more) body.nextLink = nextLink(ctx, '$skip', encodeToken(shown.at(-1)!.key));
    return { status: 200, body };
  }

  /**
   * LIST of `parent`'s children as the management plane answers it: `list`'s page, its resources' JSON texts from
   * the rendered forms kept for their stored texts (see `getJson`), joined into the page's text; the parents checked.
   */
  async listJson(t: ResourceType, parent: ResourceRef, ctx: RequestContext): Promise<Reply> {
    const parentKey = parent.parentKey;
    if (!this.store.listChildrenText || t.lookup || t.operations.listByParent.query) {
      await this.checkParents(parent);
      return this.list(t, parentKey, ctx);
    }
    const q = ctx.url.searchParams;
    let after: string | undefined;
    try {
      after = decodeToken(q.get('$skip') ?? q.get('$skipToken'));
    } catch (e) {
      await this.checkParents(parent);
      throw e;
    }
    const version = await this.store.dataVersion?.();
    // The page's own URL is in its nextLink: the whole query, the origin and the version's rendering name it.
    const page = `${parentKey} ${t.type} ${after ?? ''} ${formOf(ctx)} ${ctx.url.search}`;
    const kept = this.rendered.page(page, version);
    if (kept !== undefined) return { status: 200, body: new JsonText(kept) };
    const rows = await this.store.listChildrenText(parentKey, t.type, { after, limit: PAGE_SIZE + 1 });
    // A resource that exists has its parents (see `missing`): only an empty page needs them read, for their 404.
    // A page kept at an unchanged data version was one or the other.
    if (rows.length === 0) await this.checkParents(parent);
    const more = rows.length > PAGE_SIZE;
    const shown = more ? rows.slice(0, PAGE_SIZE) : rows;
    const value: string[] = [];
    let settled = false;
    for (const row of shown) {
      const json = this.renderedJson(t, row.key, row.text, ctx, version)?.json;
      if (json !== undefined) {
        value.push(json);
        continue;
      }
      // An operation on it: reading it may finish the operation (when due), so the page is not kept.
      settled = true;
      const r = await this.load(row.key);
      if (r) value.push(JSON.stringify(await this.renderFull(t, r, ctx)));
    }
    const next = more ? `,"nextLink":${JSON.stringify(nextLink(ctx, '$skip', encodeToken(shown.at(-1)!.key)))}` : '';
    const json = `{"value":[${value.join(',')}]${next}}`;
    if (!settled && version !== undefined) this.rendered.putPage(page, version, json);
    return { status: 200, body: new JsonText(json) };
  }

  private async renderAll(t: ResourceType, rows: StoredResource[], ctx: RequestContext): Promise<Doc[]> {
    const value: Doc[] = [];
    for (const row of rows) {
      const r = row.internal.pendingOperation ? await this.load(row.key) : row;
      if (r) value.push(await this.renderFull(t, r, ctx));
    }
    return value;
  }

  /** `render` with what the type's `lookup` reads of other resources. */
  async renderFull(t: ResourceType, r: StoredResource, ctx: RequestContext): Promise<Doc> {
    return this.render(t, r, ctx, t.lookup ? await t.lookup(ctx, r) : undefined);
  }

  render(t: ResourceType, r: StoredResource, ctx: RequestContext, related?: unknown): Doc {
    // A copy of the top level only: render hooks replace or delete top-level members (never edit nested objects in
    // place), and every caller renders a resource it has just read or committed. A deep clone cost ~40% of a LIST page.
    const doc: Doc = { id: r.id, name: r.name, type: t.type, ...r.body, systemData: r.systemData };
    t.render?.(r, doc, ctx, related);
    return versionOf(t, ctx.apiVersion)?.view?.(doc) ?? doc;
  }

  // ---------- writes ----------

  async put(t: ResourceType, ref: ResourceRef, raw: unknown, ctx: RequestContext): Promise<Reply> {
    const v = this.version(t, ctx);
    this.checkName(t, ref, ctx, 'put');
    const { lro, serverOwned } = t.operations.createOrReplace;
    return this.retrying(ctx, async () => {
      const existing = await this.load(ref.key);
      if (!existing) await this.checkParents(ref, 'write');
      if (!isPlainObject(raw)) throw errors.bodyRequired();
      checkPreconditions(ctx, existing, ref.id, true);
      this.checkIdle(existing, ref);
      if (existing) checkStateKept(raw, existing);
      const doc = validate<Doc>(v.put, raw, v.closed);
      if (typeof doc.location === 'string') doc.location = checkedLocation(t, ref, raw, doc.location, existing);
      checkTags(doc.tags);
      const identity = resolveIdentity(doc.identity as Doc | undefined, undefined, ctx.principal, false);
      if (identity) doc.identity = keepPrincipals(identity, existing?.body.identity as Identity | undefined);
      await t.prepare?.(ctx, doc, existing, ref.id);
      const now = ctx.now().toISOString();
      const async = lro !== undefined;
      const phase = existing ? (async ? 'updating' : 'succeeded') : async ? 'creating' : 'succeeded';
      const kept = serverOwnedOf(existing, serverOwned);
      doc.properties = { ...kept, ...(doc.properties as Doc | undefined), ...t.lifecycle(phase) };
      const resource = existing ? replaced(existing, ref, doc, ctx, now) : fresh(t, ref, doc, ctx, now);
      if (!existing) t.onCreate?.(resource, ctx);
      const write: Write = existing ? { op: 'update', resource, ifEtag: existing.etag } : { op: 'insert', resource };
      const writes: Write[] = [...parentsHold(ref), ...referencesHold(t, doc, existing, ctx), write];
      const op = async
        ? await this.startOperation(existing ? 'update' : 'create', 'PUT', resource, ctx, writes)
        : undefined;
      if (!(await this.commitUnder(ref, writes))) return undefined;
      if (op) this.schedule(op);
      return {
        status: existing ? 200 : async ? 201 : (t.operations.createOrReplace.createdStatus ?? 201),
        body: await this.renderFull(t, resource, ctx),
        headers: { etag: resource.etag, ...(op && lro ? this.accepted(op, t, ctx, lro) : {}) },
        operationId: op && lro ? op.id : undefined,
      };
    });
  }

  async patch(t: ResourceType, ref: ResourceRef, raw: unknown, ctx: RequestContext): Promise<Reply> {
    const v = this.version(t, ctx);
    this.checkName(t, ref, ctx, 'other');
    // Routes mount PATCH only for types that declare it.
    const { lro, mergeProperties } = t.operations.update!;
    return this.retrying(ctx, async () => {
      const existing = await this.load(ref.key);
      if (!existing) await this.checkParents(ref);
      if (!isPlainObject(raw)) throw errors.bodyRequired();
      if (!existing) throw notFound(t, ref);
      checkPreconditions(ctx, existing, ref.id, false);
      this.checkIdle(existing, ref);
      const patch = validate<Doc>(v.patch, raw, v.closed);
      const doc = structuredClone(existing.body);
      if (patch.tags !== undefined)
        doc.tags = Object.fromEntries(Object.entries((patch.tags ?? {}) as Doc).filter(([, val]) => val !== null));
      checkTags(doc.tags);
      if (patch.sku !== undefined) doc.sku = mergePatch(doc.sku, patch.sku);
      if (patch.identity !== undefined)
        doc.identity = resolveIdentity(
          patch.identity as Doc,
          existing.body.identity as Identity | undefined,
          ctx.principal,
          true,
        );
      if (mergeProperties && patch.properties !== undefined) {
        // The merged document must still be a valid resource; what is stored is its validated (cleaned) form.
        const merged = validate<Doc>(
          v.put,
          { ...doc, properties: mergePatch(doc.properties, patch.properties) },
          v.closed,
        );
        doc.properties = merged.properties;
      }
      await t.prepare?.(ctx, doc, existing, ref.id);
      const now = ctx.now().toISOString();
      doc.properties = { ...(doc.properties as Doc), ...t.lifecycle(lro ? 'updating' : 'succeeded') };
      const resource = replaced(existing, ref, doc, ctx, now);
      const writes: Write[] = [
        ...parentsHold(ref),
        ...referencesHold(t, doc, existing, ctx),
        { op: 'update', resource, ifEtag: existing.etag },
      ];
      const op = lro ? await this.startOperation('update', 'PATCH', resource, ctx, writes) : undefined;
      if (!(await this.commitUnder(ref, writes))) return undefined;
      if (!op || !lro)
        return { status: 200, body: await this.renderFull(t, resource, ctx), headers: { etag: resource.etag } };
      return this.started(op, t, ctx, lro);
    });
  }

  async delete(t: ResourceType, ref: ResourceRef, ctx: RequestContext): Promise<Reply> {
    this.checkName(t, ref, ctx, 'other');
    const { lro } = t.operations.delete;
    return this.retrying(ctx, async () => {
      const existing = await this.load(ref.key);
      if (!existing) {
        await this.checkParents(ref);
        return { status: 204 };
      }
      checkPreconditions(ctx, existing, ref.id, false);
      const pending = await this.pendingOperation(existing);
      // A delete repeated while the first runs is the same request: answer with the same operation.
      if (pending?.kind === 'delete')
        return { status: 202, headers: this.accepted(pending, t, ctx, lro ?? 'location'), operationId: pending.id };
      if (pending) throw errors.operationInProgress(ref.id, pending.kind);
      await t.beforeDelete?.(ctx, existing);
      if (!lro) {
        if (!(await this.store.commit([{ op: 'deleteTree', key: ref.key }]))) return undefined;
        return { status: 200 };
      }
      const properties = { ...(existing.body.properties as Doc | undefined), ...t.lifecycle('deleting') };
      const resource: StoredResource = { ...existing, body: { ...existing.body, properties }, etag: newEtag() };
      const writes: Write[] = [{ op: 'update', resource, ifEtag: existing.etag }];
      const op = await this.startOperation('delete', 'DELETE', resource, ctx, writes);
      if (!(await this.store.commit(writes))) return undefined;
      return this.started(op, t, ctx, lro);
    });
  }

  async action(
    t: ResourceType,
    action: ActionDef,
    ref: ResourceRef,
    raw: unknown,
    ctx: RequestContext,
    query: Record<string, string>,
  ): Promise<Reply> {
    this.version(t, ctx);
    this.checkName(t, ref, ctx, 'other');
    if (!(await this.store.get(ref.key))) throw await this.missing(t, ref);
    let body: unknown;
    if (action.body) {
      if (raw === undefined && action.bodyRequired) throw errors.bodyRequired();
      body = raw === undefined ? {} : validate(action.body, raw, false);
    }
    return this.retrying(ctx, async () => {
      const current = await this.load(ref.key);
      if (!current) throw notFound(t, ref);
      const result = await action.handle(ctx, current, body, query);
      if (!result.async) {
        if (
          result.update &&
          !(await this.store.commit([{ op: 'update', resource: result.update, ifEtag: current.etag }]))
        )
          return undefined;
        return { status: result.status, body: result.body };
      }
      this.checkIdle(current, ref);
      const resource: StoredResource = { ...(result.update ?? current), etag: newEtag() };
      const writes: Write[] = [{ op: 'update', resource, ifEtag: current.etag }];
      const op = await this.startOperation('action', 'POST', resource, ctx, writes, {
        action: action.path,
        payload: result.async.payload,
      });
      if (!(await this.store.commit(writes))) return undefined;
      return this.started(op, t, ctx, action.lro ?? 'location');
    });
  }

  // ---------- shared checks ----------

  private version(t: ResourceType, ctx: RequestContext): VersionDef {
    const v = versionOf(t, ctx.apiVersion);
    if (!v) throw new Error(`api-version ${ctx.apiVersion} reached ${t.type} unchecked`);
    return v;
  }

  private checkName(t: ResourceType, ref: ResourceRef, ctx: RequestContext, verb: 'put' | 'other'): void {
    this.checkPath(t, ref, ctx);
    const v = versionOf(t, ctx.apiVersion);
    const broken = checkName(ref.name, verb === 'put' ? (v?.putName ?? v?.name) : v?.name);
    if (broken) throw errors.invalidResourceName(ref.name, t.type, broken);
  }

  /**
   * The names of the resources `ref` lives under, each against its own type's rule (as the swagger's path
   * parameters are): a decoded `%2F` or `%00` in an ancestor would otherwise make an id of another shape.
   */
  checkPath(t: ResourceType, ref: ResourceRef, ctx: RequestContext): void {
    const types = this.registry.lineage(t);
    ref.ancestors.forEach((a, i) => {
      const at = types[i];
      const v = versionOf(at, ctx.apiVersion) ?? Object.values(at.versions)[0];
      const broken = checkName(a.name, v?.name);
      if (broken) throw errors.invalidResourceName(a.name, at.type, broken);
    });
  }

  /**
   * The 404 for a resource that is not there: its parent's, when a parent is missing. (A resource that exists has
   * its parents: deleting one removes everything below it in the same commit, so reads of existing resources skip
   * the parent checks.)
   */
  private async missing(t: ResourceType, ref: ResourceRef): Promise<ArmError> {
    await this.checkParents(ref);
    return notFound(t, ref);
  }

  /** Every ancestor exists, as a resource of its own type; for a write, none of them is being deleted (409). */
  async checkParents(ref: ResourceRef, use: 'read' | 'write' = 'read'): Promise<void> {
    for (const a of ref.ancestors) {
      const parent = await this.store.get(keyOf(a.id));
      const isGroup = a.type === RESOURCE_GROUP_TYPE;
      if (parent && parent.type.toLowerCase() === a.type.toLowerCase()) {
        if (use === 'read' || !isBeingDeleted(parent)) continue;
        throw isGroup ? errors.resourceGroupBeingDeleted(a.name) : errors.parentBeingDeleted(a.type, a.id);
      }
      if (isGroup) throw errors.resourceGroupNotFound(a.name);
      throw errors.parentNotFound(a.type, a.name, ref.resourceGroup);
    }
  }

  /**
   * Commits a write under `ref`'s ancestors; the commit itself checks that they hold (`parentsHold`), so a write to an
   * existing resource does not read them first. When the commit fails because of one, its 404 / 409 is the answer
   * (after the request's own 400 / 412, which a resource read first would have put after it); otherwise the caller
   * retries.
   */
  private async commitUnder(ref: ResourceRef, writes: Write[]): Promise<boolean> {
    if (await this.store.commit(writes)) return true;
    await this.checkParents(ref, 'write');
    return false;
  }

  private async pendingOperation(r: StoredResource): Promise<OperationRecord | undefined> {
    if (!r.internal.pendingOperation) return undefined;
    const op = await this.store.getOperation(r.internal.pendingOperation);
    return op?.status === 'InProgress' ? op : undefined;
  }

  /** A write while another operation runs on the resource is refused, as Azure does. */
  private checkIdle(r: StoredResource | undefined, ref: ResourceRef): void {
    if (r?.internal.pendingOperation) {
      const phase = String((r.body.properties as Doc | undefined)?.provisioningState ?? 'an operation');
      throw errors.operationInProgress(ref.id, phase);
    }
  }

  /** A new operation for the resource, written with `writes`; the start hooks may make it fail or hold it. */
  private async startOperation(
    kind: OperationRecord['kind'],
    method: string,
    resource: StoredResource,
    ctx: RequestContext,
    writes: Write[],
    extra?: { action?: string; payload?: unknown },
  ): Promise<OperationRecord> {
    const op = newOperation(kind, resource, ctx, this.profile, extra);
    const hooks = this.hooks?.onOperationStart ?? [];
    if (hooks.length) {
      const subject = {
        plane: 'management' as const,
        type: resource.type,
        name: resource.name,
        method,
        action: extra?.action,
        subscription: op.subscriptionId,
      };
      for (const hook of hooks) await hook(op, subject, resource);
    }
    resource.internal = { ...resource.internal, pendingOperation: op.id };
    const ends = this.provisioner.endsWithAcceptance(op, resource);
    const i = writes.findIndex((w) => (w.op === 'insert' || w.op === 'update') && w.resource === resource);
    const write = writes[i];
    if (!ends || (write?.op !== 'insert' && write?.op !== 'update')) {
      writes.push({ op: 'putOperation', operation: op });
      return op;
    }
    // Accepted and ended in one transaction: nobody can see the accepted state, so only the ended one is written.
    writes[i] = { ...write, resource: ends.resource };
    writes.push({ op: 'putOperation', operation: ends.operation });
    this.endedOnAcceptance.add(op);
    return op;
  }

  /** Hands an accepted operation to the provisioner, unless it ended in the commit that accepted it. */
  private schedule(op: OperationRecord): void {
    if (!this.endedOnAcceptance.has(op)) this.provisioner.schedule(op);
  }

  /** Runs a read-modify-write until its conditional commit lands; a conditional request that loses gets 412. */
  private retrying(ctx: RequestContext, attempt: () => Promise<Reply | undefined>): Promise<Reply> {
    return commitWithRetry(attempt, {
      attempts: REQUEST_COMMIT_ATTEMPTS,
      onLost: () => {
        if (isConditional(ctx))
          throw new ArmError(
            412,
            'PreconditionFailed',
            'The resource changed while the request was processed; the condition no longer holds.',
          );
      },
      exhausted: () => errors.conflict('The resource is being changed by other requests; retry the request.'),
    });
  }
}

/** Which rendered form a request asks for: rendering depends on the api-version and the origin called. */
const formOf = (ctx: RequestContext) => `${ctx.apiVersion} ${ctx.origin}`;

/** The commit conditions of the other resources a write refers to (the type's `requires`). */
const referencesHold = (t: ResourceType, doc: Doc, existing: StoredResource | undefined, ctx: RequestContext) =>
  (t.requires?.(doc, existing, ctx) ?? []).map((key): Write => ({ op: 'requireParent', key, notDeleting: true }));

/** The commit conditions of a write under `ref`'s ancestors: each still there and not being deleted. */
const parentsHold = (ref: ResourceRef): Write[] =>
  ref.ancestors.map((a) => ({ op: 'requireParent', key: keyOf(a.id), notDeleting: true }));

function notFound(t: ResourceType, ref: ResourceRef): ArmError {
  return isResourceGroup(t)
    ? errors.resourceGroupNotFound(ref.name)
    : errors.resourceNotFound(
        ref.id.slice(ref.id.toLowerCase().indexOf('/providers/') + '/providers/'.length),
        ref.resourceGroup,
      );
}

/** A replacing PUT may repeat the stored provisioning state, never change it (it is read-only). */
function checkStateKept(raw: Doc, existing: StoredResource): void {
  const requested = isPlainObject(raw.properties) ? raw.properties.provisioningState : undefined;
  const stored = (existing.body.properties as Doc | undefined)?.provisioningState;
  if (requested === undefined || requested === stored) return;
  throw errors.invalidContent([
    {
      path: 'properties.provisioningState',
      message: `The provisioning state '${String(requested)}' is read-only and differs from the current state '${String(stored)}'.`,
    },
  ]);
}

/** The location in its normal form: a region name, and the stored one when the resource exists. */
function checkedLocation(
  t: ResourceType,
  ref: ResourceRef,
  raw: Doc,
  location: string,
  existing: StoredResource | undefined,
): string {
  const normal = normalizeLocation(location);
  // A region name: it goes into operation URLs and headers, so nothing else passes.
  if (!/^[a-z0-9]{1,64}$/.test(normal)) throw errors.locationNotAvailable(String(raw.location), t.type);
  const stored = existing?.body.location;
  if (stored !== undefined && stored !== normal) throw errors.invalidLocation(ref.id, String(stored), normal);
  return normal;
}

/** The server-owned properties a replacing PUT keeps from the stored resource. */
function serverOwnedOf(existing: StoredResource | undefined, keys: readonly string[]): Doc {
  const stored = existing?.body.properties as Doc | undefined;
  return Object.fromEntries(keys.map((k) => [k, stored?.[k]]).filter(([, val]) => val !== undefined));
}

/** A new resource under `ref` with `doc` as its body. */
function fresh(t: ResourceType, ref: ResourceRef, doc: Doc, ctx: RequestContext, now: string): StoredResource {
  return {
    key: ref.key,
    id: ref.id,
    name: ref.name,
    parentKey: ref.parentKey,
    type: t.type,
    body: doc,
    systemData: created(ctx, now),
    internal: {},
    etag: newEtag(),
    createdAt: now,
    updatedAt: now,
  };
}

/** `existing` with `doc` as its body, modified now by the caller (the id as the client spelled it this time). */
function replaced(existing: StoredResource, ref: ResourceRef, doc: Doc, ctx: RequestContext, now: string) {
  const systemData = modified(existing.systemData, ctx, now);
  return { ...existing, id: ref.id, name: ref.name, body: doc, systemData, etag: newEtag(), updatedAt: now };
}

function created(ctx: RequestContext, now: string) {
  const { name, type } = ctx.principal;
  return {
    createdBy: name,
    createdByType: type,
    createdAt: now,
    lastModifiedBy: name,
    lastModifiedByType: type,
    lastModifiedAt: now,
  };
}

function modified(prev: StoredResource['systemData'], ctx: RequestContext, now: string) {
  return { ...prev, lastModifiedBy: ctx.principal.name, lastModifiedByType: ctx.principal.type, lastModifiedAt: now };
}

/** A replaced identity keeps the principals already minted for the same identities. */
function keepPrincipals(next: Identity, prev: Identity | undefined): Identity {
  if (!prev) return next;
  const out = { ...next };
  if (out.principalId && prev.principalId) {
    out.principalId = prev.principalId;
    out.tenantId = prev.tenantId;
  }
  if (out.userAssignedIdentities && prev.userAssignedIdentities) {
    const old = new Map(Object.entries(prev.userAssignedIdentities).map(([k, v]) => [k.toLowerCase(), v]));
    out.userAssignedIdentities = Object.fromEntries(
      Object.entries(out.userAssignedIdentities).map(([k, v]) => [k, old.get(k.toLowerCase()) ?? v]),
    );
  }
  return out;
}
