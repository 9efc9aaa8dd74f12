// `--auth strict`: amlite's own token issuer (OpenID discovery, JWKS, client credentials) serves @azure/identity's
// ClientSecretCredential, and strict mode takes only its signed tokens, for the right audience and tenant, unexpired.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceManagementClient } from '@azure/arm-resources';
import {
  armFetch,
  describeResponse,
  endpointBody,
  endpointPath,
  fakeToken,
  freshDataDir,
  rgPath,
  startTestServer,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';
import { TokenIssuer, KEY_FILE } from '../src/auth/issuer.js';
import { signJwt } from '../src/auth/jwt.js';
import {
  ARM_SCOPE,
  ML_SCOPE,
  STRICT_CLIENT_ID,
  credentialFor,
  startStrict,
  strictToken,
} from './support/strict-tokens.js';

const TENANT_A = '3f1c1a2b-0000-4000-8000-00000000000a';
const TENANT_B = '3f1c1a2b-0000-4000-8000-00000000000b';
const STABLE = '2025-09-01';
const PREVIEW = '2026-03-15-preview';

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());

describe('strict authentication with the local token issuer', () => {
  let server: RunningServer;
  let dataDir: string;
  before(async () => {
    dataDir = freshDataDir('amlite-strict-');
    server = await startStrict(dataDir);
  });
  after(() => server?.close());

  test('the signing key is made at first start and kept in the data dir (owner-only)', () => {
    const path = join(dataDir, KEY_FILE);
    assert.ok(existsSync(path), 'issuer-key.pem in the data dir');
    assert.equal(statSync(path).mode & 0o077, 0, 'not readable by others');
  });

  test('discovery: instance metadata, OpenID configuration and JWKS, as MSAL reads them', async () => {
    const host = new URL(server.url).host;
    const instance = await armFetch(
      server,
      'GET',
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${server.url}/${TENANT_A}/oauth2/v2.0/authorize`)}`,
      { token: null },
    );
    assert.equal(instance.status, 200, describeResponse(instance));
    assert.equal(
      instance.body.tenant_discovery_endpoint,
      `${server.url}/${TENANT_A}/v2.0/.well-known/openid-configuration`,
    );
    assert.deepEqual(instance.body.metadata, [{ preferred_network: host, preferred_cache: host, aliases: [host] }]);

    const oidc = await armFetch(server, 'GET', `/${TENANT_A}/v2.0/.well-known/openid-configuration`, { token: null });
    assert.equal(oidc.status, 200, describeResponse(oidc));
    assert.equal(oidc.body.issuer, `${server.url}/${TENANT_A}/v2.0`);
    assert.equal(oidc.body.token_endpoint, `${server.url}/${TENANT_A}/oauth2/v2.0/token`);
    assert.equal(oidc.body.authorization_endpoint, `${server.url}/${TENANT_A}/oauth2/v2.0/authorize`);
    assert.deepEqual(oidc.body.id_token_signing_alg_values_supported, ['RS256']);

    const jwks = await armFetch(server, 'GET', new URL(oidc.body.jwks_uri).pathname, { token: null });
    assert.equal(jwks.status, 200, describeResponse(jwks));
    assert.equal(jwks.body.keys.length, 1);
    assert.equal(jwks.body.keys[0].kty, 'RSA');
    assert.equal(jwks.body.keys[0].alg, 'RS256');
    assert.ok(jwks.body.keys[0].kid && jwks.body.keys[0].n && jwks.body.keys[0].e);
    assert.equal(jwks.body.keys[0].d, undefined, 'no private part');
  });

  test('ClientSecretCredential gets a real RS256 token that verifies against the JWKS', async () => {
    const { token, expiresOnTimestamp } = (await credentialFor(server).getToken(ARM_SCOPE))!;
    assert.ok(expiresOnTimestamp > Date.now() + 50 * 60_000, 'about an hour');
    const header = headerOf(token);
    const claims = claimsOf(token);
    assert.equal(header.alg, 'RS256');
    assert.equal(claims.aud, 'https://management.azure.com/');
    assert.equal(claims.tid, TENANT_A);
    assert.equal(claims.appid, STRICT_CLIENT_ID);
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.iss, `${server.url}/${TENANT_A}/v2.0`);
    const jwks = await armFetch(server, 'GET', `/${TENANT_A}/discovery/v2.0/keys`, { token: null });
    const jwk = jwks.body.keys.find((k: { kid: string }) => k.kid === header.kid);
    assert.ok(jwk, 'the kid is in the JWKS');
    const [h, p, s] = token.split('.');
    assert.ok(
      verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        createPublicKey({ key: jwk, format: 'jwk' }),
        Buffer.from(s, 'base64url'),
      ),
    );
    const ml = (await credentialFor(server).getToken(ML_SCOPE))!;
    assert.equal(claimsOf(ml.token).aud, 'https://ml.azure.com');
  });

  test('the Azure SDK works end to end in strict mode; systemData names the application', async () => {
    const sub = randomUUID();
    const client = new ResourceManagementClient(credentialFor(server), sub, { endpoint: server.url });
    await client.resourceGroups.createOrUpdate('rg-strict', { location: 'eastus' });
    const ws = workspacePath(sub, 'rg-strict', 'ws-strict');
    await client.resources.beginCreateOrUpdateByIdAndWait(ws, STABLE, { location: 'eastus', properties: {} });
    const ep = await client.resources.beginCreateOrUpdateByIdAndWait(
      `${ws}/serverlessEndpoints/ep-strict`,
      STABLE,
      endpointBody(),
    );
    assert.equal((ep.properties as { provisioningState: string }).provisioningState, 'Succeeded');
    const got = await armFetch(server, 'GET', withApiVersion(`${ws}/serverlessEndpoints/ep-strict`, STABLE), {
      token: await strictToken(server),
    });
    assert.equal(got.status, 200, describeResponse(got));
    assert.equal(got.body.systemData.createdBy, STRICT_CLIENT_ID);
    assert.equal(got.body.systemData.createdByType, 'Application');
  });

  test('refused: missing, unsigned (loose-style), foreign-key, tampered, wrong-audience, wrong-issuer, expired tokens', async () => {
    const path = withApiVersion(rgPath(randomUUID(), 'rg-refused'), RG_API_VERSION);
    const good = await strictToken(server);
    const issuer = await TokenIssuer.load(dataDir);
    const origin = server.url;
    const mint = (claims: Record<string, unknown>) =>
      issuer.sign({
        aud: 'https://management.azure.com/',
        iss: `${origin}/${TENANT_A}/v2.0`,
        tid: TENANT_A,
        appid: STRICT_CLIENT_ID,
        idtyp: 'app',
        iat: Math.floor(Date.now() / 1000),
        nbf: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 600,
        ...claims,
      });
    const { privateKey: foreignKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const [h, p, s] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(good), tid: TENANT_B })).toString('base64url')}.${s}`;
    const cases: [string, string | null, number, string][] = [
      ['no token', null, 401, 'AuthenticationFailed'],
      ['unsigned (loose mode) token', fakeToken(), 401, 'InvalidAuthenticationToken'],
      [
        'signed by another key with the same kid',
        signJwt(claimsOf(good), foreignKey, headerOf(good).kid),
        401,
        'InvalidAuthenticationToken',
      ],
      ['payload changed after signing', tampered, 401, 'InvalidAuthenticationToken'],
      ['signature stripped', `${h}.${p}.`, 401, 'InvalidAuthenticationToken'],
      [
        'audience https://ml.azure.com',
        mint({ aud: 'https://ml.azure.com' }),
        401,
        'InvalidAuthenticationTokenAudience',
      ],
      [
        'issuer on another host',
        mint({ iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0` }),
        401,
        'InvalidAuthenticationToken',
      ],
      ['issuer of another tenant', mint({ iss: `${origin}/${TENANT_B}/v2.0` }), 401, 'InvalidAuthenticationToken'],
      ['expired', mint({ exp: Math.floor(Date.now() / 1000) - 5 }), 401, 'ExpiredAuthenticationToken'],
      ['no expiry', mint({ exp: undefined }), 401, 'ExpiredAuthenticationToken'],
      [
        'not valid for ten more minutes',
        mint({ nbf: Math.floor(Date.now() / 1000) + 600 }),
        401,
        'InvalidAuthenticationToken',
      ],
    ];
    for (const [what, token, status, code] of cases) {
      const res = await armFetch(server, 'PUT', path, { token, body: { location: 'eastus' } });
      assert.equal(res.status, status, `${what}: ${describeResponse(res)}`);
      assert.equal(res.body?.error?.code, code, `${what}: ${describeResponse(res)}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /, `${what}: WWW-Authenticate`);
      if (token) assert.ok(!res.text.includes(token.split('.')[2] || token), `${what}: the token is not echoed`);
    }
    const ok = await armFetch(server, 'PUT', path, { token: mint({}), body: { location: 'eastus' } });
    assert.equal(ok.status, 201, `a well-formed token of the issuer passes: ${describeResponse(ok)}`);
    const none = await armFetch(server, 'GET', withApiVersion(rgPath(randomUUID(), 'rg-refused'), RG_API_VERSION), {
      token: fakeToken(),
    });
    assert.equal(none.status, 401, 'nothing was created with a refused token');
  });

  test('a subscription belongs to the tenant that first used it; another tenant gets InvalidAuthenticationTokenTenant', async () => {
    const sub = randomUUID();
    const path = withApiVersion(rgPath(sub, 'rg-tenant'), RG_API_VERSION);
    const tokenA = await strictToken(server, TENANT_A);
    const tokenB = await strictToken(server, TENANT_B);
    const first = await armFetch(server, 'PUT', path, {
      token: tokenA,
      body: { location: 'eastus', tags: { by: 'a' } },
    });
    assert.equal(first.status, 201, describeResponse(first));
    const other = await armFetch(server, 'PUT', path, {
      token: tokenB,
      body: { location: 'eastus', tags: { by: 'b' } },
    });
    assert.equal(other.status, 401, describeResponse(other));
    assert.equal(other.body.error.code, 'InvalidAuthenticationTokenTenant');
    assert.match(
      other.body.error.message,
      new RegExp(`wrong issuer '${server.url}/${TENANT_B}/v2.0'.*tenant '${server.url}/${TENANT_A}/v2.0'`),
    );
    assert.match(
      other.headers.get('www-authenticate') ?? '',
      new RegExp(`authorization_uri="${server.url}/${TENANT_A}"`),
    );
    const read = await armFetch(server, 'GET', path, { token: tokenB });
    assert.equal(read.status, 401, 'reads are refused too');
    const still = await armFetch(server, 'GET', path, { token: tokenA });
    assert.equal(still.status, 200);
    assert.deepEqual(still.body.tags, { by: 'a' }, 'the refused write changed nothing');
    // Tenant B has subscriptions of its own.
    const own = await armFetch(server, 'PUT', withApiVersion(rgPath(randomUUID(), 'rg-b'), RG_API_VERSION), {
      token: tokenB,
      body: { location: 'eastus' },
    });
    assert.equal(own.status, 201, describeResponse(own));
    // Operation URLs are under the subscription too.
    const sdkB = new ResourceManagementClient(credentialFor(server, TENANT_B), sub, { endpoint: server.url });
    await assert.rejects(
      sdkB.resourceGroups.get('rg-tenant'),
      (e: { statusCode?: number; code?: string }) =>
        e.statusCode === 401 && e.code === 'InvalidAuthenticationTokenTenant',
    );
  });

  test('data plane: AAD endpoints take ml.azure.com tokens of the issuer and the right tenant only; keys still work', async () => {
    const sub = randomUUID();
    const arm = await strictToken(server);
    await armFetch(server, 'PUT', withApiVersion(rgPath(sub, 'rg-dp'), RG_API_VERSION), {
      token: arm,
      body: { location: 'eastus' },
    });
    const ws = workspacePath(sub, 'rg-dp', 'ws-dp');
    const wsRes = await armFetch(server, 'PUT', withApiVersion(ws, STABLE), {
      token: arm,
      body: { location: 'eastus', properties: {} },
    });
    assert.ok([200, 201].includes(wsRes.status), describeResponse(wsRes));
    const mk = async (name: string, authMode: string) => {
      const path = endpointPath(sub, 'rg-dp', 'ws-dp', name);
      const put = await armFetch(server, 'PUT', withApiVersion(path, PREVIEW), {
        token: arm,
        body: endpointBody({ authMode }),
      });
      assert.equal(put.status, 201, describeResponse(put));
      const got = await armFetch(server, 'GET', withApiVersion(path, PREVIEW), { token: arm });
      const keys = await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, PREVIEW), { token: arm });
      return { uri: got.body.properties.inferenceEndpoint.uri as string, keys: keys.body };
    };
    const aad = await mk('aad-ep', 'AAD');
    const key = await mk('key-ep', 'Key');
    const chat = (uri: string, headers: Record<string, string>) =>
      fetch(`${uri}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
      });
    const mlA = await strictToken(server, TENANT_A, ML_SCOPE);
    const mlB = await strictToken(server, TENANT_B, ML_SCOPE);
    assert.equal((await chat(aad.uri, { authorization: `Bearer ${mlA}` })).status, 200, 'the right token');
    for (const [what, token] of [
      ['management audience', arm],
      ['unsigned', fakeToken({ aud: 'https://ml.azure.com' })],
      ['another tenant', mlB],
    ] as const) {
      const res = await chat(aad.uri, { authorization: `Bearer ${token}` });
      const text = await res.text();
      assert.equal(res.status, 401, `${what}: ${text}`);
      assert.equal(JSON.parse(text).error.code, 'Unauthorized');
      assert.ok(!text.includes(token.split('.')[2] || token), `${what}: not echoed`);
    }
    assert.equal((await chat(key.uri, { 'api-key': key.keys.primaryKey })).status, 200, 'keys work in strict mode');
    assert.equal(
      (await chat(key.uri, { authorization: `Bearer ${mlA}` })).status,
      401,
      'a Key endpoint takes no token',
    );
  });

  test('a restart on the same data dir keeps the key (earlier tokens stay valid) and the tenant bindings', async () => {
    const dir = freshDataDir('amlite-strict-restart-');
    const first = await startStrict(dir);
    const sub = randomUUID();
    const path = withApiVersion(rgPath(sub, 'rg-keep'), RG_API_VERSION);
    const token = await strictToken(first);
    assert.equal((await armFetch(first, 'PUT', path, { token, body: { location: 'eastus' } })).status, 201);
    const kid = headerOf(token).kid;
    const port = new URL(first.url).port;
    await first.close();
    const second = await startStrict(dir, { port: Number(port) });
    try {
      const again = await armFetch(second, 'GET', path, { token });
      assert.equal(again.status, 200, `the old token still verifies: ${describeResponse(again)}`);
      const jwks = await armFetch(second, 'GET', `/${TENANT_A}/discovery/v2.0/keys`, { token: null });
      assert.equal(jwks.body.keys[0].kid, kid);
      const tokenB = await strictToken(second, TENANT_B);
      const other = await armFetch(second, 'GET', path, { token: tokenB });
      assert.equal(other.body?.error?.code, 'InvalidAuthenticationTokenTenant', 'the binding outlived the restart');
    } finally {
      await second.close();
    }
  });
});

