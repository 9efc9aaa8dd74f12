import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArmError, errors } from '../arm/errors.js';
import { parseJwt, verifyRs256, type Claims } from './jwt.js';
import { issuerUrl, TokenIssuer } from './issuer.js';

/**
 * `--auth strict`: a bearer token must be one amlite's own token issuer signed (RS256, the key in the data dir), for
 * this server's issuer URL, for the plane's audience, unexpired; and a subscription belongs to the tenant that first
 * used it.
 */

export const MANAGEMENT_AUDIENCES = ['https://management.azure.com/', 'https://management.azure.com', 'https://management.core.windows.net/', 'https://management.core.windows.net'];
export const ML_AUDIENCES = ['https://ml.azure.com', 'https://ml.azure.com/'];

/** Where a request came in: the origin it called (the issuer must be on it) and the subscription it names. */
export interface AuthScope {
  origin: string;
  subscriptionId?: string;
}

export interface StrictFailure {
  kind: 'invalid' | 'expired' | 'audience' | 'tenant';
  message: string;
  /** For 'tenant': the tenant the subscription belongs to, and the token's. */
  boundTenant?: string;
  tokenTenant?: string;
  /** For 'audience': the token's audience. */
  audience?: string;
}

/** Clock skew allowed on `nbf` (Entra ID allows five minutes). Expiry is checked to the second. */
const NBF_SKEW_SECONDS = 300;

export class StrictAuth {
  readonly mode = 'strict' as const;

  constructor(readonly issuer: TokenIssuer, readonly bindings: TenantBindings) {}

  /** The token's claims, or why it is refused. Nothing in a failure repeats the token. */
  check(token: string, audiences: readonly string[], scope: AuthScope, now: Date): { claims: Claims } | { failure: StrictFailure } {
    const fail = (kind: StrictFailure['kind'], message: string, more: Partial<StrictFailure> = {}) => ({ failure: { kind, message, ...more } });
    const jwt = parseJwt(token);
    if (!jwt) return fail('invalid', 'The token is not a JSON Web Token.');
    if (jwt.header.alg !== 'RS256' || jwt.header.kid !== this.issuer.kid)
      return fail('invalid', `The token is not signed by amlite's token issuer (strict mode takes only tokens from ${scope.origin}/{tenant}/oauth2/v2.0/token).`);
    if (!verifyRs256(jwt, this.issuer.publicKey)) return fail('invalid', "The token's signature does not verify with the key of amlite's token issuer.");
    const c = jwt.claims;
    const tid = typeof c.tid === 'string' ? c.tid : '';
    if (!tid) return fail('invalid', "The token has no 'tid' (tenant) claim.");
    if (typeof c.iss !== 'string' || !sameIssuer(c.iss, issuerUrl(scope.origin, tid)))
      return fail('invalid', `The token's issuer is not amlite's issuer for its tenant (${issuerUrl(scope.origin, tid)}).`);
    const aud = Array.isArray(c.aud) ? c.aud.map(String) : [String(c.aud)];
    if (!aud.some((a) => audiences.includes(a))) return fail('audience', `The token's audience '${aud.join(',')}' is not one of ${audiences.map((a) => `'${a}'`).join(',')}.`, { audience: aud.join(',') });
    const seconds = now.getTime() / 1000;
    if (typeof c.exp !== 'number' || c.exp <= seconds) return fail('expired', 'The token has expired.');
    if (typeof c.nbf === 'number' && c.nbf > seconds + NBF_SKEW_SECONDS) return fail('invalid', 'The token is not valid yet (nbf).');
    if (scope.subscriptionId) {
      const bound = this.bindings.check(scope.subscriptionId, tid);
      if (bound) return fail('tenant', `The subscription '${scope.subscriptionId}' belongs to the tenant '${bound}', and the token is from the tenant '${tid}'.`, { boundTenant: bound, tokenTenant: tid });
    }
    return { claims: c };
  }

