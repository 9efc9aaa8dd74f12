/** What amlite keeps: resources and long-running operations. One interface, SQLite and PostgreSQL behind it. */

export type CallerType = 'User' | 'Application' | 'ManagedIdentity' | 'Key';

export interface SystemData {
  createdBy: string;
  createdByType: CallerType;
  createdAt: string;
  lastModifiedBy: string;
  lastModifiedByType: CallerType;
  lastModifiedAt: string;
}

export interface StoredResource {
  /** The id in lower case: the primary key. */
  key: string;
  /** The id as the client last spelled it. */
  id: string;
  parentKey: string;
  /** The ARM type, e.g. Microsoft.MachineLearningServices/workspaces/serverlessEndpoints. */
  type: string;
  name: string;
  /** The client-visible document without id, name, type and systemData (location, tags, sku, identity, kind, properties). */
  body: Record<string, unknown>;
  systemData: SystemData;
  /** State the client never sees as such: keys, the inference route, the pending operation. */
  internal: Internal;
  etag: string;
  createdAt: string;
  updatedAt: string;
}

export interface Internal {
  /** The data-plane path segment of an endpoint: unique, fixed at creation. */
  route?: string;
  /** The operation that currently owns the resource's lifecycle (Creating/Updating/Deleting). */
  pendingOperation?: string;
  [k: string]: unknown;
}

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
export type OperationKind = 'create' | 'update' | 'delete' | 'action';

export interface OperationRecord {
  id: string;
  kind: OperationKind;
  /** For kind 'action': the action's name, e.g. deltaModels/modify. */
  action?: string;
  resourceKey: string;
  resourceId: string;
  resourceType: string;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  status: OperationStatus;
  startTime: string;
  endTime?: string;
  /** When (epoch ms) the provisioner should finish it. */
  dueAt: number;
  /** Input an action needs when it completes. */
  payload?: unknown;
  error?: { code: string; message: string };
  /** Test control: the operation is to end Failed with this error. */
  failWith?: { code: string; message: string };
  /** Test control: the delay rule holding the operation (until dueAt, or until released when dueAt is far away). */
  heldBy?: string;
}

/**
 * A group of writes applied all or nothing. Conditions that fail make `commit` return false and change nothing.
 * The conditions are checked by the database itself, atomically with the write, so two processes on one database
 * cannot both win: `insert` only when the key is absent, `update` only when the stored ETag is `ifEtag`, and
 * `putOperation` with `ifInProgress` only when the stored operation exists and is still InProgress (so an operation
 * leaves InProgress once). A plain `putOperation` inserts or replaces. Neither touches the operation's lease.
 */
export type Write =
  | { op: 'insert'; resource: StoredResource }
  | { op: 'update'; resource: StoredResource; ifEtag: string }
  | { op: 'deleteTree'; key: string }
  | { op: 'putOperation'; operation: OperationRecord; ifInProgress?: boolean }
  /**
   * A condition, no change: holds when the resource `key` exists and, with `notDeleting`, its
   * `properties.provisioningState` is not `Deleting`. A child's commit carries one per ancestor, so a child is never
   * written under a parent that is gone or being deleted. PostgreSQL locks the row (FOR SHARE) until the commit
   * ends: a concurrent delete of the parent waits for the child's commit, or the child's check sees the delete.
   */
  | { op: 'requireParent'; key: string; notDeleting: boolean };

/** A stored resource as the store keeps it: its key and its document as JSON text. */
export interface StoredText {
  key: string;
  text: string;
}

export interface Page {
  /** Return rows whose sort key is strictly after this key. */
  after?: string;
  limit: number;
}

export interface Store {
  /** Whether other processes may share this database: they then poll it for operations whose owner died. */
  readonly shared: boolean;
  /** Where the data lives, for the start-up banner: a file path, ':memory:', or a URL without its password. */
  readonly location: string;
  get(key: string): Promise<StoredResource | undefined>;
  /** The resource whose data-plane route (`internal.route`, set at creation and never changed) is `route`. */
  getByRoute(route: string): Promise<StoredResource | undefined>;
  /** Direct children of `parentKey` of one type, ordered by key. */
  listChildren(parentKey: string, type: string, page: Page): Promise<StoredResource[]>;
  /** Resources of one type anywhere below `scopeKey`, ordered by key. */
  listBelow(scopeKey: string, type: string, page: Page): Promise<StoredResource[]>;
  /**
   * Optional: `get` and `listChildren` as the stored JSON text, unparsed. Equal texts are equal resources, so a
   * reader may keep what it made of a text (the read path's rendered forms) for as long as the store returns that
   * same text, whichever process wrote it.
   */
  getText?(key: string): Promise<string | undefined>;
  listChildrenText?(parentKey: string, type: string, page: Page): Promise<StoredText[]>;
  /**
   * Optional: a value that changes whenever anything stored may have changed, by this process or any other sharing
   * the store (undefined when it cannot tell now). While it stays the same, what was read stays current.
   */
  dataVersion?(): Promise<string | undefined>;
  commit(writes: Write[]): Promise<boolean>;
  getOperation(id: string): Promise<OperationRecord | undefined>;
  /** Operations still InProgress, oldest first. */
  openOperations(): Promise<OperationRecord[]>;
  /** The most recently started operations, newest first (for the dashboard and the control API). */
  recentOperations(limit: number): Promise<OperationRecord[]>;
  /** Deletes finished operations that ended before `beforeIso`; returns how many. */
  pruneOperations(beforeIso: string): Promise<number>;