describe('the token endpoint', () => {
  test('--issuer-secret: the configured client secret only; OAuth errors for bad requests, the secret never echoed', async () => {
    const secret = `s3cret-${randomUUID()}`;
    const server = await startStrict(undefined, { issuerSecret: secret });
    try {
      await assert.rejects(
        credentialFor(server, TENANT_A, 'wrong-secret').getToken(ARM_SCOPE),
        /invalid_client|AADSTS7000215/,
      );
      const token = await strictToken(server, TENANT_A, ARM_SCOPE, secret);
      assert.equal(claimsOf(token).tid, TENANT_A);
      const post = (body: Record<string, string>, tenant = TENANT_A) =>
        fetch(`${server.url}/${tenant}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(body).toString(),
        });
      const base = {
        grant_type: 'client_credentials',
        client_id: STRICT_CLIENT_ID,
        client_secret: secret,
        scope: ARM_SCOPE,
      };
      const cases: [string, Record<string, string>, string, number, string][] = [
        ['wrong secret', { ...base, client_secret: 'nope-nope' }, TENANT_A, 401, 'invalid_client'],
        ['no client id', { ...base, client_id: '' }, TENANT_A, 400, 'invalid_request'],
        ['password grant', { ...base, grant_type: 'password' }, TENANT_A, 400, 'unsupported_grant_type'],
        [
          'scope without /.default',
          { ...base, scope: 'https://management.azure.com/user_impersonation' },
          TENANT_A,
          400,
          'invalid_scope',
        ],
        ['the common tenant', base, 'common', 400, 'invalid_request'],
      ];
      for (const [what, body, tenant, status, error] of cases) {
        const res = await post(body, tenant);
        const text = await res.text();
        assert.equal(res.status, status, `${what}: ${text}`);
        assert.equal(JSON.parse(text).error, error, `${what}: ${text}`);
        assert.ok(!text.includes(secret) && !text.includes('nope-nope'), `${what}: no secret in the answer`);
      }
      // The v1 form (resource=) and HTTP Basic client authentication work too.
      const v1 = await fetch(`${server.url}/${TENANT_A}/oauth2/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${STRICT_CLIENT_ID}:${secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://ml.azure.com' }).toString(),
      });
      assert.equal(v1.status, 200);
      assert.equal(claimsOf((await v1.json()).access_token).aud, 'https://ml.azure.com');
    } finally {
      await server.close();
    }
  });

  test("loose mode stays the default; it accepts the issuer's tokens as it accepts any unexpired JWT", async () => {
    const server = await startTestServer();
    try {
      const path = withApiVersion(rgPath(randomUUID(), 'rg-loose'), RG_API_VERSION);
      assert.equal(
        (await armFetch(server, 'PUT', path, { body: { location: 'eastus' } })).status,
        201,
        'an unsigned token',
      );
      const token = await strictToken(server);
      assert.equal((await armFetch(server, 'GET', path, { token })).status, 200, 'a signed one');
    } finally {
      await server.close();
    }
  });
});
