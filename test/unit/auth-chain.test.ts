// The authenticators one by one (each answers a caller, a refusal, or "not mine") and the chains they form per plane
// and auth mode: tried in order, the first definite answer wins, and what nobody claims gets the plane's refusal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '../../src/arm/context.js';
import { ArmError } from '../../src/arm/errors.js';
import {
  AuthChain,
  Refusal,
  authRequest,
  type Answer,
  type AuthRequest,
  type Authenticator,
  type EndpointCredentials,
} from '../../src/auth/authenticators/authenticator.js';
import { authChains } from '../../src/auth/authenticators/chains.js';
import { EndpointKeyAuthenticator, KEY_CALLER } from '../../src/auth/authenticators/endpoint-key.js';
import { LooseAuthenticator } from '../../src/auth/authenticators/loose.js';
import { NoneAuthenticator } from '../../src/auth/authenticators/none.js';
import { StrictAuthenticator } from '../../src/auth/authenticators/strict.js';
import { managementAudiences, mlAudiences } from '../../src/auth/audiences.js';
import { authenticate, devToken } from '../../src/auth/bearer.js';
import { TokenIssuer } from '../../src/auth/issuer.js';
import { isCanonical, parseJwt } from '../../src/auth/jwt.js';
import { ANONYMOUS } from '../../src/auth/principal.js';
import { StrictAuth, TenantBindings, authenticateRequest } from '../../src/auth/strict.js';

const ORIGIN = 'https://127.0.0.1:8443';
const SUB = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const TENANT_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const TENANT_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const KEYS = { primaryKey: 'primary-key-value', secondaryKey: 'secondary-key-value' };

function request(authorization?: string, more: Partial<AuthRequest> = {}): AuthRequest {
  return authRequest({ authorization, origin: ORIGIN, now: new Date(), ...more });
}
const endpoint = (authMode: 'Key' | 'AAD' | 'KeyAndAAD'): EndpointCredentials => ({
  name: 'ep',
  keys: KEYS,
  acceptsKey: authMode !== 'AAD',
  acceptsToken: authMode !== 'Key',
});
const onEndpoint = (authMode: 'Key' | 'AAD' | 'KeyAndAAD', headers: { authorization?: string; apiKey?: string }) =>
  request(headers.authorization, { apiKey: headers.apiKey, endpoint: endpoint(authMode), subscriptionId: SUB });

const isPrincipal = (a: unknown): a is Principal => !!a && !(a instanceof Refusal) && 'objectId' in (a as object);
function refusedAs(a: unknown, kind: Refusal['kind']): void {
  assert.ok(a instanceof Refusal, `expected a refusal (${kind}), got ${JSON.stringify(a)}`);
  assert.equal(a.kind, kind, a.message);
}

const mlToken = (claims: Record<string, unknown> = {}) => devToken({ aud: 'https://ml.azure.com', ...claims });

describe('one JWT decoder', () => {
  test('reads an unsigned token; a padded or array-headed one is read but not canonical; junk is none', () => {
    const jwt = parseJwt(devToken({ upn: 'a@b.c' }));
    assert.ok(jwt);
    assert.equal(jwt.claims.upn, 'a@b.c');
    assert.equal(jwt.header.alg, 'none');
    assert.equal(isCanonical(jwt), true);
    const [h, p] = devToken().split('.');
    const padded = parseJwt(`${h}.${p}.abc=`);
    assert.ok(padded && !isCanonical(padded));
    const arrayHeaded = parseJwt(`${Buffer.from('[]').toString('base64url')}.${p}.`);
    assert.ok(arrayHeaded && !isCanonical(arrayHeaded));
    assert.equal(parseJwt('not-a-jwt'), undefined);
    assert.equal(parseJwt(`${h}.${Buffer.from('[1]').toString('base64url')}.`), undefined, 'claims must be an object');
  });
});

