// Issue 15 §2: workspaces/connections at the workspace api-versions. Create, get, list, delete; credentials are
// write-only (never in a PUT answer, GET or LIST; only in listsecrets); each version validates its own auth types and
// credential shapes; a missing workspace is a 404.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  createWorkspace,
  describeResponse,
  startWithWorkspace,
  withApiVersion,
  workspacePath,
  type FetchResult,
  type RunningServer,
} from './support/harness.js';

const SUB = '15c0ec70-0000-4000-8000-000000000015';
const RG = 'rg-connections';
const WS = 'ws-connections';
const TYPE = 'Microsoft.MachineLearningServices/workspaces/connections';

/** One version of each family (connections.ts); the first four have no listsecrets. */
const VERSIONS = [
  '2023-02-01-preview',
  '2023-04-01-preview',
  '2023-04-01',
  '2023-10-01',
  '2023-06-01-preview',
  '2023-08-01-preview',
  '2024-01-01-preview',
  '2024-04-01-preview',
  '2024-04-01',
  '2024-10-01',
  '2024-10-01-preview',
  '2025-09-01',
  '2026-05-15-preview',
];
const WITHOUT_LIST_SECRETS = new Set(['2023-02-01-preview', '2023-04-01-preview', '2023-04-01', '2023-10-01']);

const tag = (v: string) => v.replace(/-preview$/, 'p').replace(/-/g, '');
const connectionsPath = (ws = WS) => `${workspacePath(SUB, RG, ws)}/connections`;
const connectionPath = (name: string, ws = WS) => `${connectionsPath(ws)}/${name}`;

