import type { Principal } from '../../arm/context.js';
import { ANONYMOUS } from '../principal.js';
import { sameSecret } from '../same-secret.js';
import { Refusal, type Answer, type AuthRequest, type Authenticator } from './authenticator.js';

/** Who calls with an endpoint's key: the key, not a person. */
export const KEY_CALLER: Principal = { ...ANONYMOUS, name: 'endpoint-key', type: 'Key' };

/**
 * Data plane, endpoints that take keys: `api-key: <key>` or `Authorization: Bearer <key>`, the primary or the
 * secondary key as listKeys shows them now (a regenerated key stops working at once). A bearer that is a JWT is the
 * token authenticators' to judge.
 */
export class EndpointKeyAuthenticator implements Authenticator {
  readonly scheme = 'endpoint-key';

  authenticate(req: AuthRequest): Answer {
    const endpoint = req.endpoint;
    if (!endpoint?.acceptsKey || (!req.apiKey && !req.bearer)) return undefined;
    const keys = endpoint.keys;
    const isKey = (k: string | undefined) =>
      !!k && !!keys && [keys.primaryKey, keys.secondaryKey].map((known) => sameSecret(k, known)).some(Boolean);
    if (isKey(req.apiKey) || isKey(req.bearer)) return KEY_CALLER;
    if (req.jwt) return undefined;
    return new Refusal('key', "The key is not one of the endpoint's current keys.");
  }
}