describe('none', () => {
  test('management: the anonymous caller without credentials; a sent header is not its to judge', () => {
    const none = new NoneAuthenticator({ ignoresCredentials: false });
    assert.equal(none.authenticate(request()), ANONYMOUS);
    assert.equal(none.authenticate(request(`Bearer ${devToken()}`)), undefined);
  });
  test('data plane: the anonymous caller whatever is sent (it never refuses)', () => {
    const none = new NoneAuthenticator({ ignoresCredentials: true });
    assert.equal(none.authenticate(onEndpoint('Key', { apiKey: 'wrong' })), ANONYMOUS);
  });
});

describe('loose', () => {
  const loose = new LooseAuthenticator();
  const looseMl = new LooseAuthenticator({ audiences: mlAudiences });

  test('a caller: the claims of an unexpired JWT, unverified', () => {
    const a = loose.authenticate(request(`Bearer ${devToken({ upn: 'u@x.y', tid: TENANT_A })}`));
    assert.ok(isPrincipal(a));
    assert.deepEqual([a.name, a.type, a.tenantId], ['u@x.y', 'User', TENANT_A]);
    const app = loose.authenticate(request(`Bearer ${devToken({ upn: undefined, appid: 'app-1', idtyp: 'app' })}`));
    assert.ok(isPrincipal(app));
    assert.deepEqual([app.name, app.type], ['app-1', 'Application']);
  });
  test('refusals: not a JWT, expired, wrong audience, a token to a key-only endpoint', () => {
    refusedAs(loose.authenticate(request('Bearer opaque')), 'invalid');
    refusedAs(loose.authenticate(request(`Bearer ${devToken({ exp: 1 })}`)), 'expired');
    refusedAs(looseMl.authenticate(onEndpoint('AAD', { authorization: `Bearer ${devToken()}` })), 'audience');
    refusedAs(looseMl.authenticate(onEndpoint('Key', { authorization: `Bearer ${mlToken()}` })), 'scheme');
    assert.ok(isPrincipal(looseMl.authenticate(onEndpoint('AAD', { authorization: `Bearer ${mlToken()}` }))));
  });
  test('not mine: no bearer (nothing, another scheme), or a non-JWT bearer on an endpoint (it may be a key)', () => {
    assert.equal(loose.authenticate(request()), undefined);
    assert.equal(loose.authenticate(request('Basic dXNlcjpwdw==')), undefined);
    assert.equal(looseMl.authenticate(onEndpoint('KeyAndAAD', { authorization: 'Bearer some-key' })), undefined);
  });
});

describe('endpoint key', () => {
  const keys = new EndpointKeyAuthenticator();
  test('a caller: either current key, in api-key or as a bearer', () => {
    assert.equal(keys.authenticate(onEndpoint('Key', { apiKey: KEYS.primaryKey })), KEY_CALLER);
    const asBearer = onEndpoint('KeyAndAAD', { authorization: `Bearer ${KEYS.secondaryKey}` });
    assert.equal(keys.authenticate(asBearer), KEY_CALLER);
  });
  test('refused: a key that is not current', () => {
    refusedAs(keys.authenticate(onEndpoint('Key', { apiKey: 'old-key' })), 'key');
    refusedAs(keys.authenticate(onEndpoint('Key', { authorization: 'Bearer old-key' })), 'key');
  });
  test('not mine: no endpoint or one without keys, nothing sent, or a bearer JWT', () => {
    assert.equal(keys.authenticate(request(`Bearer ${KEYS.primaryKey}`)), undefined);
    assert.equal(keys.authenticate(onEndpoint('AAD', { apiKey: KEYS.primaryKey })), undefined);
    assert.equal(keys.authenticate(onEndpoint('Key', {})), undefined);
    const withToken = onEndpoint('Key', { apiKey: 'old', authorization: `Bearer ${mlToken()}` });
    assert.equal(keys.authenticate(withToken), undefined);
  });
});

