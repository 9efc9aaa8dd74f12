import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGuid } from '../arm/ids.js';
import { publicJwk, signJwt, type Claims } from './jwt.js';
import { sameSecret } from './same-secret.js';

/**
 * A local Microsoft Entra ID stand-in: the endpoints `@azure/identity` (MSAL) calls for a client-credentials token,
 * served at the root of amlite's own port, and the RS256 key that signs the tokens (generated at first start and
 * kept in the data dir, like the TLS certificate).
 *
 *   GET  /common/discovery/instance                   instance discovery (MSAL asks it unless disableInstanceDiscovery)
 *   GET  /{tenant}/v2.0/.well-known/openid-configuration
 *   GET  /{tenant}/discovery/v2.0/keys                 the JWKS
 *   POST /{tenant}/oauth2/v2.0/token                   grant_type=client_credentials, scope={resource}/.default
 *   POST /{tenant}/oauth2/token                        the v1 form: resource={resource}
 */

export const KEY_FILE = 'issuer-key.pem';
/** How long an issued token lives. */
export const TOKEN_LIFETIME_SECONDS = 3600;

export class TokenIssuer {
  readonly jwk: ReturnType<typeof publicJwk>;
  readonly publicKey: KeyObject;

  private constructor(private readonly key: KeyObject) {
    this.jwk = publicJwk(key);
    this.publicKey = createPublicKey(key);
  }

  /** The signing key of `dataDir`, made (RSA 2048) on first use. */
  static async load(dataDir: string): Promise<TokenIssuer> {
    const path = join(dataDir, KEY_FILE);
    if (existsSync(path)) return new TokenIssuer(createPrivateKey(readFileSync(path, 'utf8')));
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    mkdirSync(dataDir, { recursive: true });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    // Another start on the same dir may have won the race: keep whichever key landed first.
    if (existsSync(path)) return new TokenIssuer(createPrivateKey(readFileSync(path, 'utf8')));
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, pem, { mode: 0o600 });
    renameSync(tmp, path);
    return new TokenIssuer(privateKey);
  }

  get kid(): string {
    return this.jwk.kid;
  }

  sign(claims: Claims): string {
    return signJwt(claims, this.key, this.kid);
  }

  /** A token as the token endpoint issues it: an application (client credentials) of `tenant` for `audience`. */
  issue(opts: {
    origin: string;
    tenantId: string;
    clientId: string;
    audience: string;
    now?: Date;
    lifetimeSeconds?: number;
    extra?: Claims;
  }): { token: string; expiresIn: number } {
    const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
    const lifetime = opts.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS;
    const iss = issuerUrl(opts.origin, opts.tenantId);
    const oid = derivedGuid(`${opts.tenantId}:${opts.clientId}`);
    const claims: Claims = {
      aud: opts.audience,
      iss,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      aio: 'amlite',
      appid: opts.clientId,
      appidacr: '1',
      azp: opts.clientId,
      azpacr: '1',
      idp: iss,
      idtyp: 'app',
      oid,
      sub: oid,
      tid: opts.tenantId,
      uti: randomUUID().replaceAll('-', ''),
      ver: '2.0',
      ...opts.extra,
    };
    return { token: this.sign(claims), expiresIn: lifetime };
  }
}

/** The issuer of tokens for `tenantId` minted by the amlite at `origin`. */
export const issuerUrl = (origin: string, tenantId: string) => `${origin}/${tenantId}/v2.0`;

