import type { OperationRecord } from '../../store/types.js';
import type { RequestContext } from '../context.js';
import { OPERATION_TIMEOUT, type Profile } from '../../provisioner/profiles.js';

/**
 * How an accepted long-running request tells the client where to poll (core-lro's three shapes):
 * `azure-async-operation` (the status URL; the client then GETs the resource), `location` (the result URL, polled
 * until it stops answering 202), or `both` (the client follows the status URL, then GETs the result URL once).
 */
export type LroMode = 'azure-async-operation' | 'location' | 'both';

/**
 * Where a provider serves its operations: path templates with `{subscriptionId}`, `{location}` and
 * `{operationId}`. ARM mounts a route for each; the provider names the shapes, ARM names none.
 */
export interface OperationUrlShapes {
  /** The Azure-AsyncOperation URL (absent: the provider answers in `location` mode only). */
  status?: string;
  /** The Location URL. */
  result: string;
  /** Whether accepted answers carry `x-ms-async-operation-timeout`. */
  timeoutHeader: boolean;
}

/** A path segment as it goes into a URL (and so into a header): percent-encoded. */
const seg = encodeURIComponent;

/** The path an operation URL template gives for `op`. */
export function fillOperationPath(template: string, op: OperationRecord): string {
  return template
    .replace('{subscriptionId}', seg(op.subscriptionId))
    .replace('{location}', seg(op.location))
    .replace('{operationId}', op.id);
}

/** The Fastify route of an operation URL template: `{x}` becomes `:x`. */
export const routeOf = (template: string): string => template.replace(/\{(\w+)\}/g, ':$1');

export const statusPath = (op: OperationRecord, urls: OperationUrlShapes): string =>
  fillOperationPath(urls.status ?? urls.result, op);

/**
 * The headers of an accepted (202/201) long-running request in `mode`; `retryAfterSeconds` overrides the profile's
 * accepted-answer value (the Location URL's own 202 polls send the profile's poll interval).
 */
export function acceptedHeaders(
  op: OperationRecord,
  urls: OperationUrlShapes,
  ctx: RequestContext,
  profile: Profile,
  mode: LroMode,
  retryAfterSeconds = profile.retryAfterSeconds,
): Record<string, string> {
  const q = `?api-version=${encodeURIComponent(ctx.apiVersion)}`;
  const headers: Record<string, string> = {};
  if (mode !== 'location' && urls.status) {
    headers['azure-asyncoperation'] = `${ctx.origin}${fillOperationPath(urls.status, op)}${q}`;
  }
  if (mode !== 'azure-async-operation' || !urls.status) {
    headers.location = `${ctx.origin}${fillOperationPath(urls.result, op)}${q}`;
    headers['retry-after'] = String(retryAfterSeconds);
  }
  if (urls.timeoutHeader) headers['x-ms-async-operation-timeout'] = OPERATION_TIMEOUT;
  return headers;
}
