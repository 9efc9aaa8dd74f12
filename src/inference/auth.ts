import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { StoredResource } from '../store/types.js';
import {
  authRequest,
  Refusal,
  type AuthRequest,
  type EndpointCredentials,
} from '../auth/authenticators/authenticator.js';
import { authChains, type AuthMode } from '../auth/authenticators/chains.js';
import { apiError } from './errors.js';

export type DataPlaneAuth = AuthMode;

const unauthorized = (message: string) =>
  apiError(401, 'Unauthorized', message, { 'www-authenticate': 'Bearer realm="amlite", error="invalid_token"' });

/**
 * Key endpoints take `api-key: <key>` or `Authorization: Bearer <key>` (primary or secondary key, as listKeys shows
 * them now: a regenerated key stops working at once). AAD endpoints take bearer tokens for https://ml.azure.com.
 * The data plane's authenticator chain decides (auth/authenticators/chains.ts); a refusal is a 401 here. Nothing
 * here ever logs or echoes a credential.
 */
export function authorize(
  req: FastifyRequest,
  endpoint: StoredResource,
  authMode: string,
  keys: EndpointCredentials['keys'],
  mode: DataPlaneAuth,
): void | Promise<void> {
  if (mode !== 'none' && (authMode === 'Key' || authMode === 'KeyAndAAD') && isCurrentKey(header(req, 'api-key'), keys))
    return;
  const answer = authChains(mode).dataPlane.authenticate(dataPlaneRequest(req, endpoint, authMode, keys));
  if (answer instanceof Promise) return answer.then(refuseIfRefused);
  refuseIfRefused(answer);
}

/**
 * The common case first: an `api-key` that is one of the endpoint's keys, compared as the key authenticator compares
 * (constant time, over digests) but against digests made once per resolved endpoint — one hash per request instead of
 * four, and no request built for the chain. Anything else (no key, a wrong one, a bearer) goes through the chain.
 */
function isCurrentKey(apiKey: string | undefined, keys: EndpointCredentials['keys']): boolean {
  if (!apiKey || !keys) return false;
  let known = keyDigests.get(keys);
  if (!known) keyDigests.set(keys, (known = [digest(keys.primaryKey), digest(keys.secondaryKey)]));
  const presented = digest(apiKey);
  return known.map((k) => timingSafeEqual(presented, k)).some(Boolean);
}

const keyDigests = new WeakMap<NonNullable<EndpointCredentials['keys']>, Buffer[]>();
const digest = (s: string) => createHash('sha256').update(s).digest();

function refuseIfRefused(answer: unknown): void {
  if (answer instanceof Refusal) throw unauthorized(answer.message);
}

function dataPlaneRequest(
  req: FastifyRequest,
  endpoint: StoredResource,
  authMode: string,
  keys: EndpointCredentials['keys'],
): AuthRequest {
  return authRequest({
    authorization: header(req, 'authorization'),
    apiKey: header(req, 'api-key') || undefined,
    origin: `${req.protocol}://${req.host}`,
    subscriptionId: endpoint.id.split('/')[2],
    now: new Date(),
    endpoint: {
      name: endpoint.name,
      keys,
      acceptsKey: authMode === 'Key' || authMode === 'KeyAndAAD',
      acceptsToken: authMode === 'AAD' || authMode === 'KeyAndAAD',
    },
  });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