  // ---- leases: which process drives an open operation ----
  // Claiming sets an open (InProgress) operation's owner and lease end (nowMs + leaseMs) in one atomic statement, so
  // concurrent claimers never get the same operation. Its owner keeps it by renewing; releasing (or dying) ends the
  // lease. One nobody has claimed yet is left to the process that accepted it (which claims it by id) until it is due.

  /** Claims up to `limit` open operations that are free: lease ended, or never claimed and due by `nowMs`. Earliest due first. */
  claimOperations(owner: string, nowMs: number, leaseMs: number, limit: number): Promise<OperationRecord[]>;
  /** Claims one open operation if nobody holds it (never claimed, or lease ended): what the accepting process does. */
  claimOperation(id: string, owner: string, nowMs: number, leaseMs: number): Promise<OperationRecord | undefined>;
  /** Extends the leases `owner` still holds among `ids` on open operations; returns the ids it still holds. */
  renewLeases(owner: string, ids: string[], nowMs: number, leaseMs: number): Promise<string[]>;
  /** Ends `owner`'s leases among `ids` now, so another process can take them over at once. */
  releaseLeases(owner: string, ids: string[]): Promise<void>;

  // ---- test control: rules and throttle counters, in tables of their own ----

  /** Every rule, oldest first (by creation time, then id). */
  listRules(): Promise<RuleRecord[]>;
  /** The rule `id` (compared in lower case). */
  getRule(id: string): Promise<RuleRecord | undefined>;
  /** Inserts or replaces the rule in one statement (concurrent writers of one id all succeed); true when inserted. */
  putRule(rule: RuleRecord): Promise<boolean>;
  /** Deletes a rule and its counters; false when there was none. */
  deleteRule(id: string): Promise<boolean>;
  /** Deletes every rule and counter; returns how many rules there were. */
  deleteRules(): Promise<number>;
  /**
   * Counts one hit on a rule, and spends one of its `remaining` when it has a count, in one statement; undefined when
   * the rule is gone or spent (remaining 0). Returns the rule as it now is.
   */
  spendRule(id: string): Promise<RuleRecord | undefined>;
  /** Adds `amount` to a throttle counter's window (created at 0) in one statement; returns the new total. */
  addToCounter(counter: CounterKey, amount: number): Promise<number>;
  /** A counter window's total without changing it (0 when absent). */
  readCounter(counter: CounterKey): Promise<number>;
  /** Deletes counter windows that ended at or before `nowMs`; returns how many. */
  pruneCounters(nowMs: number): Promise<number>;

  /**
   * A number that moves whenever a resource, or an operation's status or document, is written by any process
   * sharing the store (moved by the store's commit code, once per commit: in the writing transaction on SQLite,
   * right after it on PostgreSQL), so a reader that sees the new number sees the change. Reading it is O(1):
   * change feeds poll it.
   */
  changeSeq(): Promise<number>;

  // ---- strict mode's tenant bindings: which tenant a subscription belongs to (ids compared in lower case) ----

  /**
   * Binds `subscriptionId` to `tenantId` unless it is bound already, then reads the binding back: returns the tenant
   * it belongs to. Of two processes binding one subscription at once, the first insert wins and both read it.
   */
  bindTenant(subscriptionId: string, tenantId: string): Promise<string>;
  /** The tenant `subscriptionId` is bound to, if any (binds nothing). */
  tenantOf(subscriptionId: string): Promise<string | undefined>;
  /** The subscriptions bound to `tenantId` (lower case, ordered; `page.after` a subscription id), a page at a time. */
  subscriptionsOf(tenantId: string, page: Page): Promise<string[]>;

  close(): Promise<void>;
}

/** A test-control rule as stored: its definition as written (JSON) and its running totals. */
export interface RuleRecord {
  id: string;
  createdAt: string;
  /** The rule's definition, without `hits` and `count` (kept as columns). */
  spec: Record<string, unknown>;
  hits: number;
  /** How many more requests a count-limited rule applies to; undefined: unlimited. */
  remaining?: number;
}

/** One throttle counter window: per rule, bucket (what is counted, e.g. a subscription's writes) and window. */
export interface CounterKey {
  ruleId: string;
  bucket: string;
  windowStart: number;
  /** When the window ends (epoch ms): the row is deleted after that. */
  windowEnd: number;
}

/** The provisioning state of a resource being deleted. */
export const DELETING = 'Deleting';

/** Whether a stored resource shows `provisioningState: Deleting` (what `requireParent` with `notDeleting` refuses). */
export const isBeingDeleted = (r: StoredResource): boolean =>
  (r.body.properties as { provisioningState?: unknown } | undefined)?.provisioningState === DELETING;
