import { errors } from '../arm/errors.js';
import type { Principal } from '../arm/context.js';
import type { StrictAuth } from './strict.js';

/** `loose` and `none` by name; strict mode is the verifier holding the issuer's key (see strict.ts). */
export type AuthMode = 'loose' | 'none' | StrictAuth;

/** What strict mode needs to know of a request: the origin it called and the subscription in its path. */
export interface RequestLike {
  protocol: string;
  host: string;
  params?: unknown;
}

const ANONYMOUS: Principal = { name: 'anonymous', type: 'User', objectId: '00000000-0000-0000-0000-000000000000', tenantId: '00000000-0000-0000-0000-000000000000' };

/**
 * Reads the caller from `Authorization: Bearer <jwt>`. Loose mode checks the token's shape and expiry and trusts its
 * claims (no signature check): what a local emulator needs to show systemData and tenants, and no more. Strict mode
 * checks signature, issuer, audience, expiry and the subscription's tenant.
 */
export function authenticate(header: string | undefined, mode: AuthMode, now: Date, req?: RequestLike): Principal {
  if (!header) {
    if (mode === 'none') return ANONYMOUS;
    throw errors.authMissing();
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) throw errors.authInvalid("The 'Authorization' header must be 'Bearer <token>'.");
  if (typeof mode === 'object') {
    const subscriptionId = (req?.params as { subscriptionId?: unknown } | undefined)?.subscriptionId;
    const scope = { origin: req ? `${req.protocol}://${req.host}` : '', subscriptionId: typeof subscriptionId === 'string' ? subscriptionId : undefined };
    return principalOf(mode.management(match[1], scope, now));
  }
  const claims = decodeJwt(match[1]);
  if (!claims) throw errors.authInvalid('The token is not a JSON Web Token.');
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= now.getTime()) throw errors.authExpired();
  return principalOf(claims);
}

export function decodeJwt(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    if (typeof header !== 'object' || typeof payload !== 'object' || !header || !payload || Array.isArray(payload)) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** Users carry a UPN; applications (idtyp=app, or an appid and no UPN) are named by their app id. */
export function principalOf(c: Record<string, unknown>): Principal {
  const upn = str(c.upn) ?? str(c.unique_name) ?? str(c.email) ?? str(c.preferred_username);
  const appId = str(c.appid) ?? str(c.azp);
  const isApp = c.idtyp === 'app' || (!upn && !!appId);
  const objectId = str(c.oid) ?? str(c.sub) ?? ANONYMOUS.objectId;
  return {
    name: isApp ? (appId ?? objectId) : (upn ?? objectId),
    type: isApp ? 'Application' : 'User',
    objectId,
    tenantId: str(c.tid) ?? ANONYMOUS.tenantId,
  };
}

/** An unsigned token for local use (`amlite token`, tests, curl): loose mode accepts it. */
export function devToken(claims: Record<string, unknown> = {}): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({
    aud: 'https://management.azure.com/', iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000001/',
    iat: now, nbf: now, exp: now + 24 * 3600,
    oid: '11111111-1111-1111-1111-111111111111', tid: '00000000-0000-0000-0000-000000000001', upn: 'developer@amlite.local', name: 'amlite developer',
    ...claims,
  })}.`;
}
