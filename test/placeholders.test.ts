// Placeholders (issue 17): other providers' resources templates create beside Azure ML's are stored as sent, at any
// api-version, with the read-only fields templates read filled in; `--no-placeholders` turns them off.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  GUID_RE,
  rgPath,
  startTestServer,
  TEST_USER,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';
import { loadConfig } from '../src/config.js';

const SUB = randomUUID();
const RG = 'rg-ph';
const at = (ns: string, path: string) => `${rgPath(SUB, RG)}/providers/${ns}/${path}`;
const STORAGE = at('Microsoft.Storage', 'storageAccounts/stph1');
const ACCOUNT = at('Microsoft.CognitiveServices', 'accounts/ai-ph');

describe('placeholders', () => {
  let server: RunningServer;
  const call = (method: string, path: string, version: string, body?: unknown) =>
    armFetch(server, method, withApiVersion(path, version), { body });
  const ok = async (method: string, path: string, version: string, body?: unknown, status = 200) => {
    const res = await call(method, path, version, body);
    assert.equal(res.status, status, `${method} ${path}: ${describeResponse(res)}`);
    return res.body;
  };

  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, SUB, RG);
  });
  after(() => server?.close());

  test('a storage account: PUT 201 then 200 at odd api-versions, echoed as sent, with its endpoints', async () => {
    const body = {
      location: 'EastUS',
      kind: 'StorageV2',
      sku: { name: 'Standard_LRS' },
      tags: { env: 'dev' },
      identity: { type: 'SystemAssigned' },
      extendedLocation: { name: 'x', type: 'EdgeZone' },
      properties: { minimumTlsVersion: 'TLS1_2', supportsHttpsTrafficOnly: true },
    };
    const created = await ok('PUT', STORAGE, '2019-06-01', body, 201);
    assert.equal(created.id, STORAGE);
    assert.equal(created.name, 'stph1');
    assert.equal(created.type, 'Microsoft.Storage/storageAccounts');
    assert.equal(created.location, 'eastus');
    assert.deepEqual([created.kind, created.sku, created.tags], [body.kind, body.sku, body.tags]);
    assert.deepEqual(created.extendedLocation, body.extendedLocation, 'unknown top-level fields are kept');
    assert.match(created.identity.principalId, GUID_RE);
    assert.equal(created.properties.provisioningState, 'Succeeded');
    assert.equal(created.properties.minimumTlsVersion, 'TLS1_2');
    assert.deepEqual(created.properties.primaryEndpoints, {
      blob: 'https://stph1.blob.core.windows.net/',
      file: 'https://stph1.file.core.windows.net/',
      queue: 'https://stph1.queue.core.windows.net/',
      table: 'https://stph1.table.core.windows.net/',
      dfs: 'https://stph1.dfs.core.windows.net/',
      web: 'https://stph1.z13.web.core.windows.net/',
    });
    const replaced = await ok('PUT', STORAGE, '2099-12-31-preview', { ...body, tags: { env: 'prod' } }, 200);
    assert.deepEqual(replaced.tags, { env: 'prod' });
    assert.equal(replaced.identity.principalId, created.identity.principalId, 'the identity is kept');
    const read = await ok('GET', STORAGE, '2015-01-01');
    assert.deepEqual(read, replaced);
  });

  test('PATCH merges tags and properties; list by group and subscription; children below children', async () => {
    const patched = await ok('PATCH', STORAGE, '2021-01-01', {
      tags: { owner: 'me' },
      properties: { allowBlobPublicAccess: false },
    });
    assert.deepEqual(patched.tags, { owner: 'me' });
    assert.equal(patched.properties.minimumTlsVersion, 'TLS1_2', 'properties not named are kept');
    assert.equal(patched.properties.allowBlobPublicAccess, false);
    const container = `${STORAGE}/blobServices/default/containers/data`;
    await ok('PUT', `${STORAGE}/blobServices/default`, '2022-09-01', { properties: {} }, 201);
    const c = await ok('PUT', container, '2022-09-01', { properties: { publicAccess: 'None' } }, 201);
    assert.equal(c.type, 'Microsoft.Storage/storageAccounts/blobServices/containers');
    assert.equal(c.properties.provisioningState, 'Succeeded');
    const byGroup = await ok('GET', at('Microsoft.Storage', 'storageAccounts'), '2023-01-01');
    assert.deepEqual(
      byGroup.value.map((r: { id: string }) => r.id),
      [STORAGE],
    );
    const bySub = await ok('GET', `/subscriptions/${SUB}/providers/Microsoft.Storage/storageAccounts`, '2001-01-01');
    assert.deepEqual(
      bySub.value.map((r: { id: string }) => r.id),
      [STORAGE],
    );
    const containers = await ok('GET', `${STORAGE}/blobServices/default/containers`, '2018-02-01');
    assert.deepEqual(
      containers.value.map((r: { name: string }) => r.name),
      ['data'],
    );
  });

  test('listKeys: stable plausible keys, never in the resource itself', async () => {
    const first = await ok('POST', `${STORAGE}/listKeys`, '2019-06-01');
    assert.equal(first.keys.length, 2);
    for (const [i, k] of first.keys.entries()) {
      assert.equal(k.keyName, `key${i + 1}`);
      assert.equal(k.permissions, 'FULL');
      assert.equal(Buffer.from(k.value, 'base64').length, 64);
    }
    assert.notEqual(first.keys[0].value, first.keys[1].value);
    assert.deepEqual(await ok('POST', `${STORAGE}/listKeys`, '2023-05-01'), first, 'the same keys each time');
    const read = await call('GET', STORAGE, '2023-05-01');
    assert.ok(!read.text.includes(first.keys[0].value));
  });

  test('an AI Services account: endpoint(s), listKeys, deployments and a Foundry project', async () => {
    const account = await ok(
      'PUT',
      ACCOUNT,
      '2024-10-01',
      { location: 'eastus', kind: 'AIServices', sku: { name: 'S0' }, properties: { customSubDomainName: 'ai-ph-x' } },
      201,
    );
    assert.equal(account.properties.endpoint, 'https://ai-ph-x.cognitiveservices.azure.com/');
    assert.equal(
      account.properties.endpoints['OpenAI Language Model Instance API'],
      'https://ai-ph-x.openai.azure.com/',
    );
    const keys = await ok('POST', `${ACCOUNT}/listKeys`, '2017-04-18');
    assert.deepEqual(Object.keys(keys).sort(), ['key1', 'key2']);
    assert.match(keys.key1, /^[0-9a-f]{32}$/);
    const dep = await ok(
      'PUT',
      `${ACCOUNT}/deployments/gpt-4o`,
      '2023-05-01',
      { sku: { name: 'GlobalStandard', capacity: 10 }, properties: { model: { format: 'OpenAI', name: 'gpt-4o' } } },
      201,
    );
    assert.deepEqual(dep.sku, { name: 'GlobalStandard', capacity: 10 });
    assert.equal(dep.properties.model.name, 'gpt-4o');
    const project = await ok('PUT', `${ACCOUNT}/projects/proj1`, '2025-04-01-preview', { location: 'eastus' }, 201);
    assert.equal(
      project.properties.endpoints['AI Foundry API'],
      'https://ai-ph.services.ai.azure.com/api/projects/proj1',
    );
  });

  test('key vault, App Insights, Log Analytics, ACR, identity, Search: their read-only fields and keys', async () => {
    const vault = at('Microsoft.KeyVault', 'vaults/KV-ph');
    const kv = await ok(
      'PUT',
      vault,
      '2019-09-01',
      { location: 'eastus', properties: { tenantId: randomUUID() } },
      201,
    );
    assert.equal(kv.properties.vaultUri, 'https://kv-ph.vault.azure.net/');
    const secret = await ok('PUT', `${vault}/secrets/s1`, '2019-09-01', { properties: { value: 'hunter2' } }, 201);
    assert.equal(secret.properties.secretUri, 'https://kv-ph.vault.azure.net/secrets/s1');
    assert.match(
      secret.properties.secretUriWithVersion,
      /^https:\/\/kv-ph\.vault\.azure\.net\/secrets\/s1\/[0-9a-f]{32}$/,
    );
    assert.ok(!JSON.stringify(secret).includes('hunter2'), "a secret's value is never shown");
    await ok('PUT', `${vault}/accessPolicies/add`, '2019-09-01', { properties: { accessPolicies: [] } }, 201);

    const ai = await ok(
      'PUT',
      at('Microsoft.Insights', 'components/appi'),
      '2015-05-01',
      {
        location: 'westeurope',
        kind: 'web',
        properties: { Application_Type: 'web' },
      },
      201,
    );
    assert.match(ai.properties.InstrumentationKey, GUID_RE);
    assert.match(ai.properties.AppId, GUID_RE);
    assert.ok(ai.properties.ConnectionString.startsWith(`InstrumentationKey=${ai.properties.InstrumentationKey};`));
    assert.match(ai.properties.ConnectionString, /IngestionEndpoint=https:\/\/westeurope-0\.in\.applicationinsights/);

    const law = at('Microsoft.OperationalInsights', 'workspaces/log');
    const log = await ok('PUT', law, '2020-08-01', { location: 'eastus', properties: { retentionInDays: 30 } }, 201);
    assert.match(log.properties.customerId, GUID_RE);
    const shared = await ok('POST', `${law}/sharedKeys`, '2020-08-01');
    assert.ok(shared.primarySharedKey && shared.secondarySharedKey);

    const acr = at('Microsoft.ContainerRegistry', 'registries/MyAcr');
    const reg = await ok('PUT', acr, '2019-05-01', { location: 'eastus', sku: { name: 'Basic' } }, 201);
    assert.equal(reg.properties.loginServer, 'myacr.azurecr.io');
    const creds = await ok('POST', `${acr}/listCredentials`, '2019-05-01');
    assert.equal(creds.username, 'MyAcr');
    assert.deepEqual(
      creds.passwords.map((p: { name: string }) => p.name),
      ['password', 'password2'],
    );

    const uai = at('Microsoft.ManagedIdentity', 'userAssignedIdentities/id1');
    const id = await ok('PUT', uai, '2018-11-30', { location: 'eastus' }, 201);
    assert.match(id.properties.principalId, GUID_RE);
    assert.match(id.properties.clientId, GUID_RE);
    assert.equal(id.properties.tenantId, TEST_USER.tid);

    const search = at('Microsoft.Search', 'searchServices/srch');
    await ok('PUT', search, '2020-08-01', { location: 'eastus', sku: { name: 'basic' } }, 201);
    const admin = await ok('POST', `${search}/listAdminKeys`, '2020-08-01');
    assert.match(admin.primaryKey, /^[0-9A-Z]{52}$/);
    assert.notEqual(admin.primaryKey, admin.secondaryKey);

    const role = at('Microsoft.Authorization', `roleAssignments/${randomUUID()}`);
    const ra = await ok(
      'PUT',
      role,
      '2022-04-01',
      {
        properties: {
          roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/x',
          principalId: randomUUID(),
        },
      },
      201,
    );
    assert.equal(ra.type, 'Microsoft.Authorization/roleAssignments');
  });

  test('what is not an object body is refused; a missing api-version still is', async () => {
    const res = await armFetch(server, 'PUT', withApiVersion(at('Microsoft.Storage', 'storageAccounts/bad'), '1'), {
      body: '[1]',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400, describeResponse(res));
    const none = await armFetch(server, 'GET', STORAGE);
    assert.equal(none.status, 400, describeResponse(none));
  });

  test('placeholders show in /resources lists and in the dashboard tree, beside Azure ML workspaces', async () => {
    await createWorkspace(server, SUB, RG, 'ws-ph');
    const listed = await ok('GET', `${rgPath(SUB, RG)}/resources`, '2021-04-01');
    const names = listed.value.map((r: { type: string; name: string }) => `${r.type}|${r.name}`);
    for (const n of [
      'Microsoft.Storage/storageAccounts|stph1',
      'Microsoft.Storage/storageAccounts/blobServices/containers|stph1/default/data',
      'Microsoft.CognitiveServices/accounts/deployments|ai-ph/gpt-4o',
      'Microsoft.OperationalInsights/workspaces|log',
      'Microsoft.MachineLearningServices/workspaces|ws-ph',
    ])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    const providers = await ok('GET', `/subscriptions/${SUB}/providers/Microsoft.Storage`, '2021-04-01');
    assert.equal(providers.resourceTypes[0].resourceType, 'storageAccounts');

    const tree = await fetch(`${server.url}/_amlite/api/tree`);
    assert.equal(tree.status, 200);
    const body = (await tree.json()) as any;
    const rg = body.subscriptions.find((s: any) => s.subscriptionId === SUB).resourceGroups[0];
    assert.deepEqual(
      rg.children.workspaces.map((n: any) => n.resource.name),
      ['ws-ph'],
      "Azure ML's workspaces keep their place",
    );
    assert.deepEqual(
      rg.children['Microsoft.OperationalInsights/workspaces'].map((n: any) => n.resource.name),
      ['log'],
    );
    const [st] = rg.children.storageAccounts;
    assert.equal(st.resource.properties.primaryEndpoints.blob, 'https://stph1.blob.core.windows.net/');
    assert.equal(st.children.blobServices[0].children.containers[0].resource.name, 'data');
  });

  test("Azure ML's own types still refuse an unknown api-version", async () => {
    const res = await call(
      'GET',
      `${rgPath(SUB, RG)}/providers/Microsoft.MachineLearningServices/workspaces/ws-ph`,
      '1',
    );
    assert.equal(res.status, 400, describeResponse(res));
    assert.equal(res.body.error.code, 'NoRegisteredProviderFound');
  });

  test('DELETE answers 200, then 204; the resource and everything below it are gone', async () => {
    await ok('DELETE', STORAGE, '2019-06-01');
    await ok('DELETE', STORAGE, '2019-06-01', undefined, 204);
    await ok('GET', STORAGE, '2019-06-01', undefined, 404);
    const res = await call('GET', `${STORAGE}/blobServices/default/containers/data`, '2019-06-01');
    assert.equal(res.status, 404);
  });
});

