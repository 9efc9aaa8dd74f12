import type { Principal } from '../arm/context.js';
import { authRequest, Refusal, type AuthRequest } from './authenticators/authenticator.js';
import { authChains, managementError, type AuthMode } from './authenticators/chains.js';
import { unsignedJwt } from './jwt.js';

export type { AuthMode } from './authenticators/chains.js';
export { principalOf } from './principal.js';

/** What strict mode needs to know of a request: the origin it called and the subscription in its path. */
export interface RequestLike {
  protocol: string;
  host: string;
  params?: unknown;
}

/** A management request as the authenticators see it. */
export function managementRequest(header: string | undefined, now: Date, req?: RequestLike): AuthRequest {
  const subscriptionId = (req?.params as { subscriptionId?: unknown } | undefined)?.subscriptionId;
  return authRequest({
    authorization: header || undefined,
    origin: req ? `${req.protocol}://${req.host}` : '',
    subscriptionId: typeof subscriptionId === 'string' && subscriptionId ? subscriptionId : undefined,
    now,
  });
}

/**
 * Reads the caller from `Authorization: Bearer <jwt>` through the management chain, without asking the store: in
 * strict mode a subscription's tenant is checked as far as this process knows it (`authenticateRequest` in strict.ts
 * settles it with the store). Throws the ARM error (401) of a refusal.
 */
export function authenticate(header: string | undefined, mode: AuthMode, now: Date, req?: RequestLike): Principal {
  const request = managementRequest(header, now, req);
  const answer = authChains(mode).managementKnownTenants.authenticate(request);
  if (answer instanceof Promise) throw new Error('the known-tenants chain answered asynchronously');
  if (answer instanceof Refusal) throw managementError(answer, request.origin);
  return answer;
}

/** An unsigned token for local use (`amlite token`, tests, curl): loose mode accepts it. */
export function devToken(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return unsignedJwt({
    aud: 'https://management.azure.com/',
    iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000001/',
    iat: now,
    nbf: now,
    exp: now + 24 * 3600,
    oid: '11111111-1111-1111-1111-111111111111',
    tid: '00000000-0000-0000-0000-000000000001',
    upn: 'developer@amlite.local',
    name: 'amlite developer',
    ...claims,
  });
}
