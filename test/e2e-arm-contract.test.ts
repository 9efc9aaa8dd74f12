// End-to-end over raw HTTPS: the ARM resource-provider contract (../shared/ARM-CONTRACT.md) as the server
// applies it to resource groups, workspaces and serverless endpoints: errors, api-versions, auth, ETags,
// request ids, ids and names, long-running operations.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  API_VERSIONS,
  ENDPOINT_TYPE,
  GUID_RE,
  RG_API_VERSION,
  TEST_USER,
  WORKSPACE_TYPE,
  appClaims,
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  fakeToken,
  followLocation,
  listAll,
  pollUntil,
  putAndWait,
  rgPath,
  startTestServer,
  startWithWorkspace,
  waitForTerminal,
  withApiVersion,
  workspacePath,
  type FetchResult,
  type RunningServer,
} from './support/harness.js';
import { assertArmError } from './support/assertions.js';

const STABLE = '2025-09-01';
const PREVIEW = '2026-03-15-preview';
const STABLE_NAME_PATTERN = '^[a-zA-Z][a-zA-Z0-9-]{0,51}$';
const WORKSPACE_NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$';
const ISO_DURATION = /^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

function assertStatus(res: FetchResult, ...statuses: number[]): void {
  assert.ok(statuses.includes(res.status), `expected ${statuses.join(' or ')}, got ${describeResponse(res)}`);
}

