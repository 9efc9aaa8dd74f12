// ARM's platform around the resources (issue 16): cloud metadata, subscriptions, tenants, locations, the generic
// $filter (resourceGroup eq …), ARM's answers for paths naming no served type, the strict challenge pointing at
// amlite's issuer, the /adfs issuer, and the tags API at resource scope.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  fakeToken,
  putAndWait,
  rgPath,
  startTestServer,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';
import { startStrict, strictToken, STRICT_TENANT } from './support/strict-tokens.js';
import { DEFAULT_SUBSCRIPTION, SUBSCRIPTIONS_PAGE_SIZE } from '../src/arm/platform.js';
import { tenantIdOf } from '../src/auth/issuer.js';

const SUB = '6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e';
const OTHER_SUB = '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
const NS = 'Microsoft.MachineLearningServices';

describe('ARM platform, loose auth', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, SUB, 'rg-a');
    await createResourceGroup(server, SUB, 'rg-b', 'westeurope');
    await createWorkspace(server, SUB, 'rg-a', 'ws-a');
    await createWorkspace(server, SUB, 'rg-b', 'ws-b');
    await putAndWait(server, endpointPath(SUB, 'rg-a', 'ws-a', 'ep-1'), '2025-09-01', {
      ...endpointBody(),
      tags: { team: 'NLP' },
    });
  });
  after(() => server?.close());

  test('metadata/endpoints 2015-01-01: one cloud, login at the /adfs issuer, no token needed', async () => {
    const r = await armFetch(server, 'GET', '//metadata/endpoints?api-version=2015-01-01', { token: null });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.authentication.loginEndpoint, `${server.url}/adfs`);
    assert.deepEqual(r.body.authentication.audiences, [
      'https://management.core.windows.net/',
      'https://management.azure.com/',
    ]);
    for (const k of ['galleryEndpoint', 'graphEndpoint', 'portalEndpoint']) assert.equal(typeof r.body[k], 'string', k);
  });

  test('metadata/endpoints 2019-05-01 and 2022-09-01: a list of clouds with amlite as resource manager', async () => {
    for (const v of ['2019-05-01', '2022-09-01']) {
      const r = await armFetch(server, 'GET', `/metadata/endpoints?api-version=${v}`, { token: null });
      assert.equal(r.status, 200, r.text);
      assert.ok(Array.isArray(r.body));
      const [cloud] = r.body;
      assert.equal(cloud.resourceManager, `${server.url}/`);
      assert.equal(cloud.authentication.loginEndpoint, `${server.url}/`);
      assert.equal(cloud.authentication.audiences[0], 'https://management.core.windows.net/');
      assert.equal(cloud.suffixes.keyVaultDns, 'vault.azure.net');
    }
    const bad = await armFetch(server, 'GET', '/metadata/endpoints?api-version=1999-01-01', { token: null });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidApiVersionParameter');
  });

  test('GET /subscriptions: the default subscription and every one with resources, in ARM’s shape', async () => {
    await createResourceGroup(server, OTHER_SUB, 'rg-other');
    const r = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01');
    assert.equal(r.status, 200, r.text);
    const ids = r.body.value.map((s: any) => s.subscriptionId);
    assert.deepEqual(ids, [DEFAULT_SUBSCRIPTION, SUB, OTHER_SUB].sort());
    const s = r.body.value.find((x: any) => x.subscriptionId === SUB);
    assert.equal(s.id, `/subscriptions/${SUB}`);
    assert.equal(s.state, 'Enabled');
    assert.equal(s.tenantId, '72f988bf-86f1-41af-91ab-2d7cd011db47', "the caller's tenant");
    assert.equal(s.authorizationSource, 'RoleBased');
    assert.deepEqual(s.managedByTenants, []);
    assert.equal(typeof s.subscriptionPolicies.spendingLimit, 'string');
    assert.equal(r.body.nextLink, undefined);

    const one = await armFetch(server, 'GET', `/subscriptions/${SUB}?api-version=2016-06-01`);
    assert.equal(one.status, 200);
    assert.equal(one.body.displayName, `amlite subscription ${SUB}`);
    const missing = await armFetch(server, 'GET', '/subscriptions');
    assert.equal(missing.body.error.code, 'MissingApiVersionParameter');
    const badToken = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01&$skipToken=nope');
    assert.equal(badToken.status, 400);
  });

  test('GET /subscriptions pages with $skipToken past the page size', async () => {
    const created: string[] = [];
    for (let i = 0; i < SUBSCRIPTIONS_PAGE_SIZE + 2; i++) {
      const sub = `a0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      created.push(sub);
      await createResourceGroup(server, sub, 'rg');
    }
    const seen: string[] = [];
    let url: string | undefined = '/subscriptions?api-version=2022-12-01';
    let pages = 0;
    while (url) {
      const r = await armFetch(server, 'GET', url);
      assert.equal(r.status, 200, r.text);
      seen.push(...r.body.value.map((s: any) => s.subscriptionId));
      url = r.body.nextLink;
      pages++;
    }
    assert.ok(pages >= 2, 'more than one page');
    assert.equal(new Set(seen).size, seen.length, 'no subscription twice');
    for (const sub of [...created, DEFAULT_SUBSCRIPTION, SUB]) assert.ok(seen.includes(sub), sub);
  });

  test('GET /tenants and /subscriptions/{id}/locations', async () => {
    const t = await armFetch(server, 'GET', '/tenants?api-version=2022-12-01');
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.value[0].tenantId, '72f988bf-86f1-41af-91ab-2d7cd011db47');
    assert.equal(t.body.value[0].id, '/tenants/72f988bf-86f1-41af-91ab-2d7cd011db47');
    const l = await armFetch(server, 'GET', `/subscriptions/${SUB}/locations?api-version=2022-12-01`);
    assert.equal(l.status, 200, l.text);
    const eastus = l.body.value.find((x: any) => x.name === 'eastus');
    assert.equal(eastus.displayName, 'East US');
    assert.equal(eastus.id, `/subscriptions/${SUB}/locations/eastus`);
  });

  test("$filter=resourceGroup eq '…' (any case) at subscription scope, joined with other terms", async () => {
    const list = async (filter: string) => {
      const r = await armFetch(
        server,
        'GET',
        `/subscriptions/${SUB}/resources?api-version=2021-04-01&$filter=${encodeURIComponent(filter)}`,
      );
      assert.equal(r.status, 200, r.text);
      return r.body.value.map((x: any) => x.name).sort();
    };
    assert.deepEqual(await list("resourceGroup eq 'RG-A'"), ['ws-a', 'ws-a/ep-1']);
    assert.deepEqual(
      await list("ResourceGroup EQ 'rg-b' and resourceType eq 'microsoft.machinelearningservices/workspaces'"),
      ['ws-b'],
    );
    assert.deepEqual(await list("tagname eq 'team' and tagvalue eq 'nlp'"), ['ws-a/ep-1']);
    assert.deepEqual(await list("substringof('EP', name)"), ['ws-a/ep-1']);
    assert.deepEqual(await list("location eq 'West Europe'"), []);
    assert.deepEqual(
      await list("resourceGroup ne 'rg-a' and resourceType eq 'Microsoft.MachineLearningServices/workspaces'"),
      ['ws-b'],
    );
    const bad = await armFetch(
      server,
      'GET',
      `/subscriptions/${SUB}/resources?api-version=2021-04-01&$filter=${encodeURIComponent("kind eq 'x'")}`,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidFilterInQueryString');
    assert.match(bad.body.error.message, /'kind'/);
  });

  test('a type the namespace does not have: InvalidResourceType with namespace, type and api-version', async () => {
    const r = await armFetch(server, 'GET', `${rgPath(SUB, 'rg-a')}/providers/${NS}/widgets/w1?api-version=2025-09-01`);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.code, 'InvalidResourceType');
    assert.match(r.body.error.message, /'widgets'.*'Microsoft\.MachineLearningServices'.*'2025-09-01'/);
    const nested = await armFetch(
      server,
      'PUT',
      `${workspacePath(SUB, 'rg-a', 'ws-a')}/gadgets/g1?api-version=2025-09-01`,
      { body: {} },
    );
    assert.equal(nested.body.error.code, 'InvalidResourceType');
    assert.match(nested.body.error.message, /workspaces\/gadgets/);
    const atSub = await armFetch(
      server,
      'GET',
      `/subscriptions/${SUB}/providers/${NS}/serverlessEndpoints/x?api-version=2025-09-01`,
    );
    assert.equal(atSub.body.error.code, 'InvalidResourceType');
    const ns = await armFetch(
      server,
      'GET',
      `${rgPath(SUB, 'rg-a')}/providers/Microsoft.Nope/things/t?api-version=2020-01-01`,
    );
    assert.equal(ns.status, 400);
    assert.equal(ns.body.error.code, 'InvalidResourceNamespace');
    for (const res of [r, nested, atSub, ns]) assert.doesNotMatch(res.text, /No HTTP resource was found/);
  });

  test("NoRegisteredProviderFound for a GET does not say for location ''", async () => {
    const r = await armFetch(server, 'GET', withApiVersion(workspacePath(SUB, 'rg-a', 'ws-a'), '1999-01-01'));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'NoRegisteredProviderFound');
    assert.doesNotMatch(r.body.error.message, /location ''/);
    assert.match(r.body.error.message, /API version '1999-01-01'/);
  });

  test('tags API at resource scope: GET, PUT, PATCH Merge / Replace / Delete, on a resource and a group', async () => {
    const tagsOf = (scope: string) => `${scope}/providers/Microsoft.Resources/tags/default?api-version=2021-04-01`;
    const ws = workspacePath(SUB, 'rg-a', 'ws-a');
    const before = await armFetch(server, 'GET', withApiVersion(ws, '2025-09-01'));
    const got = await armFetch(server, 'GET', tagsOf(ws));
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.id, `${ws}/providers/Microsoft.Resources/tags/default`);
    assert.equal(got.body.type, 'Microsoft.Resources/tags');
    assert.deepEqual(got.body.properties.tags, {});
    const put = await armFetch(server, 'PUT', tagsOf(ws), { body: { properties: { tags: { a: '1', b: '2' } } } });
    assert.deepEqual(put.body.properties.tags, { a: '1', b: '2' });
    const merge = await armFetch(server, 'PATCH', tagsOf(ws), {
      body: { operation: 'Merge', properties: { tags: { b: '3', c: '4' } } },
    });
    assert.deepEqual(merge.body.properties.tags, { a: '1', b: '3', c: '4' });
    const del = await armFetch(server, 'PATCH', tagsOf(ws), {
      body: { operation: 'delete', properties: { tags: { a: '', c: 'other' } } },
    });
    assert.deepEqual(del.body.properties.tags, { b: '3', c: '4' }, "a by name; c's value differs");
    const replace = await armFetch(server, 'PATCH', tagsOf(ws), {
      body: { operation: 'Replace', properties: { tags: { z: '9' } } },
    });
    assert.deepEqual(replace.body.properties.tags, { z: '9' });
    const after = await armFetch(server, 'GET', withApiVersion(ws, '2025-09-01'));
    assert.deepEqual(after.body.tags, { z: '9' }, 'the resource carries the tags');
    assert.notEqual(after.headers.get('etag'), before.headers.get('etag'));
    const bad = await armFetch(server, 'PATCH', tagsOf(ws), { body: { operation: 'Add', properties: { tags: {} } } });
    assert.equal(bad.status, 400);

    const group = await armFetch(server, 'PUT', tagsOf(rgPath(SUB, 'rg-b')), {
      body: { properties: { tags: { env: 'dev' } } },
    });
    assert.equal(group.status, 200, group.text);
    const rg = await armFetch(server, 'GET', withApiVersion(rgPath(SUB, 'rg-b'), '2025-04-01'));
    assert.deepEqual(rg.body.tags, { env: 'dev' });
    const ep = endpointPath(SUB, 'rg-a', 'ws-a', 'ep-1');
    const epTags = await armFetch(server, 'GET', tagsOf(ep));
    assert.deepEqual(epTags.body.properties.tags, { team: 'NLP' });
    const missing = await armFetch(server, 'GET', tagsOf(endpointPath(SUB, 'rg-a', 'ws-a', 'nope')));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'ResourceNotFound');
    const cleared = await armFetch(server, 'DELETE', tagsOf(ws));
    assert.equal(cleared.status, 200);
    assert.deepEqual((await armFetch(server, 'GET', tagsOf(ws))).body.properties.tags, {});
  });

  test('the /adfs issuer: OpenID configuration and tokens for the ADFS tenant', async () => {
    const conf = await armFetch(server, 'GET', '/adfs/.well-known/openid-configuration', { token: null });
    assert.equal(conf.status, 200);
    assert.equal(conf.body.token_endpoint, `${server.url}/adfs/oauth2/v2.0/token`);
    const res = await fetch(`${server.url}/adfs/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=app&client_secret=s&resource=https://management.core.windows.net/',
    });
    assert.equal(res.status, 200);
    const token = ((await res.json()) as { access_token: string }).access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.tid, tenantIdOf('adfs'));
  });
});