describe('strict', () => {
  let dir: string;
  let issuer: TokenIssuer;
  let strict: StrictAuth;
  const bound = new Map<string, string>();
  const store = {
    bindTenant: async (sub: string, tid: string) => {
      if (!bound.has(sub)) bound.set(sub, tid.toLowerCase());
      return bound.get(sub)!;
    },
    tenantOf: async (sub: string) => bound.get(sub),
  };
  const token = (tenant: string, audience = 'https://management.azure.com/', extra = {}) =>
    issuer.issue({ origin: ORIGIN, tenantId: tenant, clientId: 'app-1', audience, extra }).token;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amlite-auth-chain-'));
    issuer = await TokenIssuer.load(dir);
    strict = new StrictAuth(issuer, new TenantBindings(store));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a caller: a token of amlite's issuer; with the store, the subscription is bound to its tenant", async () => {
    const known = new StrictAuthenticator(strict, { audiences: managementAudiences, tenants: 'known' });
    const withStore = new StrictAuthenticator(strict, { audiences: managementAudiences, tenants: 'store' });
    const a = known.authenticate(request(`Bearer ${token(TENANT_A)}`, { subscriptionId: SUB }));
    assert.ok(isPrincipal(a), 'answered synchronously without asking the store');
    assert.equal(bound.get(SUB), undefined);
    const b = withStore.authenticate(request(`Bearer ${token(TENANT_A)}`, { subscriptionId: SUB }));
    assert.ok(b instanceof Promise, 'asks the store');
    const caller = await b;
    assert.ok(isPrincipal(caller));
    assert.deepEqual([caller.type, caller.name, caller.tenantId], ['Application', 'app-1', TENANT_A]);
    assert.equal(bound.get(SUB), TENANT_A);
  });
  test("refusals: unsigned, wrong audience, expired, another tenant's subscription, key endpoint", async () => {
    const mgmt = new StrictAuthenticator(strict, { audiences: managementAudiences, tenants: 'store' });
    const ml = new StrictAuthenticator(strict, { audiences: mlAudiences, tenants: 'store' });
    refusedAs(await mgmt.authenticate(request(`Bearer ${devToken()}`)), 'invalid');
    refusedAs(await mgmt.authenticate(request(`Bearer ${token(TENANT_A, 'https://ml.azure.com')}`)), 'audience');
    refusedAs(await mgmt.authenticate(request(`Bearer ${token(TENANT_A, undefined, { exp: 1 })}`)), 'expired');
    refusedAs(await mgmt.authenticate(request(`Bearer ${token(TENANT_B)}`, { subscriptionId: SUB })), 'tenant');
    const mlBearer = `Bearer ${token(TENANT_A, 'https://ml.azure.com')}`;
    refusedAs(await ml.authenticate(onEndpoint('Key', { authorization: mlBearer })), 'scheme');
    assert.ok(isPrincipal(await ml.authenticate(onEndpoint('AAD', { authorization: mlBearer }))));
  });
  test('not mine: no bearer, or a non-JWT bearer on an endpoint', () => {
    const mgmt = new StrictAuthenticator(strict, { audiences: managementAudiences, tenants: 'store' });
    assert.equal(mgmt.authenticate(request()), undefined);
    assert.equal(mgmt.authenticate(onEndpoint('KeyAndAAD', { authorization: 'Bearer some-key' })), undefined);
  });
  test("the chains of one strict mode are built once; its management chain refuses in ARM's words", async () => {
    assert.equal(authChains(strict), authChains(strict));
    const wrongTenant = { protocol: 'https', host: '127.0.0.1:8443', params: { subscriptionId: SUB } };
    await assert.rejects(
      authenticateRequest(`Bearer ${token(TENANT_B)}`, strict, new Date(), wrongTenant),
      (e: ArmError) => e.code === 'InvalidAuthenticationTokenTenant' && e.status === 401,
    );
  });
});

/** Records that it was asked, and answers as told. */
function recording(answer: Answer | Promise<Answer>, asked: string[], name: string): Authenticator {
  return { scheme: 'none', authenticate: () => (asked.push(name), answer) };
}

