import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal } from '../arm/context.js';
import type { Store } from '../store/types.js';
import { LOOPBACK } from './audiences.js';
import { Refusal } from './authenticators/authenticator.js';
import { authChains, managementError, type AuthChains } from './authenticators/chains.js';
import { managementRequest, type AuthMode, type RequestLike } from './bearer.js';
import { isCanonical, verifyRs256, type Claims, type ParsedJwt } from './jwt.js';
import { decodeJwt, Lru, TOKEN_CACHE_ENTRIES } from './token-cache.js';
import { issuerUrl, TokenIssuer } from './issuer.js';

export { MANAGEMENT_AUDIENCES, ML_AUDIENCES, managementAudiences } from './audiences.js';

/**
 * `--auth strict`: a bearer token must be one amlite's own token issuer signed (RS256, the key in the data dir), for
 * this server's issuer URL, for the plane's audience, unexpired; and a subscription belongs to the tenant that first
 * used it. The checks live here; authenticators/strict.ts puts them in the planes' chains.
 */

/** Where a request came in: the origin it called (the issuer must be on it) and the subscription it names. */
export interface AuthScope {
  origin: string;
  subscriptionId?: string;
}

/** Clock skew allowed on `nbf` (Entra ID allows five minutes). Expiry is checked to the second. */
const NBF_SKEW_SECONDS = 300;

export class StrictAuth {
  readonly mode = 'strict' as const;
  /** Tokens whose signature verified with the issuer's key (the expensive check; it depends on the token only). */
  private readonly signed = new Lru<string, true>(TOKEN_CACHE_ENTRIES);

  constructor(
    readonly issuer: TokenIssuer,
    readonly bindings: TenantBindings,
  ) {}

  /** The token's claims, or why it is refused. Nothing in a refusal repeats the token. */
  check(token: string, audiences: readonly string[], scope: AuthScope, now: Date): Claims | Refusal {
    const jwt = decodeJwt(token);
    if (!jwt) return new Refusal('invalid', 'The token is not a JSON Web Token.');
    if (!this.signed.get(token)) {
      const unsigned = this.signatureFailure(jwt, scope);
      if (unsigned) return unsigned;
      this.signed.set(token, true);
    }
    const c = jwt.claims;
    const tid = typeof c.tid === 'string' ? c.tid : '';
    if (!tid) return new Refusal('invalid', "The token has no 'tid' (tenant) claim.");
    if (typeof c.iss !== 'string' || !sameIssuer(c.iss, issuerUrl(scope.origin, tid)))
      return new Refusal(
        'invalid',
        `The token's issuer is not amlite's issuer for its tenant (${issuerUrl(scope.origin, tid)}).`,
      );
    const aud = Array.isArray(c.aud) ? c.aud.map(String) : [String(c.aud)];
    if (!aud.some((a) => audiences.includes(a)))
      return new Refusal(
        'audience',
        `The token's audience '${aud.join(',')}' is not one of ${audiences.map((a) => `'${a}'`).join(',')}.`,
        { audience: aud.join(','), allowed: audiences },
      );
    const seconds = now.getTime() / 1000;
    if (typeof c.exp !== 'number' || c.exp <= seconds) return new Refusal('expired', 'The token has expired.');
    if (typeof c.nbf === 'number' && c.nbf > seconds + NBF_SKEW_SECONDS)
      return new Refusal('invalid', 'The token is not valid yet (nbf).');
    // What this process already knows; the store decides the rest (tenantFailure).
    const sub = scope.subscriptionId;
    return (sub && tenantMismatch(sub, this.bindings.known(sub), tid)) || c;
  }

  /** Why the token is not one amlite's issuer signed, or undefined when it is. */
  private signatureFailure(jwt: ParsedJwt, scope: AuthScope): Refusal | undefined {
    if (!isCanonical(jwt)) return new Refusal('invalid', 'The token is not a JSON Web Token.');
    if (jwt.header.alg !== 'RS256' || jwt.header.kid !== this.issuer.kid)
      return new Refusal(
        'invalid',
        "The token is not signed by amlite's token issuer (strict mode takes only tokens " +
          `from ${scope.origin}/{tenant}/oauth2/v2.0/token).`,
      );
    if (!verifyRs256(jwt, this.issuer.publicKey))
      return new Refusal('invalid', "The token's signature does not verify with the key of amlite's token issuer.");
    return undefined;
  }

