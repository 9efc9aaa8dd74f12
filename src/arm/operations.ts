import { randomUUID } from 'node:crypto';
import type { OperationKind, OperationRecord, StoredResource } from '../store/types.js';
import type { RequestContext } from './context.js';
import { OPERATION_TIMEOUT, type Profile } from '../provisioner/profiles.js';

const RP = 'Microsoft.MachineLearningServices';

/** A path segment as it goes into a URL (and so into a Location header): percent-encoded. */
const seg = encodeURIComponent;

/** Operation URLs in Azure ML's own shape; resource-group deletes use ARM's. */
export function statusPath(op: OperationRecord): string {
  return `/subscriptions/${seg(op.subscriptionId)}/providers/${RP}/locations/${seg(op.location)}/mfeOperationsStatus/${op.id}`;
}

export function resultPath(op: OperationRecord): string {
  return isResourceGroupOperation(op)
    ? `/subscriptions/${seg(op.subscriptionId)}/operationresults/${op.id}`
    : `/subscriptions/${seg(op.subscriptionId)}/providers/${RP}/locations/${seg(op.location)}/mfeOperationResults/${op.id}`;
}

export const isResourceGroupOperation = (op: OperationRecord) => op.resourceType === 'Microsoft.Resources/resourceGroups';

export function newOperation(kind: OperationKind, resource: StoredResource, ctx: RequestContext, profile: Profile, extra: { action?: string; payload?: unknown } = {}): OperationRecord {
  const now = ctx.now();
  const location = String(resource.body.location ?? 'global');
  return {
    id: randomUUID(),
    kind,
    ...extra,
    resourceKey: resource.key,
    resourceId: resource.id,
    resourceType: resource.type,
    subscriptionId: resource.id.split('/')[2],
    location,
    apiVersion: ctx.apiVersion,
    status: 'InProgress',
    startTime: now.toISOString(),
    dueAt: now.getTime() + profile.delayMs[kind],
  };
}

/** Headers of an accepted asynchronous request: Azure-AsyncOperation for PUT, Location (+Retry-After) otherwise. */
export function acceptedHeaders(op: OperationRecord, ctx: RequestContext, profile: Profile, style: 'async-operation' | 'location'): Record<string, string> {
  const q = `?api-version=${encodeURIComponent(ctx.apiVersion)}`;
  if (style === 'async-operation') {
    return { 'azure-asyncoperation': `${ctx.origin}${statusPath(op)}${q}`, 'x-ms-async-operation-timeout': OPERATION_TIMEOUT };
  }
  const headers: Record<string, string> = {
    location: `${ctx.origin}${resultPath(op)}${q}`,
    'retry-after': String(profile.retryAfterSeconds),
  };
  if (!isResourceGroupOperation(op)) headers['x-ms-async-operation-timeout'] = OPERATION_TIMEOUT;
  return headers;
}

/** The body at the Azure-AsyncOperation URL. */
export function statusBody(op: OperationRecord): Record<string, unknown> {
  const body: Record<string, unknown> = { id: statusPath(op), name: op.id, status: op.status, startTime: op.startTime };
  if (op.endTime) body.endTime = op.endTime;
  body.percentComplete = op.status === 'InProgress' ? 0 : 100;
  if (op.error) body.error = op.error;
  return body;
}
