import { principalOf } from '../principal.js';
import { bearerJwt, Refusal, type Answer, type AuthRequest, type Authenticator } from './authenticator.js';

/**
 * `--auth loose`: a JWT-shaped bearer token, unexpired, its claims trusted without a signature check: what a local
 * emulator needs to show systemData and tenants, and no more. With `audiences`, the token must be for one of them.
 */
export class LooseAuthenticator implements Authenticator {
  readonly scheme = 'loose';

  constructor(private readonly opts: { audiences?: (origin: string) => readonly string[] } = {}) {}

  authenticate(req: AuthRequest): Answer {
    const jwt = bearerJwt(req);
    if (!jwt || jwt instanceof Refusal) return jwt;
    const c = jwt.claims;
    if (typeof c.exp === 'number' && c.exp * 1000 <= req.now.getTime())
      return new Refusal('expired', 'The token has expired.');
    const allowed = this.opts.audiences?.(req.origin);
    if (allowed) {
      const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
      if (!aud.some((a) => allowed.includes(String(a))))
        return new Refusal('audience', `The token's audience is not ${allowed[0]}.`, {
          audience: aud.join(','),
          allowed,
        });
    }
    return principalOf(c);
  }
}