describe('ARM contract over raw HTTPS', () => {
  let server: RunningServer;
  const SUB = randomUUID();
  const RG = 'rg-contract';
  const WS = 'ws-contract';
  const ep = (name: string, ws = WS, rg = RG) => endpointPath(SUB, rg, ws, name);
  const at = (path: string, apiVersion: string) => withApiVersion(path, apiVersion);
  const get = (path: string, apiVersion = STABLE, headers?: Record<string, string>) =>
    armFetch(server, 'GET', at(path, apiVersion), { headers });
  const put = (path: string, body: unknown, apiVersion = STABLE, headers?: Record<string, string>) =>
    armFetch(server, 'PUT', at(path, apiVersion), { body, headers });
  const patch = (path: string, body: unknown, apiVersion = STABLE, headers?: Record<string, string>) =>
    armFetch(server, 'PATCH', at(path, apiVersion), { body, headers });
  const del = (path: string, apiVersion = STABLE, headers?: Record<string, string>) =>
    armFetch(server, 'DELETE', at(path, apiVersion), { headers });
  /** Waits until the resource's provisioningState is terminal (a write may run asynchronously). */
  const settle = (path: string, apiVersion = STABLE) => waitForTerminal(server, path, apiVersion);
  async function createEndpoint(name: string, apiVersion = STABLE, body = endpointBody()): Promise<any> {
    const { initial, final } = await putAndWait(server, ep(name), apiVersion, body);
    assert.equal(initial.status, 201, describeResponse(initial));
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final));
    return final;
  }
  async function assertAbsent(path: string, apiVersion = STABLE): Promise<void> {
    const res = await get(path, apiVersion);
    assert.equal(res.status, 404, `expected ${path} to be absent: ${describeResponse(res)}`);
  }

  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(async () => {
    await server?.close();
  });

  describe('pipeline', () => {
    test('GET /health → 200 JSON without auth', async () => {
      const res = await armFetch(server, 'GET', '/health', { token: null });
      assert.equal(res.status, 200, describeResponse(res));
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(typeof res.body, 'object');
    });

    test('missing api-version → 400 MissingApiVersionParameter', async () => {
      await createEndpoint('ep-apiver');
      for (const [method, path] of [
        ['GET', ep('ep-apiver')],
        ['PUT', ep('ep-noversion')],
        ['GET', rgPath(SUB, RG)],
        ['GET', workspacePath(SUB, RG, WS)],
      ] as const) {
        const res = await armFetch(server, method, path, method === 'PUT' ? { body: endpointBody() } : {});
        assertArmError(res, 400, 'MissingApiVersionParameter');
        assert.match(res.body.error.message, /api-version/);
      }
      await assertAbsent(ep('ep-noversion'));
    });

    test('unsupported api-version on a serverless endpoint → 400 NoRegisteredProviderFound listing the supported ones', async () => {
      for (const method of ['GET', 'PUT'] as const) {
        const res = await armFetch(server, method, at(ep('ep-badversion'), '2019-01-01'), {
          body: method === 'PUT' ? endpointBody() : undefined,
        });
        assertArmError(res, 400, 'NoRegisteredProviderFound');
        const message: string = res.body.error.message;
        assert.ok(message.includes('2019-01-01'), `message names the requested version: ${message}`);
        for (const v of API_VERSIONS) assert.ok(message.includes(v), `message lists ${v}: ${message}`);
        assert.match(message, /serverlessEndpoints/i, `message names the type: ${message}`);
      }
      await assertAbsent(ep('ep-badversion'));
    });

    test('invalid api-version on a resource group → 400 InvalidApiVersionParameter', async () => {
      const res = await armFetch(server, 'PUT', at(rgPath(SUB, 'rg-badversion'), '2019-99-99'), {
        body: { location: 'eastus' },
      });
      assertArmError(res, 400, 'InvalidApiVersionParameter');
      assert.ok(res.body.error.message.includes('2019-99-99'), res.body.error.message);
      assert.ok(res.body.error.message.includes(RG_API_VERSION), `lists ${RG_API_VERSION}: ${res.body.error.message}`);
      const head = await armFetch(server, 'HEAD', at(rgPath(SUB, 'rg-badversion'), RG_API_VERSION));
      assert.equal(head.status, 404, 'resource group not created');
    });

    test('missing Authorization → 401 AuthenticationFailed with WWW-Authenticate', async () => {
      const res = await armFetch(server, 'GET', at(ep('ep-apiver'), STABLE), { token: null });
      assertArmError(res, 401, 'AuthenticationFailed');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/i);
      const putRes = await armFetch(server, 'PUT', at(ep('ep-noauth'), STABLE), { token: null, body: endpointBody() });
      assertArmError(putRes, 401, 'AuthenticationFailed');
      await assertAbsent(ep('ep-noauth'));
    });

    test('malformed token → 401 InvalidAuthenticationToken', async () => {
      for (const token of ['not-a-jwt', 'abc.def', '%%%.###.']) {
        const res = await armFetch(server, 'GET', at(ep('ep-apiver'), STABLE), { token });
        assertArmError(res, 401, 'InvalidAuthenticationToken');
      }
      const res = await armFetch(server, 'GET', at(ep('ep-apiver'), STABLE), {
        token: null,
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
      });
      assert.equal(res.status, 401, describeResponse(res));
    });

    test('expired token → 401 ExpiredAuthenticationToken, nothing written', async () => {
      const token = fakeToken({ exp: Math.floor(Date.now() / 1000) - 600 });
      const res = await armFetch(server, 'PUT', at(ep('ep-expired'), STABLE), { token, body: endpointBody() });
      assertArmError(res, 401, 'ExpiredAuthenticationToken');
      await assertAbsent(ep('ep-expired'));
    });

    test('systemData follows the caller: application creates, user modifies', async () => {
      const claims = appClaims();
      const res = await armFetch(server, 'PUT', at(ep('ep-byapp'), STABLE), {
        token: fakeToken(claims),
        body: endpointBody(),
      });
      assertStatus(res, 201);
      assert.equal(res.body.systemData?.createdByType, 'Application');
      assert.equal(res.body.systemData?.createdBy, claims.appid);
      await pollUntil('ep-byapp to finish', async () => {
        const g = await get(ep('ep-byapp'));
        return g.body?.properties?.provisioningState === 'Succeeded' ? g : undefined;
      });
      const patched = await followLocation(server, await patch(ep('ep-byapp'), { tags: { by: 'user' } }));
      assert.equal(patched.status, 200, describeResponse(patched));
      const sd = patched.body.systemData;
      assert.equal(sd.createdByType, 'Application');
      assert.equal(sd.createdBy, claims.appid);
      assert.equal(sd.lastModifiedByType, 'User');
      assert.equal(sd.lastModifiedBy, TEST_USER.upn);
      assert.ok(Date.parse(sd.lastModifiedAt) >= Date.parse(sd.createdAt));
    });
  });

  describe('resource hierarchy', () => {
    test('child under a missing resource group → 404 ResourceGroupNotFound', async () => {
      const path = endpointPath(SUB, 'rg-nowhere', WS, 'ep-x');
      assertArmError(await get(path), 404, 'ResourceGroupNotFound');
      assertArmError(await put(path, endpointBody()), 404, 'ResourceGroupNotFound');
      assertArmError(await get(workspacePath(SUB, 'rg-nowhere', WS)), 404, 'ResourceGroupNotFound');
      const head = await armFetch(server, 'HEAD', at(rgPath(SUB, 'rg-nowhere'), RG_API_VERSION));
      assert.equal(head.status, 404, 'the PUT did not create the group');
    });

    test('child under a missing workspace → 404 ParentResourceNotFound', async () => {
      const path = ep('ep-x', 'ws-nowhere');
      assertArmError(await get(path), 404, 'ParentResourceNotFound');
      assertArmError(await put(path, endpointBody()), 404, 'ParentResourceNotFound');
      assertArmError(await get(workspacePath(SUB, RG, 'ws-nowhere')), 404, 'ResourceNotFound');
    });

    test('list under an existing workspace without endpoints → 200 empty, no nextLink', async () => {
      await createWorkspace(server, SUB, RG, 'ws-empty');
      for (const v of API_VERSIONS) {
        const res = await get(`${workspacePath(SUB, RG, 'ws-empty')}/serverlessEndpoints`, v);
        assert.equal(res.status, 200, describeResponse(res));
        assert.deepEqual(res.body.value, []);
        assert.equal(res.body.nextLink, undefined, 'no nextLink on the last page');
      }
    });

    test('missing endpoint → 404 ResourceNotFound naming it', async () => {
      const res = await get(ep('ep-ghost'));
      assertArmError(res, 404, 'ResourceNotFound');
      assert.ok(res.body.error.message.includes('ep-ghost'), res.body.error.message);
    });
  });

  describe('request validation', () => {
    test('invalid endpoint name on the stable PUT → 400 InvalidResourceName naming the pattern', async () => {
      for (const name of ['1bad', 'a'.repeat(60), 'under_score']) {
        const res = await put(ep(name), endpointBody());
        assertArmError(res, 400, 'InvalidResourceName');
        assert.ok(
          res.body.error.message.includes(STABLE_NAME_PATTERN),
          `pattern in message: ${res.body.error.message}`,
        );
        await assertAbsent(ep(name));
      }
      // the longest allowed name (52 chars) is fine
      await createEndpoint(`a${'b'.repeat(51)}`);
      // the preview spec declares no pattern for the name: ARM's generic rules only
      const preview = await put(ep('1bad'), endpointBody(), PREVIEW);
      assert.equal(preview.status, 201, `preview accepts 1bad: ${describeResponse(preview)}`);
      const tooOdd = await put(ep('bad%3Fname'), endpointBody(), PREVIEW);
      assertArmError(tooOdd, 400, 'InvalidResourceName');
    });

    for (const v of API_VERSIONS) {
      test(`${v}: missing properties.authMode → 400 InvalidRequestContent targeting properties.authMode`, async () => {
        const body = endpointBody();
        delete body.properties.authMode;
        const res = await put(ep('ep-noauthmode'), body, v);
        assertArmError(res, 400, 'InvalidRequestContent', { target: 'properties.authMode' });
        await assertAbsent(ep('ep-noauthmode'), v);
      });

      test(`${v}: missing location → 400 InvalidRequestContent targeting location`, async () => {
        const { location: _dropped, ...body } = endpointBody();
        const res = await put(ep('ep-nolocation'), body, v);
        assertArmError(res, 400, 'InvalidRequestContent', { target: 'location' });
        await assertAbsent(ep('ep-nolocation'), v);
      });
    }

    test('unknown property: stable → 400 InvalidRequestContent; preview accepts it and does not echo it', async () => {
      const body = endpointBody({ notARealField: 'x' });
      assertArmError(await put(ep('ep-unknown'), body, STABLE), 400, 'InvalidRequestContent');
      await assertAbsent(ep('ep-unknown'));
      const res = await put(ep('ep-unknown'), body, PREVIEW);
      assertStatus(res, 201);
      assert.equal(res.body.properties.notARealField, undefined, 'unknown field not echoed by PUT');
      const got = await get(ep('ep-unknown'), PREVIEW);
      assert.equal(got.status, 200);
      assert.equal(got.body.properties.notARealField, undefined, 'unknown field not echoed by GET');
    });

    test('invalid JSON → 400 InvalidRequestFormat with an InvalidJson detail', async () => {
      const res = await armFetch(server, 'PUT', at(ep('ep-badjson'), STABLE), {
        body: '{"location": "eastus", "properties": {',
        headers: { 'content-type': 'application/json' },
      });
      assertArmError(res, 400, 'InvalidRequestFormat');
      const details: any[] = res.body.error.details ?? [];
      assert.ok(
        details.some((d) => d?.code === 'InvalidJson'),
        `InvalidJson detail: ${describeResponse(res)}`,
      );
      await assertAbsent(ep('ep-badjson'));
    });

    test('text/plain body → 415 UnsupportedMediaType', async () => {
      const res = await armFetch(server, 'PUT', at(ep('ep-textplain'), STABLE), {
        body: JSON.stringify(endpointBody()),
        headers: { 'content-type': 'text/plain' },
      });
      assertArmError(res, 415, 'UnsupportedMediaType');
      await assertAbsent(ep('ep-textplain'));
    });

    test('body over 4 MB → 413', async () => {
      const body = endpointBody();
      body.tags = { big: 'x'.repeat(4 * 1024 * 1024 + 1024) };
      const res = await put(ep('ep-huge'), body);
      assert.equal(res.status, 413, describeResponse({ status: res.status, body: res.text.slice(0, 300) }));
      assert.equal(typeof res.body?.error?.code, 'string', `ARM error envelope: ${res.text.slice(0, 300)}`);
      await assertAbsent(ep('ep-huge'));
    });

    test('read-only fields in the PUT body are ignored', async () => {
      const original = await createEndpoint('ep-readonly');
      const body: Record<string, any> = {
        ...endpointBody(),
        id: `/subscriptions/${randomUUID()}/resourceGroups/elsewhere/providers/Microsoft.MachineLearningServices/workspaces/w/serverlessEndpoints/other`,
        name: 'other',
        type: 'Microsoft.Fake/things',
        systemData: {
          createdBy: 'mallory@evil.example',
          createdByType: 'Key',
          createdAt: '2001-01-01T00:00:00Z',
          lastModifiedBy: 'mallory@evil.example',
          lastModifiedByType: 'Key',
          lastModifiedAt: '2001-01-01T00:00:00Z',
        },
      };
      body.properties.provisioningState = 'Succeeded';
      const res = await put(ep('ep-readonly'), body);
      assert.equal(res.status, 200, describeResponse(res));
      assert.equal(res.body.id.toLowerCase(), ep('ep-readonly').toLowerCase());
      assert.equal(res.body.name, 'ep-readonly');
      assert.equal(res.body.type, ENDPOINT_TYPE);
      assert.equal(res.body.systemData.createdBy, TEST_USER.upn);
      assert.equal(res.body.systemData.createdByType, 'User');
      assert.equal(res.body.systemData.createdAt, original.systemData.createdAt);
      assert.notEqual(res.body.systemData.lastModifiedBy, 'mallory@evil.example');
      const got = await settle(ep('ep-readonly'));
      assert.equal(got.name, 'ep-readonly');
      assert.equal(got.systemData.createdAt, original.systemData.createdAt);
    });

    test('a provisioningState different from the stored one → 400, resource unchanged', async () => {
      const body = endpointBody();
      body.properties.provisioningState = 'Failed';
      body.tags = { changed: 'yes' };
      const res = await put(ep('ep-readonly'), body);
      assert.equal(res.status, 400, describeResponse(res));
      assert.equal(typeof res.body?.error?.code, 'string');
      const got = await get(ep('ep-readonly'));
      assert.equal(got.body.tags?.changed, undefined);
      assert.equal(got.body.properties.provisioningState, 'Succeeded');
    });

    test('location: changing it on replace → 400; "East US" equals eastus and is echoed normalised', async () => {
      await createEndpoint('ep-location');
      const moved = await put(ep('ep-location'), { ...endpointBody(), location: 'westus', tags: { moved: 'yes' } });
      assert.equal(moved.status, 400, describeResponse(moved));
      assert.equal(typeof moved.body?.error?.code, 'string');
      const got = await get(ep('ep-location'));
      assert.equal(got.body.location, 'eastus');
      assert.equal(got.body.tags?.moved, undefined);
      const same = await put(ep('ep-location'), { ...endpointBody(), location: 'East US' });
      assert.equal(same.status, 200, describeResponse(same));
      assert.equal(same.body.location, 'eastus');
    });
  });

  describe('ETags and conditional requests', () => {
    let etag: string;

    before(async () => {
      await createEndpoint('ep-etag');
    });

    test('GET, PUT and PATCH answer with an ETag that changes on writes', async () => {
      const got = await get(ep('ep-etag'));
      etag = got.headers.get('etag') ?? '';
      assert.ok(etag.length > 0, 'GET has an ETag');
      const replaced = await put(ep('ep-etag'), { ...endpointBody(), tags: { v: '1' } });
      assert.equal(replaced.status, 200, describeResponse(replaced));
      const afterPut = replaced.headers.get('etag') ?? '';
      assert.ok(afterPut.length > 0, 'PUT has an ETag');
      assert.notEqual(afterPut, etag, 'a write changes the ETag');
      await settle(ep('ep-etag'));
      const settledPut = (await get(ep('ep-etag'))).headers.get('etag') ?? '';
      const first = await patch(ep('ep-etag'), { tags: { v: '2' } });
      assertStatus(first, 200, 202);
      const patched = await followLocation(server, first);
      assert.equal(patched.status, 200, describeResponse(patched));
      const afterPatch = (first.status === 200 ? first : patched).headers.get('etag') ?? '';
      assert.ok(afterPatch.length > 0, 'PATCH result has an ETag');
      await settle(ep('ep-etag'));
      const current = (await get(ep('ep-etag'))).headers.get('etag') ?? '';
      assert.notEqual(current, settledPut, 'PATCH changed the ETag');
      assert.equal((await get(ep('ep-etag'))).headers.get('etag'), current, 'ETag stable without writes');
    });

    test('If-Match with a stale ETag → 412 PreconditionFailed on PUT, PATCH and DELETE; nothing changes', async () => {
      const prior = await get(ep('ep-etag'));
      const stale = etag;
      assert.notEqual(stale, prior.headers.get('etag'));
      const headers = { 'if-match': stale };
      assertArmError(
        await put(ep('ep-etag'), { ...endpointBody(), tags: { stale: 'put' } }, STABLE, headers),
        412,
        'PreconditionFailed',
      );
      assertArmError(
        await patch(ep('ep-etag'), { tags: { stale: 'patch' } }, STABLE, headers),
        412,
        'PreconditionFailed',
      );
      assertArmError(await del(ep('ep-etag'), STABLE, headers), 412, 'PreconditionFailed');
      const after = await get(ep('ep-etag'));
      assert.equal(after.status, 200);
      assert.deepEqual(after.body.tags, prior.body.tags);
      assert.equal(after.headers.get('etag'), prior.headers.get('etag'));
    });

    test('If-Match: * on a missing resource → 412, not created; on an existing one → 200', async () => {
      assertArmError(
        await put(ep('ep-ifmatch-missing'), endpointBody(), STABLE, { 'if-match': '*' }),
        412,
        'PreconditionFailed',
      );
      await assertAbsent(ep('ep-ifmatch-missing'));
      const res = await put(ep('ep-etag'), { ...endpointBody(), tags: { star: 'yes' } }, STABLE, { 'if-match': '*' });
      assert.equal(res.status, 200, describeResponse(res));
      assert.deepEqual(res.body.tags, { star: 'yes' });
      await settle(ep('ep-etag'));
    });

    test('If-None-Match: * on an existing resource → 412; on a missing one → 201', async () => {
      assertArmError(
        await put(ep('ep-etag'), { ...endpointBody(), tags: { none: 'x' } }, STABLE, { 'if-none-match': '*' }),
        412,
        'PreconditionFailed',
      );
      assert.deepEqual((await get(ep('ep-etag'))).body.tags, { star: 'yes' });
      const created = await put(ep('ep-ifnonematch'), endpointBody(), STABLE, { 'if-none-match': '*' });
      assert.equal(created.status, 201, describeResponse(created));
    });

    test('a matching If-Match → 200 on PUT, accepted on PATCH and DELETE', async () => {
      const current = (await get(ep('ep-etag'))).headers.get('etag')!;
      const res = await put(ep('ep-etag'), { ...endpointBody(), tags: { match: 'put' } }, STABLE, {
        'if-match': current,
      });
      assert.equal(res.status, 200, describeResponse(res));
      assert.deepEqual(res.body.tags, { match: 'put' });
      await settle(ep('ep-etag'));
      const next = (await get(ep('ep-etag'))).headers.get('etag')!;
      const patched = await followLocation(
        server,
        await patch(ep('ep-etag'), { tags: { match: 'patch' } }, STABLE, { 'if-match': next }),
      );
      assert.equal(patched.status, 200, describeResponse(patched));
      assert.deepEqual(patched.body.tags, { match: 'patch' });
      await settle(ep('ep-etag'));
      const last = (await get(ep('ep-etag'))).headers.get('etag')!;
      const deleted = await del(ep('ep-etag'), STABLE, { 'if-match': last });
      assertStatus(deleted, 200, 202);
      const done = await followLocation(server, deleted);
      assertStatus(done, 200, 204);
      await assertAbsent(ep('ep-etag'));
    });

    test('PATCH of a missing resource → 404 ResourceNotFound', async () => {
      assertArmError(await patch(ep('ep-patch-missing'), { tags: {} }), 404, 'ResourceNotFound');
      await assertAbsent(ep('ep-patch-missing'));
    });
  });

  describe('request-id headers', () => {
    test('every response carries a fresh x-ms-request-id GUID and a Date', async () => {
      const responses = [
        await get(ep('ep-apiver')),
        await get(ep('ep-ghost')),
        await armFetch(server, 'GET', at(ep('ep-apiver'), STABLE), { token: null }),
        await armFetch(server, 'GET', ep('ep-apiver')),
        await armFetch(server, 'GET', '/health', { token: null }),
        await get(ep('ep-apiver')),
      ];
      const ids = responses.map((r) => r.headers.get('x-ms-request-id') ?? '');
      for (const [i, id] of ids.entries()) {
        assert.match(id, GUID_RE, `response ${i} (status ${responses[i]!.status}) x-ms-request-id`);
        assert.ok(responses[i]!.headers.get('date'), `response ${i} has Date`);
      }
      assert.equal(new Set(ids).size, ids.length, `request ids are unique: ${ids.join(', ')}`);
    });

    test('x-ms-correlation-request-id is echoed, or generated when absent', async () => {
      const sent = randomUUID();
      const echoed = await get(ep('ep-apiver'), STABLE, { 'x-ms-correlation-request-id': sent });
      assert.equal(echoed.headers.get('x-ms-correlation-request-id'), sent);
      const a = (await get(ep('ep-apiver'))).headers.get('x-ms-correlation-request-id') ?? '';
      const b = (await get(ep('ep-apiver'))).headers.get('x-ms-correlation-request-id') ?? '';
      assert.match(a, GUID_RE);
      assert.match(b, GUID_RE);
      assert.notEqual(a, b);
      const errorRes = await get(ep('ep-ghost'), STABLE, { 'x-ms-correlation-request-id': sent });
      assert.equal(errorRes.headers.get('x-ms-correlation-request-id'), sent, 'echoed on errors too');
    });

    test('x-ms-client-request-id is echoed only with x-ms-return-client-request-id: true', async () => {
      const clientId = randomUUID();
      const silent = await get(ep('ep-apiver'), STABLE, { 'x-ms-client-request-id': clientId });
      assert.equal(silent.headers.get('x-ms-client-request-id'), null);
      const echoed = await get(ep('ep-apiver'), STABLE, {
        'x-ms-client-request-id': clientId,
        'x-ms-return-client-request-id': 'true',
      });
      assert.equal(echoed.headers.get('x-ms-client-request-id'), clientId);
    });
  });

  describe('ids and names', () => {
    test('paths compare case-insensitively and the created casing is returned', async () => {
      await createResourceGroup(server, SUB, 'Rg-MixedCase');
      await createWorkspace(server, SUB, 'Rg-MixedCase', 'Ws-MixedCase');
      await putAndWait(
        server,
        endpointPath(SUB, 'Rg-MixedCase', 'Ws-MixedCase', 'Ep-MixedCase'),
        STABLE,
        endpointBody(),
      );
      for (const path of [
        endpointPath(SUB, 'rg-mixedcase', 'ws-mixedcase', 'ep-mixedcase'),
        endpointPath(SUB, 'RG-MIXEDCASE', 'WS-MIXEDCASE', 'EP-MIXEDCASE'),
        endpointPath(SUB, 'Rg-MixedCase', 'Ws-MixedCase', 'Ep-MixedCase')
          .replace('/resourceGroups/', '/resourcegroups/')
          .replace('Microsoft.MachineLearningServices', 'microsoft.machinelearningservices')
          .replace('/serverlessEndpoints/', '/SERVERLESSENDPOINTS/'),
      ]) {
        const res = await get(path);
        assert.equal(res.status, 200, `${path}: ${describeResponse(res)}`);
        assert.equal(res.body.name, 'Ep-MixedCase');
        assert.equal(res.body.type, ENDPOINT_TYPE);
        assert.equal(res.body.id.toLowerCase(), path.toLowerCase());
      }
      const listed = await get(`${workspacePath(SUB, 'rg-mixedcase', 'ws-mixedcase')}/serverlessendpoints`);
      assert.equal(listed.status, 200, describeResponse(listed));
      assert.deepEqual(
        listed.body.value.map((v: any) => v.name),
        ['Ep-MixedCase'],
      );
      const ws = await get(workspacePath(SUB, 'RG-MIXEDCASE', 'ws-mixedcase'));
      assert.equal(ws.body.name, 'Ws-MixedCase');
      const again = await put(endpointPath(SUB, 'rg-mixedcase', 'ws-mixedcase', 'ep-mixedcase'), endpointBody());
      assert.equal(again.status, 200, 'same resource, so a replace, not a second create');
      // ARM-CONTRACT: the casing the user supplied most recently is the one returned.
      assert.equal(again.body.name, 'ep-mixedcase');
      const latest = await get(endpointPath(SUB, 'RG-MIXEDCASE', 'WS-MIXEDCASE', 'EP-MIXEDCASE'));
      assert.equal(latest.body.name, 'ep-mixedcase');
      const relisted = await get(`${workspacePath(SUB, 'Rg-MixedCase', 'Ws-MixedCase')}/serverlessEndpoints`);
      assert.equal(relisted.body.value.length, 1, 'still one endpoint');
    });

    test('a leading double slash (//subscriptions/...) is accepted', async () => {
      const res = await armFetch(server, 'GET', `/${at(ep('ep-apiver'), STABLE)}`);
      assert.equal(res.status, 200, describeResponse(res));
      assert.equal(res.body.name, 'ep-apiver');
      assert.ok(!res.body.id.includes('//'), `id has no double slash: ${res.body.id}`);
      const putRes = await armFetch(server, 'PUT', `/${at(ep('ep-doubleslash'), STABLE)}`, { body: endpointBody() });
      assert.equal(putRes.status, 201, describeResponse(putRes));
      assert.equal(putRes.body.id.toLowerCase(), ep('ep-doubleslash').toLowerCase());
    });
  });

  describe('long-running operations (fast profile)', () => {
    test('PUT 201 carries Azure-AsyncOperation whose status reaches Succeeded', async () => {
      const res = await put(ep('ep-lro-put'), endpointBody());
      assert.equal(res.status, 201, describeResponse(res));
      const statusUrl = res.headers.get('azure-asyncoperation') ?? '';
      assert.equal(new URL(statusUrl).origin, new URL(server.url).origin);
      const done = await pollUntil('operation status to be terminal', async () => {
        const s = await armFetch(server, 'GET', statusUrl);
        assert.equal(s.status, 200, describeResponse(s));
        return ['Succeeded', 'Failed', 'Canceled'].includes(s.body.status) ? s.body : undefined;
      });
      assert.equal(done.status, 'Succeeded');
      assert.ok(Date.parse(done.endTime) >= Date.parse(done.startTime), JSON.stringify(done));
      assert.equal(done.name, String(done.id).split('/').pop());
    });

    test('PATCH → 202 + Location (mfeOperationResults); the Location answers 200 with the updated resource', async () => {
      await createEndpoint('ep-lro-patch');
      const res = await patch(ep('ep-lro-patch'), { tags: { lro: 'patch' } });
      assert.equal(res.status, 202, describeResponse(res));
      assert.equal(res.text, '', '202 has no body');
      const location = res.headers.get('location') ?? '';
      const url = new URL(location);
      assert.equal(url.origin, new URL(server.url).origin, `absolute Location on the server: ${location}`);
      assert.match(
        url.pathname,
        new RegExp(
          `^/subscriptions/${SUB}/providers/Microsoft\\.MachineLearningServices/locations/eastus/mfeOperationResults/[^/]+$`,
          'i',
        ),
      );
      assert.equal(url.searchParams.get('api-version'), STABLE);
      const final = await followLocation(server, res);
      assert.equal(final.status, 200, describeResponse(final));
      assert.equal(final.body.name, 'ep-lro-patch');
      assert.deepEqual(final.body.tags, { lro: 'patch' });
      assert.equal(final.body.properties.provisioningState, 'Succeeded');
      assert.deepEqual((await get(ep('ep-lro-patch'))).body.tags, { lro: 'patch' });
    });

    test('DELETE → 202 + Location; the Location answers 204/200 and the resource is gone', async () => {
      await createEndpoint('ep-lro-delete');
      const res = await del(ep('ep-lro-delete'));
      assert.equal(res.status, 202, describeResponse(res));
      const location = res.headers.get('location') ?? '';
      assert.match(new URL(location).pathname, /\/mfeOperationResults\/[^/]+$/i);
      const final = await followLocation(server, res);
      assertStatus(final, 200, 204);
      assertArmError(await get(ep('ep-lro-delete')), 404, 'ResourceNotFound');
      const again = await del(ep('ep-lro-delete'));
      assert.equal(again.status, 204, `deleting again: ${describeResponse(again)}`);
    });

    test('unknown operation id → 404', async () => {
      const base = `/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/locations/eastus`;
      for (const kind of ['mfeOperationsStatus', 'mfeOperationResults']) {
        const res = await get(`${base}/${kind}/${randomUUID()}`);
        assert.equal(res.status, 404, `${kind}: ${describeResponse(res)}`);
        assert.equal(typeof res.body?.error?.code, 'string');
      }
    });
  });

  describe('long-running operations (realistic profile)', () => {
    let slow: RunningServer;
    const SLOW_SUB = randomUUID();
    const slowEp = (name: string) => endpointPath(SLOW_SUB, 'rg-slow', 'ws-slow', name);

    before(async () => {
      slow = await startTestServer({ profile: 'realistic' });
      await createResourceGroup(slow, SLOW_SUB, 'rg-slow');
      const ws = await armFetch(slow, 'PUT', at(workspacePath(SLOW_SUB, 'rg-slow', 'ws-slow'), STABLE), {
        body: { location: 'eastus', properties: {} },
      });
      assertStatus(ws, 200, 201);
    });
    after(async () => {
      await slow?.close();
    });

    for (const v of API_VERSIONS) {
      test(`${v}: PUT → 201 Creating + Azure-AsyncOperation; status InProgress; a second PUT → 409`, async () => {
        const name = `ep-slow-${v.replace(/[^a-z0-9]/gi, '')}`;
        const res = await armFetch(slow, 'PUT', at(slowEp(name), v), { body: endpointBody() });
        assert.equal(res.status, 201, describeResponse(res));
        assert.equal(res.body.properties.provisioningState, 'Creating');
        assert.equal(res.body.properties.endpointState, 'Creating');
        const asyncOp = res.headers.get('azure-asyncoperation') ?? '';
        const url = new URL(asyncOp);
        assert.equal(url.origin, new URL(slow.url).origin, `absolute Azure-AsyncOperation: ${asyncOp}`);
        assert.match(
          url.pathname,
          new RegExp(
            `^/subscriptions/${SLOW_SUB}/providers/Microsoft\\.MachineLearningServices/locations/eastus/mfeOperationsStatus/[^/]+$`,
            'i',
          ),
        );
        assert.equal(url.searchParams.get('api-version'), v);
        assert.match(res.headers.get('x-ms-async-operation-timeout') ?? '', ISO_DURATION);

        const got = await armFetch(slow, 'GET', at(slowEp(name), v));
        assert.equal(got.status, 200, describeResponse(got));
        assert.equal(got.body.properties.provisioningState, 'Creating');
        assert.equal(got.body.properties.endpointState, 'Creating');

        const status = await armFetch(slow, 'GET', asyncOp);
        assert.equal(status.status, 200, describeResponse(status));
        assert.equal(status.body.status, 'InProgress');
        assert.equal(typeof status.body.id, 'string');
        assert.equal(status.body.name, status.body.id.split('/').pop());
        assert.ok(!Number.isNaN(Date.parse(status.body.startTime)), `startTime: ${status.body.startTime}`);
        assert.notEqual(status.body.name, res.headers.get('x-ms-request-id'), 'operation id is not the request id');

        const conflict = await armFetch(slow, 'PUT', at(slowEp(name), v), {
          body: { ...endpointBody(), tags: { x: '1' } },
        });
        assertArmError(conflict, 409, 'AnotherOperationInProgress');
        assert.equal(String(conflict.body.error.target).toLowerCase(), slowEp(name).toLowerCase());
        const still = await armFetch(slow, 'GET', at(slowEp(name), v));
        assert.equal(still.body.tags?.x, undefined, 'the rejected PUT changed nothing');
      });
    }
  });

  describe('resource groups', () => {
    const rgUrl = (name: string) => at(rgPath(SUB, name), RG_API_VERSION);

    test('PUT 201 then 200, GET, HEAD 204/404, list, DELETE', async () => {
      const created = await armFetch(server, 'PUT', rgUrl('rg-routes'), {
        body: { location: 'westeurope', tags: { a: '1' } },
      });
      assert.equal(created.status, 201, describeResponse(created));
      assert.equal(created.body.name, 'rg-routes');
      assert.equal(created.body.id, rgPath(SUB, 'rg-routes'));
      assert.equal(created.body.location, 'westeurope');
      assert.equal(created.body.properties?.provisioningState, 'Succeeded');
      const replaced = await armFetch(server, 'PUT', rgUrl('rg-routes'), {
        body: { location: 'westeurope', tags: { b: '2' } },
      });
      assert.equal(replaced.status, 200, describeResponse(replaced));
      assert.deepEqual(replaced.body.tags, { b: '2' });
      const got = await armFetch(server, 'GET', rgUrl('rg-routes'));
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.tags, { b: '2' });
      assert.equal((await armFetch(server, 'HEAD', rgUrl('rg-routes'))).status, 204);
      assert.equal((await armFetch(server, 'HEAD', rgUrl('RG-ROUTES'))).status, 204, 'HEAD is case-insensitive');
      assert.equal((await armFetch(server, 'HEAD', rgUrl('rg-absent'))).status, 404);
      assertArmError(await armFetch(server, 'GET', rgUrl('rg-absent')), 404, 'ResourceGroupNotFound');

      const { items } = await listAll(
        (u) => armFetch(server, 'GET', u),
        `${server.url}${at(`/subscriptions/${SUB}/resourcegroups`, RG_API_VERSION)}`,
        new URL(server.url).origin,
      );
      const names = items.map((g) => g.name);
      assert.ok(names.includes('rg-routes'), names.join(', '));
      assert.ok(names.includes(RG), names.join(', '));

      const otherSub = await armFetch(
        server,
        'GET',
        at(`/subscriptions/${randomUUID()}/resourcegroups`, RG_API_VERSION),
      );
      assert.equal(otherSub.status, 200);
      assert.deepEqual(otherSub.body.value, [], 'groups are per subscription');

      const deleted = await armFetch(server, 'DELETE', rgUrl('rg-routes'));
      assertStatus(deleted, 200, 202);
      assertStatus(await followLocation(server, deleted), 200, 204);
      assert.equal((await armFetch(server, 'HEAD', rgUrl('rg-routes'))).status, 404);
      const gone = await armFetch(server, 'DELETE', rgUrl('rg-routes'));
      assert.equal(gone.status, 204, `deleting an absent group: ${describeResponse(gone)}`);
    });
  });

  describe('workspaces', () => {
    const wsUrl = (name: string, rg = RG, v = STABLE) => at(workspacePath(SUB, rg, name), v);

    test('PUT/GET/PATCH/DELETE and lists by group and by subscription', async () => {
      await createResourceGroup(server, SUB, 'rg-ws-routes');
      const created = await armFetch(server, 'PUT', wsUrl('ws-routes', 'rg-ws-routes'), {
        body: { location: 'eastus', properties: {}, tags: { a: '1' } },
      });
      // Azure ML's swagger declares 200 or 202 for a workspace PUT, never 201.
      assert.equal(created.status, 200, describeResponse(created));
      assert.equal(created.body.name, 'ws-routes');
      assert.equal(created.body.type, WORKSPACE_TYPE);
      await pollUntil('workspace to finish', async () => {
        const g = await armFetch(server, 'GET', wsUrl('ws-routes', 'rg-ws-routes'));
        const state = g.body?.properties?.provisioningState;
        return state === undefined || state === 'Succeeded' ? g : undefined;
      });
      const replaced = await armFetch(server, 'PUT', wsUrl('ws-routes', 'rg-ws-routes'), {
        body: { location: 'eastus', properties: {}, tags: { b: '2' } },
      });
      assert.equal(replaced.status, 200, describeResponse(replaced));
      await waitForTerminal(server, workspacePath(SUB, 'rg-ws-routes', 'ws-routes'), STABLE);
      const patched = await followLocation(
        server,
        await armFetch(server, 'PATCH', wsUrl('ws-routes', 'rg-ws-routes'), { body: { tags: { c: '3' } } }),
      );
      assert.equal(patched.status, 200, describeResponse(patched));
      assert.deepEqual(patched.body.tags, { c: '3' });
      const got = await armFetch(server, 'GET', wsUrl('ws-routes', 'rg-ws-routes', PREVIEW));
      assert.equal(got.status, 200, describeResponse(got));
      assert.deepEqual(got.body.tags, { c: '3' });

      const origin = new URL(server.url).origin;
      const byGroup = await listAll(
        (u) => armFetch(server, 'GET', u),
        `${server.url}${at(`${rgPath(SUB, 'rg-ws-routes')}/providers/Microsoft.MachineLearningServices/workspaces`, STABLE)}`,
        origin,
      );
      assert.deepEqual(
        byGroup.items.map((w) => w.name),
        ['ws-routes'],
      );
      const bySub = await listAll(
        (u) => armFetch(server, 'GET', u),
        `${server.url}${at(`/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/workspaces`, STABLE)}`,
        origin,
      );
      const subNames = bySub.items.map((w) => w.name);
      assert.ok(subNames.includes('ws-routes') && subNames.includes(WS), subNames.join(', '));

      const deleted = await armFetch(server, 'DELETE', wsUrl('ws-routes', 'rg-ws-routes'));
      assertStatus(deleted, 200, 202);
      assertStatus(await followLocation(server, deleted), 200, 204);
      assertArmError(await armFetch(server, 'GET', wsUrl('ws-routes', 'rg-ws-routes')), 404, 'ResourceNotFound');
    });

    test(`workspace names follow ${WORKSPACE_NAME_PATTERN}`, async () => {
      for (const name of ['ab', '_abc', '-abc', 'a'.repeat(34), 'has.dot']) {
        const res = await armFetch(server, 'PUT', wsUrl(name), { body: { location: 'eastus', properties: {} } });
        assertArmError(res, 400, 'InvalidResourceName');
        assert.ok(res.body.error.message.includes(WORKSPACE_NAME_PATTERN), res.body.error.message);
      }
      for (const name of ['abc', `a${'b'.repeat(32)}`, '0_ws-x']) {
        const res = await armFetch(server, 'PUT', wsUrl(name), { body: { location: 'eastus', properties: {} } });
        assertStatus(res, 200, 201);
      }
    });
  });
});
