import type { Store, StoredResource } from '../store/types.js';
import type { RequestSubject } from '../arm/hooks.js';

/** What serves one request: the model, and the endpoint's limits. */
export interface Serving {
  modelId: string;
  contentSafety: boolean;
  /** How many requests may be in flight at the endpoint (absent: no limit). */
  maxInFlight?: number;
  /** How long one request may take (absent: no limit). */
  timeoutMs?: number;
}

/**
 * A kind of resource the data plane serves, as its provider declares it: where its endpoints are mounted, which
 * credentials they take, and (per request) whether the endpoint serves now and with what. The data plane itself
 * names no resource type.
 */
export interface ServingTarget {
  /** The first path segment: the endpoint serves at /{prefix}/{route}/… */
  prefix: string;
  /** The ARM type of the resources served there. */
  type: string;
  /** 'Key', 'AAD' or 'KeyAndAAD'. */
  authMode(endpoint: StoredResource): string;
  /** The keys a Key endpoint accepts now. */
  keys(endpoint: StoredResource): { primaryKey: string; secondaryKey: string } | undefined;
  /** What serves the endpoint now; throws the data plane's 409 EndpointNotReady when it does not serve. */
  serve(endpoint: StoredResource, store: Store): Promise<Serving>;
}

/** Plugs into the data plane from outside (e.g. test control): before a request, after a response. */
export interface DataPlaneHooks {
  /** May throw (in the data plane's envelope); the headers returned go on the response. */
  beforeRequest: ((s: RequestSubject, endpointKey: string, now: number) => Promise<Record<string, string>>)[];
  /** What a response used, in tokens. */
  afterResponse: ((s: RequestSubject, endpointKey: string, tokens: number, now: number) => Promise<void>)[];
}

export const createDataPlaneHooks = (): DataPlaneHooks => ({ beforeRequest: [], afterResponse: [] });
