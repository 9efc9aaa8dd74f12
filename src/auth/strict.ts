import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ArmError, errors } from '../arm/errors.js';
import type { Principal } from '../arm/context.js';
import type { Store } from '../store/types.js';
import { parseJwt, verifyRs256, type Claims } from './jwt.js';
import { issuerUrl, TokenIssuer } from './issuer.js';
import { authenticate, type AuthMode, type RequestLike } from './bearer.js';

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
      // What this process already knows; the store decides the rest (tenantFailure, awaited by every caller).
      const failure = tenantMismatch(scope.subscriptionId, this.bindings.known(scope.subscriptionId), tid);
      if (failure) return { failure };
    }
    return { claims: c };
  }

  /**
   * The subscription's tenant, from the store: binds it to `tenantId` on first use (the first process to bind it
   * wins); a failure when it belongs to another tenant.
   */
  async tenantFailure(subscriptionId: string, tenantId: string): Promise<StrictFailure | undefined> {
    return tenantMismatch(subscriptionId, await this.bindings.bind(subscriptionId, tenantId), tenantId);
  }

  /** Management plane: 401 InvalidAuthenticationTokenTenant unless the subscription is (now) the tenant's. */
  async requireTenant(subscriptionId: string, tenantId: string, origin: string): Promise<void> {
    const failure = await this.tenantFailure(subscriptionId, tenantId);
    if (failure) throw managementError(failure, { origin, subscriptionId });
  }

  /** Management plane: the claims, or the ARM error Azure answers with (401). */
  management(token: string, scope: AuthScope, now: Date): Claims {
    const audiences = managementAudiences(scope.origin);
    const checked = this.check(token, audiences, scope, now);
    if ('claims' in checked) return checked.claims;
    throw managementError(checked.failure, scope, audiences);
  }
}

/** The ARM error (401) Azure answers a failed check with. */
function managementError(r: StrictFailure, scope: AuthScope, audiences = MANAGEMENT_AUDIENCES): ArmError {
  switch (r.kind) {
    case 'expired':
      return errors.authExpired();
    case 'audience': {
      const aud = r.audience ?? '';
      return new ArmError(401, 'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${audiences.map((a) => `'${a}'`).join(',')}.`,
        undefined, undefined, challenge(scope.origin, 'common', 'The access token has been obtained for wrong audience or resource.'));
    }
    case 'tenant': {
      const tid = r.tokenTenant ?? '';
      return new ArmError(401, 'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer '${issuerUrl(scope.origin, tid)}'. It must match the tenant '${issuerUrl(scope.origin, r.boundTenant!)}' associated with this subscription. Please use the authority (URL) '${scope.origin}/${r.boundTenant}' to get the token.`,
        undefined, undefined, challenge(scope.origin, r.boundTenant!, 'The access token is from the wrong issuer.'));
    }
    default:
      return errors.authInvalid(r.message);
  }
}

function tenantMismatch(subscriptionId: string, bound: string | undefined, tokenTenant: string): StrictFailure | undefined {
  if (!bound || bound === tokenTenant.toLowerCase()) return undefined;
  return {
    kind: 'tenant', boundTenant: bound, tokenTenant,
    message: `The subscription '${subscriptionId}' belongs to the tenant '${bound}', and the token is from the tenant '${tokenTenant}'.`,
  };
}

/**
 * ARM's audiences, and amlite's own origin (as Azure Stack accepts its own endpoint): clients that scope their token
 * to the endpoint they were given (`@azure/arm-resources` v7 asks for `{endpoint}/.default`) get one for it. Loopback
 * names of this machine are interchangeable, as for the issuer.
 */
export function managementAudiences(origin: string): string[] {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return MANAGEMENT_AUDIENCES;
  }
  const host = url.hostname.toLowerCase();
  const hosts = LOOPBACK.has(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host];
  const port = url.port ? `:${url.port}` : '';
  const own = hosts.flatMap((h) => [`${url.protocol}//${h}${port}`, `${url.protocol}//${h}${port}/`]);
  return [...MANAGEMENT_AUDIENCES, ...own];
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

/** Bindings this process remembers (a binding never changes once made); beyond this many it starts afresh. */
export const TENANT_CACHE_ENTRIES = 10_000;

