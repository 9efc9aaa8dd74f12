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
  const answer = authChains(mode).dataPlane.authenticate(dataPlaneRequest(req, endpoint, authMode, keys));
  if (answer instanceof Promise) return answer.then(refuseIfRefused);
  refuseIfRefused(answer);
}

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