describe('ARM platform, strict auth', () => {
  let server: RunningServer;
  before(async () => {
    server = await startStrict(undefined, { inMemory: true });
  });
  after(() => server?.close());

  test("GET /subscriptions lists the caller's tenant's subscriptions and the default one", async () => {
    const mine = await strictToken(server);
    const theirs = await strictToken(server, '3f1c1a2b-0000-4000-8000-00000000000b');
    assert.equal(
      (
        await armFetch(server, 'PUT', withApiVersion(rgPath(SUB, 'rg'), '2025-04-01'), {
          token: mine,
          body: { location: 'eastus' },
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await armFetch(server, 'PUT', withApiVersion(rgPath(OTHER_SUB, 'rg'), '2025-04-01'), {
          token: theirs,
          body: { location: 'eastus' },
        })
      ).status,
      201,
    );
    const list = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01', { token: mine });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.body.value.map((s: any) => s.subscriptionId),
      [DEFAULT_SUBSCRIPTION, SUB],
    );
    assert.ok(list.body.value.every((s: any) => s.tenantId === STRICT_TENANT));
    const other = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01', { token: theirs });
    assert.deepEqual(
      other.body.value.map((s: any) => s.subscriptionId),
      [DEFAULT_SUBSCRIPTION, OTHER_SUB],
    );
  });

  test("WWW-Authenticate's authorization_uri is amlite's issuer", async () => {
    const none = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01', { token: null });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', new RegExp(`authorization_uri="${server.url}/common"`));
    const unsigned = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01', { token: fakeToken() });
    assert.equal(unsigned.status, 401);
    assert.doesNotMatch(unsigned.headers.get('www-authenticate') ?? '', /login\.microsoftonline\.com/);
    assert.match(unsigned.headers.get('www-authenticate') ?? '', new RegExp(`authorization_uri="${server.url}/`));
  });
});
