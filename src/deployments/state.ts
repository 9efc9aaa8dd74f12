/**
 * A deployment as amlite keeps it: a stored resource of type Microsoft.Resources/deployments (so it lives and dies
 * with its resource group) whose `internal.deployment` holds the request, the per-resource progress and the result.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from '../arm/context.js';
import type { ErrorDetail } from '../arm/errors.js';
import { keyOf } from '../arm/ids.js';
import type { StoredResource } from '../store/types.js';
import type { Json, JsonObject } from '../templates/index.js';

export const DEPLOYMENT_TYPE = 'Microsoft.Resources/deployments';
export const DEPLOYMENTS_TYPE_LOWER = DEPLOYMENT_TYPE.toLowerCase();

export type DeploymentStatus = 'Accepted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
export const ACTIVE: readonly DeploymentStatus[] = ['Accepted', 'Running'];

/** One deployment operation: what ARM lists at /deployments/{name}/operations, one per resource. */
export interface ResourceOperation {
  operationId: string;
  /** The plan instance it deploys ('' for a Complete-mode delete). */
  key: string;
  provisioningOperation: 'Create' | 'Delete' | 'Read';
  provisioningState: 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
  target: { id: string; resourceType: string; resourceName: string; apiVersion?: string };
  statusCode?: string;
  statusMessage?: Json;
  startedAt: string;
  endedAt?: string;
  /** The engine's operation on the resource, while it runs (so a restarted server waits for it). */
  resourceOperationId?: string;
  request?: Json;
  response?: Json;
}

export interface Scope {
  subscriptionId: string;
  /** Absent at subscription scope. */
  resourceGroup?: string;
}

export interface DeploymentState {
  /** The id in the Azure-AsyncOperation URL of the PUT. */
  operationId: string;
  status: DeploymentStatus;
  scope: Scope;
  template: JsonObject;
  /** As sent (secure values too: the runner needs them to resume); shown through `reportedParameters` only. */
  parameters: Record<string, { value?: Json; reference?: Json }>;
  reportedParameters: Record<string, { type: string; value?: Json }>;
  mode: 'Incremental' | 'Complete';
  debugSetting?: JsonObject;
  correlationId: string;
  templateHash: string;
  startedAt: string;
  endedAt?: string;
  caller: { principal: Principal; origin: string };
  operations: ResourceOperation[];
  dependencies: Json[];
  providers: Json[];
  outputs?: Record<string, { type: string; value?: Json }>;
  outputResources?: string[];
  error?: ErrorDetail;
  /** The deployment this one runs inside (a nested deployment), whose runner drives it. */
  parent?: string;
  nesting: number;
  cancelRequested?: boolean;
}

export const stateOf = (r: StoredResource): DeploymentState => r.internal.deployment as DeploymentState;

/** The id of deployment `name` at `scope`. */
export function deploymentId(scope: Scope, name: string): string {
  const base = scope.resourceGroup
    ? `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`
    : `/subscriptions/${scope.subscriptionId}`;
  return `${base}/providers/${DEPLOYMENT_TYPE}/${name}`;
}

export const scopeKey = (scope: Scope): string =>
  keyOf(
    scope.resourceGroup
      ? `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`
      : `/subscriptions/${scope.subscriptionId}`,
  );

/** ARM's deployment operation ids: 16 upper-case hex digits. */
export const newOperationId = (): string => randomBytes(8).toString('hex').toUpperCase();

/** A stable hash of the template, shown as `templateHash` (ARM shows a decimal number). */
export function templateHash(template: JsonObject): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  return digest.readBigUInt64BE(0).toString();
}

/** ISO 8601 duration between two instants, as ARM writes it (PT1.234S, PT2M3.5S). */
export function isoDuration(fromIso: string, to: Date): string {
  const ms = Math.max(0, to.getTime() - Date.parse(fromIso));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

const HTTP_STATUS_NAMES: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'NoContent',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  429: 'TooManyRequests',
  500: 'InternalServerError',
};
export const statusName = (status: number): string => HTTP_STATUS_NAMES[status] ?? String(status);

/** Template types as ARM writes them in a deployment's parameters and outputs ('string' → 'String'). */
const ARM_TYPE_NAMES: Record<string, string> = {
  string: 'String',
  securestring: 'SecureString',
  int: 'Int',
  bool: 'Bool',
  object: 'Object',
  secureobject: 'SecureObject',
  array: 'Array',
};

/** Parameters or outputs with their types spelled as ARM shows them. */
export function armTyped(
  values: Record<string, { type: string; value?: Json }> | undefined,
): Record<string, { type: string; value?: Json }> | undefined {
  if (!values) return values;
  const out: Record<string, { type: string; value?: Json }> = {};
  for (const [name, v] of Object.entries(values))
    out[name] = { ...v, type: ARM_TYPE_NAMES[String(v.type).toLowerCase()] ?? v.type };
  return out;
}

/** The deployment as ARM shows it (DeploymentExtended). */
export function renderDeployment(r: StoredResource, now: Date): Record<string, unknown> {
  const s = stateOf(r);
  const properties: Record<string, unknown> = {
    templateHash: s.templateHash,
    parameters: armTyped(s.reportedParameters),
    mode: s.mode,
    ...(s.debugSetting ? { debugSetting: s.debugSetting } : {}),
    provisioningState: s.status,
    timestamp: s.endedAt ?? r.updatedAt,
    duration: isoDuration(s.startedAt, s.endedAt ? new Date(s.endedAt) : now),
    correlationId: s.correlationId,
    providers: s.providers,
    dependencies: s.dependencies,
  };
  if (s.status === 'Succeeded') {
    properties.outputs = armTyped(s.outputs) ?? {};
    properties.outputResources = (s.outputResources ?? []).map((id) => ({ id }));
  }
  if (s.error) properties.error = s.error;
  return {
    id: r.id,
    name: r.name,
    type: DEPLOYMENT_TYPE,
    ...(r.body.location !== undefined ? { location: r.body.location } : {}),
    ...(r.body.tags !== undefined ? { tags: r.body.tags } : {}),
    properties,
  };
}

/** One deployment operation as ARM shows it (DeploymentOperation). */
export function renderOperation(deploymentIdValue: string, op: ResourceOperation, now: Date): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    provisioningOperation: op.provisioningOperation,
    provisioningState: op.provisioningState,
    timestamp: op.endedAt ?? op.startedAt,
    duration: isoDuration(op.startedAt, op.endedAt ? new Date(op.endedAt) : now),
    trackingId: op.operationId.toLowerCase(),
    serviceRequestId: op.resourceOperationId,
    targetResource: op.target,
  };
  if (op.statusCode !== undefined) properties.statusCode = op.statusCode;
  if (op.statusMessage !== undefined) properties.statusMessage = op.statusMessage;
  if (op.request !== undefined) properties.request = { content: op.request };
  if (op.response !== undefined) properties.response = { content: op.response };
  return {
    id: `${deploymentIdValue}/operations/${op.operationId}`,
    operationId: op.operationId,
    properties,
  };
}
