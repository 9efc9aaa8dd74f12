import { ArmError, errors } from '../../arm/errors.js';
import { MANAGEMENT_AUDIENCES, managementAudiences, mlAudiences } from '../audiences.js';
import { issuerUrl } from '../issuer.js';
import type { StrictAuth } from '../strict.js';
import { AuthChain, Refusal, type AuthRequest } from './authenticator.js';
import { EndpointKeyAuthenticator } from './endpoint-key.js';
import { LooseAuthenticator } from './loose.js';
import { NoneAuthenticator } from './none.js';
import { StrictAuthenticator } from './strict.js';

/** The server's auth mode: `loose` and `none` by name; strict mode is the verifier holding the issuer's key. */
export type AuthMode = 'loose' | 'none' | StrictAuth;

/** Each plane's chain, built once per auth mode. */
export interface AuthChains {
  /** Management and control: a subscription's tenant is settled with the store (async). */
  management: AuthChain;
  /** The same, checking only the tenants this process already knows: always answers synchronously. */
  managementKnownTenants: AuthChain;
  /** Inference endpoints: endpoint keys, then tokens for https://ml.azure.com. */
  dataPlane: AuthChain;
}

/** Management: nobody claimed it, so the header is missing or not 'Bearer <token>'. */
const unclaimedManagement = (req: AuthRequest) =>
  req.authorization
    ? new Refusal('malformed', "The 'Authorization' header must be 'Bearer <token>'.")
    : new Refusal('missing', "The 'Authorization' header is missing.");

/** Data plane: nothing sent, or (the endpoint taking tokens only) something that is not a token. */
function unclaimedDataPlane(req: AuthRequest): Refusal {
  const takesKey = !!req.endpoint?.acceptsKey;
  if (req.apiKey || req.bearer)
    return new Refusal('scheme', `The endpoint '${req.endpoint?.name}' takes Azure AD tokens only.`);
  return new Refusal(
    'missing',
    `Send ${
      takesKey
        ? "the endpoint's key in the 'api-key' header or as 'Authorization: Bearer <key>'"
        : "an Azure AD token for https://ml.azure.com as 'Authorization: Bearer <token>'"
    }.`,
  );
}

function build(mode: AuthMode): AuthChains {
  const keys = new EndpointKeyAuthenticator();
  type List = AuthChain['authenticators'];
  const chains = (management: List, known: List, data: List): AuthChains => ({
    management: new AuthChain(management, unclaimedManagement),
    managementKnownTenants: new AuthChain(known, unclaimedManagement),
    dataPlane: new AuthChain(data, unclaimedDataPlane),
  });
  if (mode === 'none') {
    const management = [new NoneAuthenticator({ ignoresCredentials: false }), new LooseAuthenticator()];
    return chains(management, management, [new NoneAuthenticator({ ignoresCredentials: true })]);
  }
  if (mode === 'loose') {
    const management = [new LooseAuthenticator()];
    return chains(management, management, [keys, new LooseAuthenticator({ audiences: mlAudiences })]);
  }
  return chains(
    [new StrictAuthenticator(mode, { audiences: managementAudiences, tenants: 'store' })],
    [new StrictAuthenticator(mode, { audiences: managementAudiences, tenants: 'known' })],
    [keys, new StrictAuthenticator(mode, { audiences: mlAudiences, tenants: 'store' })],
  );
}

const NAMED = { none: build('none'), loose: build('loose') };
const STRICT = new WeakMap<StrictAuth, AuthChains>();

/** The chains of an auth mode (built on first use, then kept). */
export function authChains(mode: AuthMode): AuthChains {
  if (typeof mode === 'string') return NAMED[mode];
  let chains = STRICT.get(mode);
  if (!chains) STRICT.set(mode, (chains = build(mode)));
  return chains;
}

/** The ARM error (401) Azure answers a refused management request with. */
export function managementError(r: Refusal, origin: string): ArmError {
  switch (r.kind) {
    case 'missing':
      return atIssuer(errors.authMissing(), origin);
    case 'expired':
      return atIssuer(errors.authExpired(), origin);
    case 'audience': {
      const allowed = r.detail.allowed ?? MANAGEMENT_AUDIENCES;
      return new ArmError(
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${r.detail.audience ?? ''}'. ` +
          `It should exactly match with one of the allowed audiences ${allowed.map((a) => `'${a}'`).join(',')}.`,
        undefined,
        undefined,
        challenge(origin, 'common', 'The access token has been obtained for wrong audience or resource.'),
      );
    }
    case 'tenant': {
      const bound = r.detail.boundTenant ?? '';
      return new ArmError(
        401,
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer '${issuerUrl(origin, r.detail.tokenTenant ?? '')}'. ` +
          `It must match the tenant '${issuerUrl(origin, bound)}' associated with this subscription. ` +
          `Please use the authority (URL) '${origin}/${bound}' to get the token.`,
        undefined,
        undefined,
        challenge(origin, bound, 'The access token is from the wrong issuer.'),
      );
    }
    default:
      return atIssuer(errors.authInvalid(r.message), origin);
  }
}

/** The error with its challenge's authorization_uri on amlite's own issuer (where its tokens come from). */
function atIssuer(e: ArmError, origin: string): ArmError {
  const header = e.headers['www-authenticate']?.replace(
    /authorization_uri="[^"]*"/,
    `authorization_uri="${origin}/common"`,
  );
  return header ? new ArmError(e.status, e.code, e.message, e.target, e.details, { 'www-authenticate': header }) : e;
}

const challenge = (origin: string, tenant: string, why: string) => ({
  'www-authenticate': `Bearer authorization_uri="${origin}/${tenant}", error="invalid_token", error_description="${why}"`,
});