describe('workspaces/connections (issue 15 §2)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server.close());

  const call = (method: string, path: string, version: string, body?: unknown) =>
    armFetch(server, method, withApiVersion(path, version), body === undefined ? {} : { body });

  function assertNoSecret(res: FetchResult, secret: string, what: string): void {
    assert.ok(!res.text.includes(secret), `${what} must not show the credentials: ${describeResponse(res)}`);
    assert.ok(![...res.headers.values()].some((h) => h.includes(secret)), `${what}: a header shows the credentials`);
  }

  async function assertInvalid(path: string, version: string, body: unknown, target: string, why: string) {
    const res = await call('PUT', path, version, body);
    assert.equal(res.status, 400, `${why} at ${version}: ${describeResponse(res)}`);
    assert.equal(res.body.error.code, 'InvalidRequestContent', `${why}: ${describeResponse(res)}`);
    assert.equal(res.body.error.target, target, `${why}: ${describeResponse(res)}`);
    return res;
  }

  test('CRUD and listsecrets at one version of every family; credentials only in listsecrets', async () => {
    for (const v of VERSIONS) {
      const name = `pat-${tag(v)}`;
      const path = connectionPath(name);
      const secret = `pat-secret-${tag(v)}-9f8e7d`;
      const body = {
        properties: {
          category: 'Git',
          target: 'https://github.com/contoso/repo',
          authType: 'PAT',
          credentials: { pat: secret },
        },
      };
      const put = await call('PUT', path, v, body);
      assert.equal(put.status, 200, `PUT at ${v} (the swagger declares 200 only): ${describeResponse(put)}`);
      assert.equal(put.body.type, TYPE);
      assert.equal(put.body.name, name);
      assert.equal(put.body.properties.category, 'Git');
      assert.equal(put.body.properties.authType, 'PAT');
      assert.equal(put.body.properties.credentials, undefined, `PUT at ${v}`);
      assert.equal(put.body.location, undefined, 'a proxy resource has no location');
      assertNoSecret(put, secret, `PUT at ${v}`);

      const got = await call('GET', path, v);
      assert.equal(got.status, 200, `GET at ${v}: ${describeResponse(got)}`);
      assert.equal(got.body.properties.target, 'https://github.com/contoso/repo');
      assertNoSecret(got, secret, `GET at ${v}`);

      const list = await call('GET', connectionsPath(), v);
      assert.equal(list.status, 200, `LIST at ${v}: ${describeResponse(list)}`);
      assert.ok(
        list.body.value.some((c: { name: string }) => c.name === name),
        `LIST at ${v} names ${name}`,
      );
      assertNoSecret(list, secret, `LIST at ${v}`);

      const secrets = await call('POST', `${path}/listsecrets`, v);
      if (WITHOUT_LIST_SECRETS.has(v)) {
        assert.equal(secrets.status, 404, `${v} has no listsecrets: ${describeResponse(secrets)}`);
        assertNoSecret(secrets, secret, `listsecrets at ${v}`);
      } else {
        assert.equal(secrets.status, 200, `listsecrets at ${v}: ${describeResponse(secrets)}`);
        assert.equal(secrets.body.id, put.body.id);
        assert.deepEqual(secrets.body.properties.credentials, { pat: secret }, `listsecrets at ${v}`);
      }

      const del = await call('DELETE', path, v);
      assert.equal(del.status, 200, `DELETE at ${v}: ${describeResponse(del)}`);
      assert.equal((await call('GET', path, v)).status, 404, `GET after DELETE at ${v}`);
      assert.equal((await call('DELETE', path, v)).status, 204, `DELETE of an absent connection at ${v}`);
    }
  });

  test('Hub-style ApiKey connection: the key survives replace and PATCH unseen; a new authType drops it', async () => {
    const v = '2024-10-01';
    const path = connectionPath('aoai-hub');
    const key = 'aoai-key-0123456789abcdef';
    const properties = {
      category: 'AzureOpenAI',
      target: 'https://contoso.openai.azure.com/',
      authType: 'ApiKey',
      isSharedToAll: true,
      metadata: {
        ApiType: 'Azure',
        ResourceId: '/subscriptions/x/resourceGroups/y/providers/Microsoft.CognitiveServices/accounts/z',
      },
      credentials: { key },
    };
    const put = await call('PUT', path, v, { properties });
    assert.equal(put.status, 200, describeResponse(put));
    assert.equal(put.body.properties.isSharedToAll, true);
    assert.equal(put.body.properties.metadata.ApiType, 'Azure');
    assertNoSecret(put, key, 'PUT');

    const { credentials: _omitted, ...withoutCredentials } = properties;
    const replaced = await call('PUT', path, v, {
      properties: { ...withoutCredentials, target: 'https://b.openai.azure.com/' },
    });
    assert.equal(replaced.status, 200, `replace answers 200: ${describeResponse(replaced)}`);
    let secrets = await call('POST', `${path}/listSecrets`, v);
    assert.equal(secrets.status, 200, describeResponse(secrets));
    assert.equal(secrets.body.properties.credentials.key, key, 'a replace without credentials keeps the key');
    assert.equal(secrets.body.properties.target, 'https://b.openai.azure.com/');

    const patched = await call('PATCH', path, v, { properties: { target: 'https://c.openai.azure.com/' } });
    assert.equal(patched.status, 200, describeResponse(patched));
    assert.equal(patched.body.properties.target, 'https://c.openai.azure.com/');
    assert.equal(patched.body.properties.category, 'AzureOpenAI', 'PATCH merges into properties');
    assertNoSecret(patched, key, 'PATCH');
    secrets = await call('POST', `${path}/listsecrets`, v);
    assert.equal(secrets.body.properties.credentials.key, key, 'PATCH of the target keeps the key');

    const rotated = await call('PATCH', path, v, { properties: { credentials: { key: 'rotated-key-42' } } });
    assert.equal(rotated.status, 200, describeResponse(rotated));
    assertNoSecret(rotated, 'rotated-key-42', 'PATCH with credentials');
    secrets = await call('POST', `${path}/listsecrets`, v);
    assert.equal(secrets.body.properties.credentials.key, 'rotated-key-42', 'PATCH with credentials replaces them');

    const aad = await call('PUT', path, v, { properties: { ...withoutCredentials, authType: 'AAD' } });
    assert.equal(aad.status, 200, describeResponse(aad));
    secrets = await call('POST', `${path}/listsecrets`, v);
    assert.equal(secrets.body.properties.authType, 'AAD');
    assert.equal(secrets.body.properties.credentials, undefined, 'a new authType drops the old credentials');
    assertNoSecret(secrets, 'rotated-key-42', 'listsecrets after the authType changed');
  });

  test('every auth type with credentials round-trips through listsecrets at the current family', async () => {
    const v = '2026-05-15-preview';
    const cases: [string, Record<string, unknown>][] = [
      ['PAT', { pat: 'p' }],
      ['SAS', { sas: 's' }],
      ['ApiKey', { key: 'k' }],
      ['AccountKey', { key: 'ak' }],
      ['AccessKey', { accessKeyId: 'id', secretAccessKey: 'sk' }],
      ['ManagedIdentity', { resourceId: '/subscriptions/x/mi', clientId: 'c' }],
      ['UsernamePassword', { username: 'u', password: 'pw', securityToken: 't' }],
      ['ServicePrincipal', { clientId: 'c', clientSecret: 'cs', tenantId: 't' }],
      ['CustomKeys', { keys: { a: '1', b: '2' } }],
      ['OAuth2', { clientId: '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', clientSecret: 'cs', authUrl: 'https://x' }],
    ];
    for (const [authType, credentials] of cases) {
      const path = connectionPath(`all-${authType.toLowerCase()}`);
      const put = await call('PUT', path, v, { properties: { category: 'CustomKeys', authType, credentials } });
      assert.equal(put.status, 200, `${authType}: ${describeResponse(put)}`);
      assert.equal(put.body.properties.credentials, undefined, authType);
      const secrets = await call('POST', `${path}/listsecrets`, v);
      assert.deepEqual(secrets.body.properties.credentials, credentials, authType);
    }
    for (const authType of ['None', 'AAD']) {
      const path = connectionPath(`all-${authType.toLowerCase()}`);
      const put = await call('PUT', path, v, { properties: { category: 'AIServices', authType } });
      assert.equal(put.status, 200, `${authType}: ${describeResponse(put)}`);
      const secrets = await call('POST', `${path}/listsecrets`, v);
      assert.equal(secrets.status, 200);
      assert.equal(secrets.body.properties.credentials, undefined, `${authType} has no credentials`);
    }
  });

  test('validation: category and authType required, auth types per version, credential shapes', async () => {
    const path = connectionPath('invalid');
    for (const v of ['2023-04-01', '2024-10-01', '2026-05-15-preview']) {
      await assertInvalid(path, v, { properties: { authType: 'PAT' } }, 'properties.category', 'no category');
      const noAuth = await assertInvalid(
        path,
        v,
        { properties: { category: 'Git' } },
        'properties.authType',
        'no authType',
      );
      assert.match(noAuth.body.error.message, /required/i, describeResponse(noAuth));
      await assertInvalid(path, v, {}, 'properties', 'no properties');
    }
    await assertInvalid(
      path,
      '2023-04-01',
      { properties: { category: 'Git', authType: 'ApiKey' } },
      'properties.authType',
      '2023-04-01 has no ApiKey',
    );
    await assertInvalid(
      path,
      '2023-08-01-preview',
      { properties: { category: 'Git', authType: 'AAD' } },
      'properties.authType',
      'AAD came in 2024-01-01-preview',
    );
    const v = '2024-10-01';
    const secret = 'must-not-be-echoed-7c6b';
    await assertInvalid(
      path,
      v,
      { properties: { category: 'AzureOpenAI', authType: 'ApiKey', credentials: { key: 42 } } },
      'properties.credentials.key',
      'a numeric key',
    );
    await assertInvalid(
      path,
      v,
      { properties: { category: 'AzureOpenAI', authType: 'ApiKey', credentials: secret } },
      'properties.credentials',
      'credentials as a string',
    );
    const keys = await assertInvalid(
      path,
      v,
      { properties: { category: 'CustomKeys', authType: 'CustomKeys', credentials: { keys: { a: secret, b: 5 } } } },
      'properties.credentials.keys.b',
      'a custom key that is not a string',
    );
    assertNoSecret(keys, secret, 'the error');
    await assertInvalid(
      path,
      v,
      {
        properties: {
          category: 'GenericRest',
          authType: 'OAuth2',
          credentials: { clientId: 'not-a-guid', clientSecret: secret },
        },
      },
      'properties.credentials.clientId',
      'an OAuth2 clientId that is not a GUID',
    );
    await assertInvalid(
      path,
      v,
      { properties: { category: 'Git', authType: 'PAT', metadata: { a: 1 } } },
      'properties.metadata.a',
      'metadata is a string map from 2024-04-01-preview',
    );
    assert.equal((await call('GET', path, v)).status, 404, 'a rejected PUT created nothing');

    const short = await call('PUT', connectionPath('ab'), v, { properties: { category: 'Git', authType: 'None' } });
    assert.equal(short.status, 400, describeResponse(short));
    assert.equal(short.body.error.code, 'InvalidResourceName');
  });

  test('a missing workspace is a 404 for PUT, GET, LIST and listsecrets', async () => {
    const v = '2024-10-01';
    const path = connectionPath('orphan', 'ws-missing');
    const body = { properties: { category: 'Git', authType: 'PAT', credentials: { pat: 'x' } } };
    for (const [method, p, b] of [
      ['PUT', path, body],
      ['GET', path, undefined],
      ['GET', connectionsPath('ws-missing'), undefined],
      ['POST', `${path}/listsecrets`, undefined],
    ] as const) {
      const res = await call(method, p, v, b);
      assert.equal(res.status, 404, `${method} ${p}: ${describeResponse(res)}`);
      assert.equal(res.body.error.code, 'ParentResourceNotFound', `${method} ${p}: ${describeResponse(res)}`);
    }
  });

  test('LIST filters by target and category (category without case)', async () => {
    const v = '2025-09-01';
    const ws = 'ws-filters';
    await createWorkspace(server, SUB, RG, ws);
    const make = (name: string, category: string, target: string) =>
      call('PUT', connectionPath(name, ws), v, { properties: { category, target, authType: 'None' } });
    assert.equal((await make('git-a', 'Git', 'https://a')).status, 200);
    assert.equal((await make('git-b', 'Git', 'https://b')).status, 200);
    assert.equal((await make('aoai-a', 'AzureOpenAI', 'https://a')).status, 200);
    const names = async (query: string) => {
      const res = await armFetch(server, 'GET', `${withApiVersion(connectionsPath(ws), v)}${query}`);
      assert.equal(res.status, 200, describeResponse(res));
      return res.body.value.map((c: { name: string }) => c.name).sort();
    };
    assert.deepEqual(await names(''), ['aoai-a', 'git-a', 'git-b']);
    assert.deepEqual(await names('&category=git'), ['git-a', 'git-b']);
    assert.deepEqual(await names('&target=https%3A%2F%2Fa'), ['aoai-a', 'git-a']);
    assert.deepEqual(await names('&target=https%3A%2F%2Fa&category=Git'), ['git-a']);
  });

  test('each version shows the fields it knows of the one stored connection', async () => {
    const path = connectionPath('viewed');
    const put = await call('PUT', path, '2025-10-01-preview', {
      properties: {
        category: 'AIServices',
        authType: 'AAD',
        useWorkspaceManagedIdentity: true,
        expiryTime: '2030-01-01T00:00:00Z',
      },
    });
    assert.equal(put.status, 200, describeResponse(put));
    assert.equal(put.body.properties.useWorkspaceManagedIdentity, true);
    assert.equal(put.body.properties.createdByWorkspaceArmId, workspacePath(SUB, RG, WS));
    const old = await call('GET', path, '2024-04-01');
    assert.equal(old.status, 200);
    assert.equal(
      old.body.properties.useWorkspaceManagedIdentity,
      undefined,
      '2024-04-01 has no useWorkspaceManagedIdentity',
    );
    assert.equal(old.body.properties.expiryTime, '2030-01-01T00:00:00Z');
    const legacy = await call('GET', path, '2023-04-01');
    assert.equal(legacy.body.properties.expiryTime, undefined, '2023-04-01 has no expiryTime');
    assert.equal(legacy.body.properties.createdByWorkspaceArmId, undefined);
    const again = await call('GET', path, '2026-05-15-preview');
    assert.equal(again.body.properties.useWorkspaceManagedIdentity, true, 'fields another version hides are kept');
  });
});
