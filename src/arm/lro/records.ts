import { randomUUID } from 'node:crypto';
import type { OperationKind, OperationRecord, StoredResource } from '../../store/types.js';
import type { RequestContext } from '../context.js';
import type { Profile } from '../../provisioner/profiles.js';

/** A new operation record on `resource`, due after the profile's delay for its kind. */
export function newOperation(
  kind: OperationKind,
  resource: StoredResource,
  ctx: RequestContext,
  profile: Profile,
  extra: { action?: string; payload?: unknown } = {},
): OperationRecord {
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
