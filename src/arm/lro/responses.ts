import type { OperationRecord, StoredResource } from '../../store/types.js';
import type { RequestContext } from '../context.js';
import type { Profile } from '../../provisioner/profiles.js';
import { acceptedHeaders, statusPath, type OperationUrlShapes } from './modes.js';

/** An HTTP answer: what the engine and the operation endpoints hand to the routes. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The operation an accepted request started (for in-process callers such as deployments; not sent). */
  operationId?: string;
}

/** The body at the Azure-AsyncOperation URL. */
export function statusBody(op: OperationRecord, urls: OperationUrlShapes): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: statusPath(op, urls),
    name: op.id,
    status: op.status,
    startTime: op.startTime,
  };
  if (op.endTime) body.endTime = op.endTime;
  body.percentComplete = op.status === 'InProgress' ? 0 : 100;
  if (op.error) body.error = op.error;
  return body;
}

/**
 * The answer at the Azure-AsyncOperation URL: while running it carries the profile's poll interval as Retry-After
 * (azure-core's Python poller waits 30 s when it is absent).
 */
export const statusResponse = (op: OperationRecord, urls: OperationUrlShapes, profile?: Profile): Reply => ({
  status: 200,
  body: statusBody(op, urls),
  ...(op.status === 'InProgress' && profile
    ? { headers: { 'retry-after': String(profile.pollRetryAfterSeconds) } }
    : {}),
});

/** What the result URL needs to know of the operation's resource type. */
export interface FinalResultRules {
  /** What a finished delete answers: the status the type's delete operation declares. */
  deleteDoneStatus: 200 | 204;
  /** The resource as the client sees it (a PUT's or PATCH's final result). */
  render(resource: StoredResource): Record<string, unknown>;
}

/**
 * The answer at the Location URL: 202 while running; the error when it failed; when it succeeded, per method:
 * a delete answers its declared done status, an action 204, a PUT or PATCH the resource (204 if it is gone).
 */
export async function resultResponse(
  op: OperationRecord,
  load: () => Promise<StoredResource | undefined>,
  rules: FinalResultRules | undefined,
  urls: OperationUrlShapes,
  ctx: RequestContext,
  profile: Profile,
): Promise<Reply> {
  if (op.status === 'InProgress') {
    return { status: 202, headers: acceptedHeaders(op, urls, ctx, profile, 'location', profile.pollRetryAfterSeconds) };
  }
  if (op.status !== 'Succeeded') {
    const error = op.error ?? { code: op.status, message: `The operation ended ${op.status}.` };
    return { status: 400, body: { error } };
  }
  if (op.kind === 'delete') return { status: rules?.deleteDoneStatus ?? 200 };
  const resource = await load();
  if (!rules || !resource || op.kind === 'action') return { status: 204 };
  return { status: 200, body: rules.render(resource), headers: { etag: resource.etag } };
}