describe('placeholders off', () => {
  test('--no-placeholders and AMLITE_PLACEHOLDERS=off turn them off; on by default', () => {
    assert.equal(loadConfig([], {}).placeholders, true);
    assert.equal(loadConfig(['--no-placeholders'], {}).placeholders, false);
    assert.equal(loadConfig(['--no-placeholders=false'], {}).placeholders, true);
    assert.equal(loadConfig([], { AMLITE_PLACEHOLDERS: 'off' }).placeholders, false);
    assert.equal(loadConfig(['--no-placeholders'], { AMLITE_PLACEHOLDERS: 'on' }).placeholders, false);
  });

  test('with placeholders off, their types answer as ARM answers a type it does not serve', async () => {
    const server = await startTestServer({ placeholders: false });
    try {
      await createResourceGroup(server, SUB, RG);
      const res = await armFetch(server, 'PUT', withApiVersion(STORAGE, '2023-05-01'), {
        body: { location: 'eastus' },
      });
      assert.equal(res.status, 400, describeResponse(res));
      assert.ok(
        ['InvalidResourceNamespace', 'InvalidResourceType', 'NoRegisteredProviderFound'].includes(res.body.error.code),
        describeResponse(res),
      );
      assert.match(res.body.error.message, /Microsoft\.Storage/);
      const listed = await armFetch(server, 'GET', withApiVersion(`/subscriptions/${SUB}/providers`, '2021-04-01'));
      const namespaces = listed.body.value.map((p: { namespace: string }) => p.namespace);
      assert.ok(!namespaces.includes('Microsoft.Storage'), namespaces.join(', '));
    } finally {
      await server.close();
    }
  });
});
