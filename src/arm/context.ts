import type { CallerType, Store } from '../store/types.js';

/** What a type's hooks may read of the store; writes go through the engine's commits. */
export type ResourceReader = Pick<Store, 'get' | 'listChildren' | 'listBelow'>;

/** Who called, as read from the bearer token. */
export interface Principal {
  /** What systemData shows: the UPN for users, the app id for applications. */
  name: string;
  type: CallerType;
  objectId: string;
  tenantId: string;
}

/** What a handler knows about the request beyond its path and body. */
export interface RequestContext {
  apiVersion: string;
  principal: Principal;
  /** scheme://host[:port] as the client called us, for absolute URLs in responses. */
  origin: string;
  /** The request URL (path and query as sent). */
  url: URL;
  header(name: string): string | undefined;
  now(): Date;
  /** For resource-type hooks that need to look at other resources (e.g. a pool's groups): reads only. */
  store: ResourceReader;
}