/** A stable GUID for a name (a tenant domain, an application in a tenant). */
export function derivedGuid(name: string): string {
  const h = createHash('sha256').update(name.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The tenant id a tenant path segment stands for: the GUID itself, or a stable GUID for a domain name. */
export const tenantIdOf = (segment: string) => (isGuid(segment) ? segment.toLowerCase() : derivedGuid(segment));

const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

export interface IssuerDeps {
  /** The signing key (loaded lazily unless strict mode already did). */
  issuer: () => Promise<TokenIssuer>;
  /** When set, the only client secret the token endpoint accepts; otherwise any client id and secret. */
  clientSecret?: string;
}

/** The issuer's routes, in their own plugin context (they alone parse form bodies and answer OAuth errors). */
export async function issuerRoutes(app: FastifyInstance, deps: IssuerDeps): Promise<void> {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  const origin = (req: FastifyRequest) => `${req.protocol}://${req.host}`;
  const tenantOf = (req: FastifyRequest) => (req.params as { tenant?: string }).tenant ?? 'common';

  app.get('/common/discovery/instance', async (req) => {
    const q = req.query as Record<string, unknown>;
    const host = req.host;
    // The authority MSAL asks about, when it is this server: its tenant path segment.
    let tenant = 'common';
    try {
      const asked = new URL(
        String(
          Array.isArray(q.authorization_endpoint) ? q.authorization_endpoint[0] : (q.authorization_endpoint ?? ''),
        ),
      );
      if (asked.host.toLowerCase() === host.toLowerCase()) tenant = asked.pathname.split('/')[1] || tenant;
    } catch {
      /* not a URL: answer for 'common' */
    }
    return {
      tenant_discovery_endpoint: `${origin(req)}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  });

  const openIdConfiguration = async (req: FastifyRequest) => {
    const o = origin(req);
    const segment = tenantOf(req);
    const base = `${o}/${encodeURIComponent(segment)}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      grant_types_supported: ['client_credentials'],
      issuer: MULTI_TENANT.has(segment.toLowerCase()) ? `${o}/{tenantid}/v2.0` : issuerUrl(o, tenantIdOf(segment)),
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'appid', 'azp', 'idtyp', 'ver'],
      tenant_region_scope: null,
      cloud_instance_name: 'amlite.local',
    };
  };
  app.get('/:tenant/v2.0/.well-known/openid-configuration', openIdConfiguration);
  app.get('/:tenant/.well-known/openid-configuration', openIdConfiguration);

  const keys = async () => ({ keys: [(await deps.issuer()).jwk] });
  app.get('/:tenant/discovery/v2.0/keys', keys);
  app.get('/:tenant/discovery/keys', keys);

  const token = async (req: FastifyRequest, reply: FastifyReply) => {
    const oauthError = (status: number, error: string, code: number, description: string) => {
      const traceId = randomUUID();
      return reply
        .code(status)
        .header('cache-control', 'no-store')
        .send({
          error,
          error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Timestamp: ${new Date().toISOString()}`,
          error_codes: [code],
          timestamp: new Date()
            .toISOString()
            .replace('T', ' ')
            .replace(/\.\d+Z$/, 'Z'),
          trace_id: traceId,
          correlation_id: String(req.headers['client-request-id'] ?? randomUUID()),
        });
    };
    const segment = tenantOf(req);
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return oauthError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    const form = body as Record<string, string>;
    if (!form.grant_type)
      return oauthError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    if (form.grant_type !== 'client_credentials')
      return oauthError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${form.grant_type.slice(0, 64)}'. amlite's token issuer supports client_credentials.`,
      );
    if (MULTI_TENANT.has(segment.toLowerCase()))
      return oauthError(
        400,
        'invalid_request',
        900023,
        `Specified tenant identifier '${segment}' is neither a valid DNS name, nor a valid external domain. The client credentials flow needs a tenant id.`,
      );
    const basic = basicCredentials(req.headers.authorization);
    if (basic === 'malformed')
      return oauthError(
        400,
        'invalid_request',
        90023,
        "The Authorization header's Basic credentials are not valid: " +
          "they must be base64 of the percent-encoded client id and secret joined by ':'.",
      );
    const [basicId, basicSecret] = basic ?? [];
    const clientId = form.client_id || basicId;
    const secret = form.client_secret || basicSecret;
    if (!clientId)
      return oauthError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    if (!secret && !form.client_assertion)
      return oauthError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    if (deps.clientSecret !== undefined && !(secret && sameSecret(secret, deps.clientSecret)))
      return oauthError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value configured for amlite (--issuer-secret), for app '${clientId.slice(0, 64)}'.`,
      );
    const audience = audienceOf(form);
    if (!audience)
      return oauthError(
        400,
        'invalid_scope',
        1002012,
        'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
      );
    const issued = (await deps.issuer()).issue({
      origin: origin(req),
      tenantId: tenantIdOf(segment),
      clientId,
      audience,
    });
    return reply.header('cache-control', 'no-store').send({
      token_type: 'Bearer',
      expires_in: issued.expiresIn - 1,
      ext_expires_in: issued.expiresIn - 1,
      access_token: issued.token,
    });
  };
  app.post('/:tenant/oauth2/v2.0/token', token);
  app.post('/:tenant/oauth2/token', token);
}

/** HTTP Basic client credentials (RFC 6749 2.3.1: each part percent-encoded): none, the pair, or 'malformed'. */
function basicCredentials(header: string | undefined): [string, string] | 'malformed' | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(String(header ?? ''))?.[1];
  if (!basic) return undefined;
  const [id, secret] = Buffer.from(basic, 'base64').toString().split(/:(.*)/s, 2);
  try {
    return [decodeURIComponent(id), decodeURIComponent(secret ?? '')];
  } catch {
    return 'malformed';
  }
}

/** `scope=https://management.azure.com/.default` (v2) or `resource=https://management.azure.com/` (v1). */
function audienceOf(form: Record<string, string>): string | undefined {
  if (form.resource) return form.resource;
  const scopes = String(form.scope ?? '')
    .split(/\s+/)
    .filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
  const resource = scopes.find((s) => s.endsWith('/.default'));
  if (!resource || scopes.length !== 1) return undefined;
  const aud = resource.slice(0, -'/.default'.length);
  // ARM's own resource keeps its trailing slash in tokens; the rest (https://ml.azure.com) do not.
  return /^https:\/\/management\.(azure\.com|core\.windows\.net)\/?$/i.test(aud)
    ? `${aud.replace(/\/$/, '')}/`
    : aud.replace(/\/$/, '');
}
