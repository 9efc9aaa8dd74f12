import type { StrictAuth } from '../strict.js';
import { principalOf } from '../principal.js';
import { bearerJwt, Refusal, type Answer, type AuthRequest, type Authenticator } from './authenticator.js';

/**
 * `--auth strict`: a token amlite's own issuer signed (RS256), for this server's issuer URL and one of `audiences`,
 * unexpired, and from the tenant the request's subscription belongs to. With `tenants: 'store'` a subscription
 * nobody used is bound to the token's tenant (asking the store: the one async answer); with 'known' only what this
 * process already knows of the bindings is checked.
 */
export class StrictAuthenticator implements Authenticator {
  readonly scheme = 'strict';

  constructor(
    private readonly strict: StrictAuth,
    private readonly opts: { audiences: (origin: string) => readonly string[]; tenants: 'store' | 'known' },
  ) {}

  authenticate(req: AuthRequest): Answer | Promise<Answer> {
    const jwt = bearerJwt(req);
    if (!jwt || jwt instanceof Refusal) return jwt;
    const { origin, subscriptionId, now } = req;
    const claims = this.strict.check(req.bearer!, this.opts.audiences(origin), { origin, subscriptionId }, now);
    if (claims instanceof Refusal) return claims;
    const principal = principalOf(claims);
    if (this.opts.tenants === 'known' || !subscriptionId) return principal;
    return this.strict.tenantFailure(subscriptionId, principal.tenantId).then((refusal) => refusal ?? principal);
  }
}
