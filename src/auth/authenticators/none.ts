import { ANONYMOUS } from '../principal.js';
import type { Answer, AuthRequest, Authenticator } from './authenticator.js';

/**
 * `--auth none`: the anonymous caller. On the management plane only when no Authorization header is sent (a token
 * sent is still read, so systemData shows its caller); on the data plane whatever is sent.
 */
export class NoneAuthenticator implements Authenticator {
  readonly scheme = 'none';

  constructor(private readonly opts: { ignoresCredentials: boolean }) {}

  authenticate(req: AuthRequest): Answer {
    return this.opts.ignoresCredentials || !req.authorization ? ANONYMOUS : undefined;
  }
}