  /**
   * The subscription's tenant, from the store: binds it to `tenantId` on first use (the first process to bind it
   * wins); a refusal when it belongs to another tenant.
   */
  async tenantFailure(subscriptionId: string, tenantId: string): Promise<Refusal | undefined> {
    return tenantMismatch(subscriptionId, await this.bindings.bind(subscriptionId, tenantId), tenantId);
  }

  /** Management plane: 401 InvalidAuthenticationTokenTenant unless the subscription is (now) the tenant's. */
  async requireTenant(subscriptionId: string, tenantId: string, origin: string): Promise<void> {
    const refusal = await this.tenantFailure(subscriptionId, tenantId);
    if (refusal) throw managementError(refusal, origin);
  }
}

function tenantMismatch(subscriptionId: string, bound: string | undefined, tokenTenant: string): Refusal | undefined {
  if (!bound || bound === tokenTenant.toLowerCase()) return undefined;
  return new Refusal(
    'tenant',
    `The subscription '${subscriptionId}' belongs to the tenant '${bound}', ` +
      `and the token is from the tenant '${tokenTenant}'.`,
    { boundTenant: bound, tokenTenant },
  );
}

/** Issuer comparisons kept (a client's tokens name one issuer; the comparison parses two URLs). */
const sameIssuers = new Lru<string, boolean>(TOKEN_CACHE_ENTRIES);

/** Same issuer: same scheme, port and path; hosts equal, or both loopback names of this machine. */
function sameIssuer(actual: string, expected: string): boolean {
  const key = `${actual} ${expected}`;
  let same = sameIssuers.get(key);
  if (same === undefined) sameIssuers.set(key, (same = compareIssuers(actual, expected)));
  return same;
}

function compareIssuers(actual: string, expected: string): boolean {
  try {
    const a = new URL(actual);
    const e = new URL(expected);
    if (a.protocol !== e.protocol || a.port !== e.port) return false;
    if (a.pathname.toLowerCase() !== e.pathname.toLowerCase()) return false;
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
 * The auth mode of a server, its token issuer and each plane's authenticator chain. The issuer's key is made at
 * start in strict mode and on first use otherwise (loose mode accepts its tokens as well: they are JWTs).
 */
export async function authSetup(
  config: { auth: 'loose' | 'none' | 'strict'; dataDir: string; inMemory: boolean },
  store: Pick<Store, 'bindTenant' | 'tenantOf'>,
): Promise<{ mode: AuthMode; issuer: () => Promise<TokenIssuer>; imported: number; chains: AuthChains }> {
  let loading: Promise<TokenIssuer> | undefined;
  const issuer = () => (loading ??= TokenIssuer.load(config.dataDir));
  if (config.auth !== 'strict') return { mode: config.auth, issuer, imported: 0, chains: authChains(config.auth) };
  const bindings = new TenantBindings(store);
  // --in-memory never read or wrote the file: its bindings did not outlive the process either.
  const imported = config.inMemory ? 0 : await bindings.importLegacyFile(join(config.dataDir, LEGACY_TENANTS_FILE));
  const mode = new StrictAuth(await issuer(), bindings);
  return { mode, issuer, imported, chains: authChains(mode) };
}

/**
 * The caller of a management or control request, through the management chain: in strict mode the subscription's
 * tenant is settled with the store (bound on first use).
 */
export async function authenticateRequest(
  header: string | undefined,
  mode: AuthMode,
  now: Date,
  req?: RequestLike,
): Promise<Principal> {
  const request = managementRequest(header, now, req);
  const answer = await authChains(mode).management.authenticate(request);
  if (answer instanceof Refusal) throw managementError(answer, request.origin);
  return answer;
}
