import type { Principal } from '../../arm/context.js';
import type { ParsedJwt } from '../jwt.js';
import { decodeJwt } from '../token-cache.js';

/**
 * One authenticator per scheme (none, loose, strict, endpoint key), tried in a chain as Azurite does: each answers
 * with the caller (a Principal), a refusal, or `undefined` when the request is not its to judge.
 */

export type RefusalKind =
  | 'missing' // no credential at all
  | 'malformed' // an Authorization header that is not 'Bearer <token>'
  | 'invalid' // not a JWT, bad signature, wrong issuer, no tenant, not valid yet
  | 'expired'
  | 'audience'
  | 'tenant' // the subscription belongs to another tenant
  | 'scheme' // a credential of a kind the endpoint does not take
  | 'key'; // not one of the endpoint's current keys

/** Why a request is refused, plane-neutral: each plane words it in its own error envelope. */
export class Refusal {
  constructor(
    readonly kind: RefusalKind,
    /** Never repeats the credential. */
    readonly message: string,
    readonly detail: {
      /** 'audience': the token's audience, and the ones allowed. */
      audience?: string;
      allowed?: readonly string[];
      /** 'tenant': the tenant the subscription belongs to, and the token's. */
      boundTenant?: string;
      tokenTenant?: string;
    } = {},
  ) {}
}

/** What the data plane's authenticators need of the endpoint called. */
export interface EndpointCredentials {
  name: string;
  keys?: { primaryKey: string; secondaryKey: string };
  acceptsKey: boolean;
  acceptsToken: boolean;
}

/** A request as the authenticators see it. */
export interface AuthRequest {
  /** The Authorization header as sent ('' counts as absent). */
  authorization?: string;
  /** The token of `Authorization: Bearer <token>`, and that token decoded when it is a JWT (see authRequest). */
  bearer?: string;
  jwt?: ParsedJwt;
  /** The data plane's `api-key` header. */
  apiKey?: string;
  /** scheme://host[:port] as the client called us (tokens from amlite's issuer name it). */
  origin: string;
  /** The subscription the request is about, when there is one (its tenant must be the token's in strict mode). */
  subscriptionId?: string;
  now: Date;
  /** Data plane: the endpoint called. A bearer there may be one of its keys rather than a token. */
  endpoint?: EndpointCredentials;
}

export type Answer = Principal | Refusal | undefined;

export interface Authenticator {
  readonly scheme: 'none' | 'loose' | 'strict' | 'endpoint-key';
  /** Async only where it must ask the store (strict mode binding a subscription to its tenant). */
  authenticate(req: AuthRequest): Answer | Promise<Answer>;
}

/**
 * Authenticators in order, and what to answer when none of them claims the request. The answer is synchronous as
 * long as every authenticator asked answered synchronously.
 */
export class AuthChain {
  constructor(
    readonly authenticators: readonly Authenticator[],
    private readonly unclaimed: (req: AuthRequest) => Refusal,
  ) {}

  authenticate(req: AuthRequest): Principal | Refusal | Promise<Principal | Refusal> {
    return this.from(0, req);
  }

  private from(first: number, req: AuthRequest): Principal | Refusal | Promise<Principal | Refusal> {
    for (let i = first; i < this.authenticators.length; i++) {
      const answer = this.authenticators[i].authenticate(req);
      const next = i + 1;
      if (answer instanceof Promise) return answer.then((a) => a ?? this.from(next, req));
      if (answer) return answer;
    }
    return this.unclaimed(req);
  }
}

/** The token of `Bearer <token>`; undefined for any other header. */
export const bearerOf = (header: string | undefined): string | undefined =>
  header ? /^Bearer\s+(\S+)$/i.exec(header.trim())?.[1] : undefined;

/** A request for the chains: its bearer token read and decoded once, whichever authenticators look at it. */
export function authRequest(fields: Omit<AuthRequest, 'bearer' | 'jwt'>): AuthRequest {
  const { authorization, apiKey, origin, subscriptionId, now, endpoint } = fields;
  const bearer = bearerOf(authorization);
  const jwt = bearer ? decodeJwt(bearer) : undefined;
  // Named fields rather than a spread: the spread made this the slowest step of a request's authentication.
  return { authorization, bearer, jwt, apiKey, origin, subscriptionId, now, endpoint };
}

/**
 * The bearer JWT a token authenticator (loose, strict) judges, or its answer without looking further: not mine when
 * no bearer is sent or, on an endpoint, when it is no JWT (it may be a key); refused when it is not a JWT on the
 * management plane, or the endpoint takes keys only.
 */
export function bearerJwt(req: AuthRequest): ParsedJwt | Refusal | undefined {
  if (!req.bearer) return undefined;
  const jwt = req.jwt;
  if (!jwt) return req.endpoint ? undefined : new Refusal('invalid', 'The token is not a JSON Web Token.');
  if (req.endpoint && !req.endpoint.acceptsToken)
    return new Refusal(
      'scheme',
      `The endpoint '${req.endpoint.name}' uses key authentication: send one of its keys, not a token.`,
    );
  return jwt;
}
