import { Type } from '@sinclair/typebox';
import { versionsFrom, type ResourceType, type VersionDef } from '../../arm/resource-type.js';
import type { RequestContext, ResourceReader } from '../../arm/context.js';
import type { StoredResource } from '../../store/types.js';
import { ArmError } from '../../arm/errors.js';
import { keyOf, nameRule } from '../../arm/ids.js';
import { armShapes, provisioningStateOnly } from '../../arm/common-types.js';
import {
  checkExistence,
  createOrReplaceSync,
  deleteAsync,
  listByParent,
  listBySubscription,
  read,
  updateSync,
} from '../../arm/operations/templates.js';
import { API_VERSIONS, NAMESPACE, typeName } from './provider.js';

type Doc = Record<string, unknown>;

const { obj, sku, partialSku, identity, partialIdentity, tracked, partialTags } = armShapes(false);
const rule = nameRule('^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$');
const open: VersionDef = {
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

/** What the versions before the Hub / Project link (2023-02-01-preview, 2023-04-01, 2023-10-01) do not know. */
const HUB_FIELDS = ['hubResourceId', 'associatedWorkspaces', 'workspaceHubConfig'];
const withoutHubFields = (doc: Doc): Doc => {
  if (!doc.properties) return doc;
  const properties = { ...(doc.properties as Doc) };
  for (const f of HUB_FIELDS) delete properties[f];
  return { ...doc, properties };
};
/** The families: `hub` knows the link; `open` does not; `noKind` (2023-04-01) has no `kind` either. */
const FAMILIES = {
  hub: open,
  open: { ...open, view: withoutHubFields },
  noKind: {
    ...open,
    view: (doc: Doc): Doc => {
      const { kind: _, ...rest } = withoutHubFields(doc);
      return rest;
    },
  },
} satisfies Record<string, VersionDef>;

/** A write at a version without the link keeps what a newer version set (one resource, many views). */
function keepNewerFields(ctx: RequestContext, doc: Doc, existing: StoredResource | undefined): void {
  if (!existing) return;
  const stored = propsOf(existing.body);
  const properties = (doc.properties ??= {}) as Doc;
  for (const f of HUB_FIELDS) if (f in stored && !(f in properties)) properties[f] = stored[f];
  const family = (API_VERSIONS.workspaces as Record<string, string>)[ctx.apiVersion];
  if (family === 'noKind' && existing.body.kind !== undefined) doc.kind = existing.body.kind;
}

const WORKSPACES = typeName('workspaces');
const HUB_ID = new RegExp(
  `^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/${NAMESPACE}/workspaces/[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`,
  'i',
);

/** Whether the request's api-version knows the Hub / Project link (`hubResourceId`, `associatedWorkspaces`). */
const knowsHubs = (ctx: RequestContext): boolean =>
  (API_VERSIONS.workspaces as Record<string, string>)[ctx.apiVersion] === 'hub';

/** `kind` is a free string in the swagger; Hub, Project, Default and FeatureStore are compared in any case. */
const kindIs = (doc: Doc, kind: 'hub' | 'project'): boolean =>
  typeof doc.kind === 'string' && doc.kind.toLowerCase() === kind;

const propsOf = (doc: Doc): Doc => (doc.properties ?? {}) as Doc;

const invalidHub = (message: string) => new ArmError(400, 'ValidationError', message, 'properties.hubResourceId');

/**
 * The projects naming `hub` in `hubResourceId`, anywhere in the hub's subscription (a project may live in another
 * resource group than its hub).
 */
async function projectsOf(store: ResourceReader, hub: StoredResource): Promise<StoredResource[]> {
  const subscription = hub.key.split('/').slice(0, 3).join('/');
  const all = await store.listBelow(subscription, WORKSPACES, { limit: Number.MAX_SAFE_INTEGER });
  return all.filter((w) => kindIs(w.body, 'project') && keyOf(String(propsOf(w.body).hubResourceId ?? '')) === hub.key);
}

/** A Project names an existing Hub (in any case, as ids are) — checked whenever the link is new or changed. */
async function checkProject(ctx: RequestContext, doc: Doc, existing: StoredResource | undefined): Promise<void> {
  const hubId = propsOf(doc).hubResourceId;
  if (hubId === undefined || hubId === null || hubId === '')
    throw invalidHub(`A workspace of kind '${String(doc.kind)}' needs properties.hubResourceId: the id of its Hub.`);
  if (typeof hubId !== 'string' || !HUB_ID.test(hubId))
    throw invalidHub(
      `The hub id '${String(hubId)}' is not a workspace id: expected ` +
        `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/${NAMESPACE}/workspaces/{hubName}.`,
    );
  if (existing && linkOf(existing) === keyOf(hubId)) return;
  const hub = await ctx.store.get(keyOf(hubId));
  if (!hub || hub.type.toLowerCase() !== WORKSPACES.toLowerCase())
    throw invalidHub(`The hub workspace '${hubId}' named by properties.hubResourceId does not exist.`);
  if (!kindIs(hub.body, 'hub'))
    throw invalidHub(
      `The workspace '${hubId}' named by properties.hubResourceId is of kind ` +
        `'${String(hub.body.kind ?? 'Default')}': a Project's hub must be a workspace of kind 'Hub'.`,
    );
  if (propsOf(hub.body).provisioningState === 'Deleting')
    throw invalidHub(`The hub workspace '${hubId}' named by properties.hubResourceId is being deleted.`);
}

/** The hub key a stored Project links to, if it is one. */
const linkOf = (r: StoredResource): string | undefined =>
  kindIs(r.body, 'project') && typeof propsOf(r.body).hubResourceId === 'string'
    ? keyOf(propsOf(r.body).hubResourceId as string)
    : undefined;

/** A Hub that still has projects stays a Hub (its projects would name a workspace that is not one). */
async function checkHubKept(ctx: RequestContext, doc: Doc, existing: StoredResource | undefined): Promise<void> {
  if (!existing || !kindIs(existing.body, 'hub') || kindIs(doc, 'hub')) return;
  const projects = await projectsOf(ctx.store, existing);
  if (projects.length)
    throw new ArmError(
      400,
      'ValidationError',
      `The workspace '${existing.name}' is the Hub of ${projects.length} project(s) ` +
        `(${projects.map((p) => p.name).join(', ')}): its kind cannot change from '${String(existing.body.kind)}'.`,
      'kind',
    );
}

/** A workspace: the parent of serverless endpoints and inference pools; a Hub, a Project of a Hub, or neither. */
export const workspaces: ResourceType = {
  type: WORKSPACES,
  param: 'workspaceName',
  versions: versionsFrom(API_VERSIONS.workspaces, FAMILIES),
  operations: {
    read: read(),
    checkExistence: checkExistence(),
    listByParent: listByParent(),
    listBySubscription: listBySubscription(),
    // Azure ML's swagger declares 200 or 202 for a workspace PUT, never 201 (the Python ML client refuses 201).
    createOrReplace: createOrReplaceSync({ createdStatus: 200 }),
    update: updateSync({ mergeProperties: true }),
    delete: deleteAsync(),
  },
  lifecycle: provisioningStateOnly,
  prepare: async (ctx, doc, existing) => {
    if (!knowsHubs(ctx)) return keepNewerFields(ctx, doc, existing);
    // Computed from the projects that name the hub: what a client sends is ignored.
    if (doc.properties) delete (doc.properties as Doc).associatedWorkspaces;
    // A PUT without kind replaces the workspace's kind (Default); a PATCH keeps the stored one.
    if (kindIs(doc, 'project')) await checkProject(ctx, doc, existing);
    await checkHubKept(ctx, doc, existing);
  },
  requires: (doc, existing, ctx) => {
    if (!knowsHubs(ctx) || !kindIs(doc, 'project')) return [];
    const hub = keyOf(String(propsOf(doc).hubResourceId));
    return existing && linkOf(existing) === hub ? [] : [hub];
  },
  lookup: async (ctx, r) => (knowsHubs(ctx) && kindIs(r.body, 'hub') ? projectsOf(ctx.store, r) : undefined),
  render: (r, doc, ctx, related) => {
    if (!knowsHubs(ctx)) return;
    const { associatedWorkspaces: _, ...properties } = propsOf(doc);
    if (kindIs(r.body, 'hub')) properties.associatedWorkspaces = ((related ?? []) as StoredResource[]).map((p) => p.id);
    doc.properties = properties;
  },
  // Deleting a hub deletes its projects (Azure AI Foundry: "Deleting a hub deletes all associated projects").
  deletesWith: async (store, r) => (kindIs(r.body, 'hub') ? (await projectsOf(store, r)).map((p) => p.key) : []),
};