/** The file older amlite versions kept the bindings in; imported into the store once, then renamed. */
export const LEGACY_TENANTS_FILE = 'tenants.json';

/**
 * Which tenant each subscription belongs to: the tenant of the first token used on it. Kept in the store (table
 * tenant_bindings), so every process on one database agrees: the first binding wins, atomically.
 */
export class TenantBindings {
  private readonly cache = new Map<string, string>();

  constructor(private readonly store: Pick<Store, 'bindTenant' | 'tenantOf'>) {}

  /** The tenant this process already knows the subscription belongs to. */
  known(subscriptionId: string): string | undefined {
    return this.cache.get(subscriptionId.toLowerCase());
  }

  /** Binds the subscription to `tenantId` unless it is bound; returns the tenant it belongs to. */
  async bind(subscriptionId: string, tenantId: string): Promise<string> {
    const known = this.known(subscriptionId);
    return known ?? this.remember(subscriptionId, await this.store.bindTenant(subscriptionId, tenantId));
  }

  /** The tenant the subscription belongs to, if it is bound (binds nothing). */
  async tenantOf(subscriptionId: string): Promise<string | undefined> {
    const known = this.known(subscriptionId);
    if (known) return known;
    const bound = await this.store.tenantOf(subscriptionId);
    return bound && this.remember(subscriptionId, bound);
  }

  private remember(subscriptionId: string, tenantId: string): string {
    if (this.cache.size >= TENANT_CACHE_ENTRIES) this.cache.clear();
    this.cache.set(subscriptionId.toLowerCase(), tenantId);
    return tenantId;
  }

  /**
   * Imports the bindings of an older amlite's `tenants.json` (each only where the store has none), then renames the
   * file to `tenants.json.imported`: it is read once and never written again. Returns how many it held.
   */
  async importLegacyFile(file: string): Promise<number> {
    if (!existsSync(file)) return 0;
    let entries: [string, unknown][];
    try {
      entries = Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
    } catch {
      return 0; // unreadable: left as it is, binding nothing (as before)
    }
    for (const [sub, tid] of entries) if (typeof tid === 'string' && sub && tid) await this.store.bindTenant(sub, tid);
    try {
      renameSync(file, `${file}.imported`);
    } catch {
      // Another process on this data dir imported it at the same time.
    }
    return entries.length;
  }
}

/**
 * The auth mode of a server and its token issuer. The issuer's key is made at start in strict mode and on first use
 * otherwise (loose mode accepts its tokens as well: they are JWTs).
 */
export async function authSetup(
  config: { auth: 'loose' | 'none' | 'strict'; dataDir: string; inMemory: boolean },
  store: Pick<Store, 'bindTenant' | 'tenantOf'>,
): Promise<{ mode: 'loose' | 'none' | StrictAuth; issuer: () => Promise<TokenIssuer>; imported: number }> {
  let loading: Promise<TokenIssuer> | undefined;
  const issuer = () => (loading ??= TokenIssuer.load(config.dataDir));
  if (config.auth !== 'strict') return { mode: config.auth, issuer, imported: 0 };
  const bindings = new TenantBindings(store);
  // --in-memory never read or wrote the file: its bindings did not outlive the process either.
  const imported = config.inMemory ? 0 : await bindings.importLegacyFile(join(config.dataDir, LEGACY_TENANTS_FILE));
  return { mode: new StrictAuth(await issuer(), bindings), issuer, imported };
}

/**
 * `authenticate`, and in strict mode the subscription's tenant from the store (bound on first use): what every
 * management and control request goes through.
 */
export async function authenticateRequest(
  header: string | undefined, mode: AuthMode, now: Date, req?: RequestLike,
): Promise<Principal> {
  const principal = authenticate(header, mode, now, req);
  const subscriptionId = (req?.params as { subscriptionId?: unknown } | undefined)?.subscriptionId;
  if (typeof mode === 'object' && typeof subscriptionId === 'string' && subscriptionId)
    await mode.requireTenant(subscriptionId, principal.tenantId, req ? `${req.protocol}://${req.host}` : '');
  return principal;
}