  /** Management plane: the claims, or the ARM error Azure answers with (401). */
  management(token: string, scope: AuthScope, now: Date): Claims {
    const checked = this.check(token, MANAGEMENT_AUDIENCES, scope, now);
    if ('claims' in checked) return checked.claims;
    const r = checked.failure;
    switch (r.kind) {
      case 'expired':
        throw errors.authExpired();
      case 'audience': {
        const aud = r.audience ?? '';
        throw new ArmError(401, 'InvalidAuthenticationTokenAudience',
          `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${MANAGEMENT_AUDIENCES.map((a) => `'${a}'`).join(',')}.`,
          undefined, undefined, challenge(scope.origin, 'common', 'The access token has been obtained for wrong audience or resource.'));
      }
      case 'tenant': {
        const tid = r.tokenTenant ?? '';
        throw new ArmError(401, 'InvalidAuthenticationTokenTenant',
          `The access token is from the wrong issuer '${issuerUrl(scope.origin, tid)}'. It must match the tenant '${issuerUrl(scope.origin, r.boundTenant!)}' associated with this subscription. Please use the authority (URL) '${scope.origin}/${r.boundTenant}' to get the token.`,
          undefined, undefined, challenge(scope.origin, r.boundTenant!, 'The access token is from the wrong issuer.'));
      }
      default:
        throw errors.authInvalid(r.message);
    }
  }
}

const challenge = (origin: string, tenant: string, why: string) => ({
  'www-authenticate': `Bearer authorization_uri="${origin}/${tenant}", error="invalid_token", error_description="${why}"`,
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Same issuer: same scheme, port and path; hosts equal, or both loopback names of this machine. */
function sameIssuer(actual: string, expected: string): boolean {
  try {
    const a = new URL(actual);
    const e = new URL(expected);
    if (a.protocol !== e.protocol || a.port !== e.port || a.pathname.toLowerCase() !== e.pathname.toLowerCase()) return false;
    const ah = a.hostname.toLowerCase();
    const eh = e.hostname.toLowerCase();
    return ah === eh || (LOOPBACK.has(ah) && LOOPBACK.has(eh));
  } catch {
    return false;
  }
}

/**
 * Which tenant each subscription belongs to: the tenant of the first token used on it. Kept in `<data-dir>/tenants.json`
 * (not with --in-memory, where resources do not outlive the process either).
 */
export class TenantBindings {
  private readonly tenants = new Map<string, string>();

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      try {
        for (const [sub, tid] of Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)) this.tenants.set(sub, tid);
      } catch {
        // An unreadable file binds nothing; the next binding rewrites it.
      }
    }
  }

  /** Binds `subscriptionId` to `tenantId` on first use; returns the bound tenant when it is another one. */
  check(subscriptionId: string, tenantId: string): string | undefined {
    const sub = subscriptionId.toLowerCase();
    const tid = tenantId.toLowerCase();
    const bound = this.tenants.get(sub);
    if (bound) return bound === tid ? undefined : bound;
    this.tenants.set(sub, tid);
    if (this.file) {
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.tenants), null, 1));
      renameSync(tmp, this.file);
    }
    return undefined;
  }
}

/**
 * The auth mode of a server and its token issuer. The issuer's key is made at start in strict mode and on first use
 * otherwise (loose mode accepts its tokens as well: they are JWTs).
 */
export async function authSetup(config: { auth: 'loose' | 'none' | 'strict'; dataDir: string; inMemory: boolean }): Promise<{ mode: 'loose' | 'none' | StrictAuth; issuer: () => Promise<TokenIssuer> }> {
  let loading: Promise<TokenIssuer> | undefined;
  const issuer = () => (loading ??= TokenIssuer.load(config.dataDir));
  if (config.auth !== 'strict') return { mode: config.auth, issuer };
  const bindings = new TenantBindings(config.inMemory ? undefined : join(config.dataDir, 'tenants.json'));
  return { mode: new StrictAuth(await issuer(), bindings), issuer };
}
