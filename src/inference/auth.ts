import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { StoredResource } from '../store/types.js';
import { decodeJwt } from '../auth/bearer.js';
import { ML_AUDIENCES as STRICT_ML_AUDIENCES, type StrictAuth } from '../auth/strict.js';
import { apiError } from './errors.js';

export type DataPlaneAuth = 'loose' | 'none' | StrictAuth;

const ML_AUDIENCES = ['https://ml.azure.com', 'https://ml.azure.com/'];

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time comparison (of digests, so lengths do not leak either). */
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

const unauthorized = (message: string) =>
  apiError(401, 'Unauthorized', message, { 'www-authenticate': 'Bearer realm="amlite", error="invalid_token"' });

/**
 * Key endpoints take `api-key: <key>` or `Authorization: Bearer <key>` (primary or secondary key, as listKeys shows
 * them now: a regenerated key stops working at once). AAD endpoints take bearer tokens for https://ml.azure.com.
 * Nothing here ever logs or echoes a credential.
 */
export function authorize(req: FastifyRequest, endpoint: StoredResource, authMode: string, mode: DataPlaneAuth): void | Promise<void> {
  if (mode === 'none') return;
  const apiKey = header(req, 'api-key');
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
  const acceptsKey = authMode === 'Key' || authMode === 'KeyAndAAD';
  const acceptsToken = authMode === 'AAD' || authMode === 'KeyAndAAD';
  if (!apiKey && !bearer) throw unauthorized(`Send ${acceptsKey ? "the endpoint's key in the 'api-key' header or as 'Authorization: Bearer <key>'" : "an Azure AD token for https://ml.azure.com as 'Authorization: Bearer <token>'"}.`);
  const keys = endpoint.internal.keys as { primaryKey: string; secondaryKey: string } | undefined;
  const isKey = (k: string) => !!keys && [keys.primaryKey, keys.secondaryKey].map((known) => sameSecret(k, known)).some(Boolean);
  if (acceptsKey && ((apiKey && isKey(apiKey)) || (bearer && isKey(bearer)))) return;
  const claims = bearer ? decodeJwt(bearer) : undefined;
  if (claims) {
    if (!acceptsToken) throw unauthorized(`The endpoint '${endpoint.name}' uses key authentication: send one of its keys, not a token.`);
    if (typeof mode === 'object') {
      // Strict: signed by amlite's issuer, for https://ml.azure.com, unexpired, from the subscription's tenant.
      const subscriptionId = endpoint.id.split('/')[2];
      const checked = mode.check(bearer!, STRICT_ML_AUDIENCES, { origin: `${req.protocol}://${req.host}`, subscriptionId }, new Date());
      if ('failure' in checked) throw unauthorized(checked.failure.message);
      // The subscription's tenant as the store has it (another process may have bound it).
      return mode.tenantFailure(subscriptionId, String(checked.claims.tid)).then((f) => { if (f) throw unauthorized(f.message); });
    }
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) throw unauthorized('The token has expired.');
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => ML_AUDIENCES.includes(String(a)))) throw unauthorized("The token's audience is not https://ml.azure.com.");
    return;
  }
  throw unauthorized(acceptsKey ? "The key is not one of the endpoint's current keys." : `The endpoint '${endpoint.name}' takes Azure AD tokens only.`);
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