describe('chain', () => {
  const caller: Principal = { ...ANONYMOUS, name: 'first' };
  const unclaimed = () => new Refusal('missing', 'nobody');

  test('tried in order: not-mine passes on, the first caller or refusal ends it', () => {
    const asked: string[] = [];
    const chain = new AuthChain(
      [recording(undefined, asked, 'a'), recording(caller, asked, 'b'), recording(new Refusal('key', 'x'), asked, 'c')],
      unclaimed,
    );
    assert.equal(chain.authenticate(request()), caller);
    assert.deepEqual(asked, ['a', 'b']);
    const refusing = new AuthChain(
      [recording(new Refusal('key', 'x'), [], 'r'), recording(caller, asked, 'never')],
      unclaimed,
    );
    refusedAs(refusing.authenticate(request()), 'key');
    assert.ok(!asked.includes('never'));
  });
  test("an async not-mine passes on too; nobody claiming it gets the chain's own refusal", async () => {
    const asked: string[] = [];
    const chain = new AuthChain(
      [recording(Promise.resolve(undefined), asked, 'a'), recording(undefined, asked, 'b')],
      unclaimed,
    );
    const answer = chain.authenticate(request());
    assert.ok(answer instanceof Promise);
    refusedAs(await answer, 'missing');
    assert.deepEqual(asked, ['a', 'b']);
  });
  test("the planes' chains per mode: which authenticators, in which order", () => {
    const schemes = (c: AuthChain) => c.authenticators.map((a) => a.scheme);
    assert.deepEqual(schemes(authChains('none').management), ['none', 'loose']);
    assert.deepEqual(schemes(authChains('none').dataPlane), ['none']);
    assert.deepEqual(schemes(authChains('loose').management), ['loose']);
    assert.deepEqual(schemes(authChains('loose').dataPlane), ['endpoint-key', 'loose']);
    assert.equal(authChains('loose'), authChains('loose'));
  });
  test("data plane (loose): a key is the key authenticator's, a token the token authenticator's", () => {
    const data = authChains('loose').dataPlane;
    const keyBearer = onEndpoint('KeyAndAAD', { authorization: `Bearer ${KEYS.primaryKey}` });
    assert.equal(data.authenticate(keyBearer), KEY_CALLER);
    const tokenBearer = `Bearer ${mlToken({ upn: 't@x.y' })}`;
    const byToken = data.authenticate(onEndpoint('KeyAndAAD', { apiKey: 'old', authorization: tokenBearer }));
    assert.ok(isPrincipal(byToken));
    assert.equal(byToken.name, 't@x.y');
    refusedAs(data.authenticate(onEndpoint('Key', {})), 'missing');
    refusedAs(data.authenticate(onEndpoint('AAD', { apiKey: KEYS.primaryKey })), 'scheme');
    refusedAs(data.authenticate(onEndpoint('Key', { apiKey: 'old' })), 'key');
  });
  test('management (loose, none): missing and malformed headers are what nobody claims', () => {
    const now = new Date();
    assert.throws(
      () => authenticate(undefined, 'loose', now),
      (e: ArmError) => e.code === 'AuthenticationFailed',
    );
    const invalid = (e: ArmError) => e.code === 'InvalidAuthenticationToken';
    assert.throws(() => authenticate('Basic abc', 'loose', now), invalid);
    assert.throws(() => authenticate('Basic abc', 'none', now), invalid);
    assert.throws(
      () => authenticate(`Bearer ${devToken({ exp: 1 })}`, 'none', now),
      (e: ArmError) => e.code === 'ExpiredAuthenticationToken',
    );
    assert.equal(authenticate(undefined, 'none', now), ANONYMOUS);
    assert.equal(authenticate(`Bearer ${devToken({ upn: 'n@x.y' })}`, 'none', now).name, 'n@x.y');
  });
});
