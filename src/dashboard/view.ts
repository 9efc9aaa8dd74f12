import type { Engine } from '../arm/engine.js';
import type { RequestContext } from '../arm/context.js';
import type { ResourceType } from '../arm/resource-type.js';
import { collectionOf } from '../arm/resource-type.js';
import { ArmError } from '../arm/errors.js';
import { keyOf } from '../arm/ids.js';
import type { Provisioner } from '../provisioner/provisioner.js';
import type { OperationRecord, Store, StoredResource } from '../store/types.js';
import { resourceGroups } from '../arm/resource-groups.js';
import type { KeysResponse, OperationView, SubscriptionNode, TreeNode, TreeResponse } from './api.js';

export interface ViewDeps {
  store: Store;
  engine: Engine;
  provisioner: Provisioner;
  /** Every resource type below resource groups, parents first (the management plane's own list). */
  types: ResourceType[];
}

/** Where every resource lives: keys are lower-case ids, all of them below `/subscriptions`. */
const SCOPE = '/subscriptions';
const PAGE = 500;

/**
 * What the dashboard shows, read from the store and rendered by the engine exactly as ARM's GET renders it: no second
 * copy of the state, no second shape of a resource.
 */
export class DashboardView {
  private readonly all: ResourceType[];

  constructor(private readonly deps: ViewDeps) {
    this.all = [resourceGroups, ...deps.types];
  }

  /** Subscriptions (implicit: those with a resource group) → resource groups → every resource, nested by parent. */
  async tree(origin: string): Promise<TreeResponse> {
    const byParent = new Map<string, Map<ResourceType, TreeNode[]>>();
    const nodes = new Map<ResourceType, { key: string; parentKey: string; node: TreeNode }[]>();
    for (const t of this.all) {
      const ctx = renderContext(t, origin, this.deps.store);
      const rows: { key: string; parentKey: string; node: TreeNode }[] = [];
      for (const row of await this.rows(t)) {
        // A due operation is finished first, as ARM's GET does, so the page never shows a finished operation running.
        const r = row.internal.pendingOperation ? await this.deps.engine.load(row.key) : row;
        if (!r) continue;
        rows.push({
          key: r.key,
          parentKey: r.parentKey,
          node: { resource: this.deps.engine.render(t, r, ctx) as TreeNode['resource'], children: {} },
        });
      }
      nodes.set(t, rows);
      for (const row of rows) {
        let kids = byParent.get(row.parentKey);
        if (!kids) byParent.set(row.parentKey, (kids = new Map()));
        const list = kids.get(t) ?? [];
        list.push(row.node);
        kids.set(t, list);
      }
    }
    // Every node gets one (possibly empty) list per child type of its type.
    for (const t of this.all) {
      const childTypes = this.childTypesOf(t);
      for (const { key, node } of nodes.get(t) ?? []) {
        for (const c of childTypes) node.children[childLabel(c, childTypes)] = byParent.get(key)?.get(c) ?? [];
      }
    }
    const subscriptions = new Map<string, SubscriptionNode>();
    for (const { parentKey, node } of nodes.get(resourceGroups) ?? []) {
      const subscriptionId = node.resource.id.split('/')[2];
      let sub = subscriptions.get(parentKey);
      if (!sub) subscriptions.set(parentKey, (sub = { subscriptionId, resourceGroups: [] }));
      sub.resourceGroups.push(node);
    }
    return { subscriptions: [...subscriptions.values()], at: new Date().toISOString() };
  }

  /** The most recently started operations, newest first; one that is due is finished first, as ARM's readers do. */
  async operations(limit: number): Promise<OperationView[]> {
    const ops = await this.deps.store.recentOperations(limit);
    const out: OperationView[] = [];
    for (let op of ops) {
      if (op.status === 'InProgress' && op.dueAt <= Date.now()) {
        await this.deps.provisioner.settle(op.id);
        op = (await this.deps.store.getOperation(op.id)) ?? op;
      }
      out.push(operationView(op));
    }
    return out;
  }

  /** An endpoint's keys through its type's own `listKeys` action; masked unless `reveal`. */
  async keys(id: string, reveal: boolean, origin: string): Promise<KeysResponse> {
    const r = await this.deps.store.get(keyOf(id));
    if (!r) throw new ArmError(404, 'ResourceNotFound', `The resource '${id}' was not found.`, 'id');
    const t = this.all.find((x) => x.type.toLowerCase() === r.type.toLowerCase());
    const listKeys = t?.operations.actions?.find((a) => a.path === 'listKeys');
    if (!t || !listKeys) throw new ArmError(400, 'NoKeys', `Resources of type '${r.type}' have no keys.`, 'id');
    const result = await listKeys.handle(renderContext(t, origin, this.deps.store), r, undefined, {});
    const keys = result.body as { primaryKey: string; secondaryKey: string };
    const show = reveal ? (k: string) => k : mask;
    return { id: r.id, masked: !reveal, primaryKey: show(keys.primaryKey), secondaryKey: show(keys.secondaryKey) };
  }

  /**
   * Moves whenever anything the page shows may have changed: the store's change sequence, which every writer (a
   * request, the provisioner's timers, another process sharing the store) moves in its own transaction. One row read,
   * however many resources there are.
   */
  async fingerprint(): Promise<string> {
    return String(await this.deps.store.changeSeq());
  }

  private childTypesOf(t: ResourceType): ResourceType[] {
    return t === resourceGroups
      ? this.deps.types.filter((c) => !c.parent)
      : this.deps.types.filter((c) => c.parent === t);
  }

  private async rows(t: ResourceType): Promise<StoredResource[]> {
    const out: StoredResource[] = [];
    for (let after: string | undefined; ;) {
      const page = await this.deps.store.listBelow(SCOPE, t.type, { after, limit: PAGE });
      out.push(...page);
      if (page.length < PAGE) return out;
      after = page.at(-1)!.key;
    }
  }
}

/**
 * A child collection's key in the tree: its collection name, or its full type when an earlier type of the same
 * parent has that name (Log Analytics' `workspaces` beside Azure ML's at resource-group level).
 */
function childLabel(c: ResourceType, siblings: ResourceType[]): string {
  const first = siblings.find((o) => collectionOf(o) === collectionOf(c));
  return first === c ? collectionOf(c) : c.type;
}

/** The first four characters, then dots: enough to tell two keys apart, not enough to use one. */
export function mask(key: string): string {
  return `${key.slice(0, 4)}${'•'.repeat(12)}`;
}

function operationView(op: OperationRecord): OperationView {
  const view: OperationView = {
    id: op.id,
    kind: op.kind,
    resourceId: op.resourceId,
    resourceType: op.resourceType,
    status: op.status,
    startTime: op.startTime,
  };
  if (op.action) view.action = op.action;
  if (op.endTime) {
    view.endTime = op.endTime;
    view.durationMs = Math.max(0, Date.parse(op.endTime) - Date.parse(op.startTime));
  }
  if (op.error) view.error = op.error;
  return view;
}

/** What a type's render hook sees: the type's newest api-version and the origin the page was loaded from. */
function renderContext(t: ResourceType, origin: string, store: Store): RequestContext {
  return {
    apiVersion: Object.keys(t.versions).sort().at(-1)!,
    principal: { name: 'amlite-dashboard', type: 'User', objectId: '', tenantId: '' },
    origin,
    url: new URL('/_amlite/api/tree', origin),
    header: () => undefined,
    now: () => new Date(),
    store,
  };
}
