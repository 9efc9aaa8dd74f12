/**
 * The dashboard's JSON API (`/_amlite/api/...`): the shapes the server sends and the page reads. Types only, so the
 * server (Node) and the page (browser bundle) compile against the same declaration.
 */

/** A resource exactly as the management plane's GET renders it (engine.render), at the type's newest api-version. */
export interface ArmResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  sku?: { name?: string; tier?: string; capacity?: number; [k: string]: unknown };
  kind?: string;
  properties?: Record<string, unknown>;
  systemData?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A resource with the resources it contains, by collection name (workspaces, serverlessEndpoints, groups, ...). */
export interface TreeNode {
  resource: ArmResource;
  /** One entry per child type, present (possibly empty) for every child type the resource's type has. */
  children: Record<string, TreeNode[]>;
}

export interface SubscriptionNode {
  subscriptionId: string;
  resourceGroups: TreeNode[];
}

/** GET /_amlite/api/tree */
export interface TreeResponse {
  subscriptions: SubscriptionNode[];
  /** Server time of the snapshot (ISO 8601). */
  at: string;
}

/** One long-running operation, as the operations list shows it. */
export interface OperationView {
  id: string;
  kind: 'create' | 'update' | 'delete' | 'action';
  /** For kind 'action': the action, e.g. deltaModels/modify. */
  action?: string;
  resourceId: string;
  resourceType: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: string;
  endTime?: string;
  /** endTime − startTime, once finished. */
  durationMs?: number;
  error?: { code: string; message: string };
}

/** GET /_amlite/api/operations?limit=N */
export interface OperationsResponse {
  value: OperationView[];
}

/** GET /_amlite/api/keys?id=…[&reveal=true]: masked unless `reveal=true` was asked. */
export interface KeysResponse {
  id: string;
  masked: boolean;
  primaryKey: string;
  secondaryKey: string;
}

/** The server-sent event `/_amlite/api/events` pushes when anything in the store changed. */
export interface ChangeEvent {
  /** Increases with every change the server noticed. */
  version: number;
}

export const API_BASE = '/_amlite/api';
export const DASHBOARD_BASE = '/_dashboard';
