// End-to-end: the official @azure/arm-resources v8 client drives serverless endpoints over HTTPS,
// for every supported api-version; all SDK traffic is recorded and checked against the swagger.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ResourceManagementClient, GenericResource } from '@azure/arm-resources';
import {
  API_VERSIONS,
  ENDPOINT_TYPE,
  GUID_RE,
  MODEL_ID,
  TEST_USER,
  armClient,
  armFetch,
  describeResponse,
  endpointBody,
  endpointPath,
  listAll,
  sdkRequest,
  startTestServer,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';
import type { TrafficRecord } from './support/recorder.js';
import { assertConformant, loadSpecs } from './support/conformance.js';
import { expectRestError } from './support/assertions.js';

const SUB = randomUUID();
const WORKSPACE_API_VERSION = '2025-09-01';

/** The HTTP statuses of the recorded requests matching method + path (case-insensitive), from index `from` on. */
function recordedStatuses(records: TrafficRecord[], method: string, path: string, from = 0): number[] {
  const out: number[] = [];
  for (const r of records.slice(from)) {
    const p = new URL(r.url).pathname.replace(/\/{2,}/g, '/').toLowerCase();
    if (r.method.toUpperCase() === method && p === path.toLowerCase()) out.push(r.status);
  }
  return out;
}

describe('serverless endpoints through @azure/arm-resources v8', () => {
  let server: RunningServer;
  let client: ResourceManagementClient;
  const records: TrafficRecord[] = [];

  before(async () => {
    server = await startTestServer();
    client = armClient(server, SUB, records);
  });
  after(async () => {
    await server?.close();
  });

  for (const apiVersion of API_VERSIONS) {
    describe(`api-version ${apiVersion}`, () => {
      const tag = apiVersion.replace(/[^a-z0-9]/gi, '');
      const rg = `rg-e2e-${tag}`;
      const ws = `ws-e2e-${tag}`;
      const id = (name: string, w = ws, g = rg) => endpointPath(SUB, g, w, name);
      const listUrl = (w = ws) =>
        `${server.url}${withApiVersion(`${workspacePath(SUB, rg, w)}/serverlessEndpoints`, apiVersion)}`;
      const action = (name: string, verb: string) =>
        `${server.url}${withApiVersion(`${id(name)}/${verb}`, apiVersion)}`;
      let created: GenericResource;

      async function postAction(name: string, verb: string, body?: unknown): Promise<any> {
        let res = await sdkRequest(client, 'POST', action(name, verb), body);
        if (res.status === 202) {
          const location = res.headers.get('location');
          assert.ok(location, `202 from ${verb} without Location`);
          const deadline = Date.now() + 5000;
          while (res.status === 202 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 25));
            res = await sdkRequest(client, 'GET', location);
          }
        }
        assert.equal(res.status, 200, `POST ${verb}: ${describeResponse(res)}`);
        return res.body;
      }

      before(async () => {
        const group = await client.resourceGroups.createOrUpdate(rg, { location: 'eastus', tags: { suite: 'e2e' } });
        assert.equal(group.name, rg);
        assert.equal(group.properties?.provisioningState, 'Succeeded');
        const workspace = await client.resources.beginCreateOrUpdateByIdAndWait(
          workspacePath(SUB, rg, ws),
          WORKSPACE_API_VERSION,
          { location: 'eastus', properties: {} },
        );
        assert.equal(workspace.name, ws);
      });

      test('PUT creates an endpoint (201 + LRO) that ends Succeeded/Online', async () => {
        const from = records.length;
        created = await client.resources.beginCreateOrUpdateByIdAndWait(id('ep-one'), apiVersion, endpointBody());
        assert.deepEqual(recordedStatuses(records, 'PUT', id('ep-one'), from), [201], 'the first PUT answers 201');
        assert.equal(created.id?.toLowerCase(), id('ep-one').toLowerCase());
        assert.equal(created.name, 'ep-one');
        assert.equal(created.type, ENDPOINT_TYPE);
        assert.equal(created.location, 'eastus');
        assert.equal(created.sku?.name, 'Consumption');
        const props = created.properties as any;
        assert.equal(props.provisioningState, 'Succeeded');
        assert.equal(props.endpointState, 'Online');
        assert.equal(props.authMode, 'Key');
        assert.equal(props.modelSettings?.modelId, MODEL_ID);
        const uri = new URL(props.inferenceEndpoint?.uri);
        assert.equal(uri.protocol, 'https:');
        assert.equal(uri.hostname, new URL(server.url).hostname, 'inference URI on the server host');
        assert.equal(created.systemData?.createdByType, 'User');
        assert.equal(created.systemData?.createdBy, TEST_USER.upn);
        assert.equal(created.systemData?.lastModifiedByType, 'User');
        assert.equal(created.systemData?.lastModifiedBy, TEST_USER.upn);
        assert.ok(
          created.systemData?.createdAt instanceof Date && !Number.isNaN(created.systemData.createdAt.getTime()),
        );
      });

      test('each endpoint gets its own inference URI', async () => {
        const second = await client.resources.beginCreateOrUpdateByIdAndWait(id('ep-two'), apiVersion, endpointBody());
        const a = (created.properties as any).inferenceEndpoint.uri;
        const b = (second.properties as any).inferenceEndpoint.uri;
        assert.notEqual(a, b);
        assert.equal(new URL(b).protocol, 'https:');
      });

      test('PUT on an existing endpoint replaces it with 200 and keeps createdAt', async () => {
        const from = records.length;
        const replaced = await client.resources.beginCreateOrUpdateByIdAndWait(id('ep-one'), apiVersion, {
          ...endpointBody(),
          tags: { replaced: 'yes' },
        });
        assert.deepEqual(recordedStatuses(records, 'PUT', id('ep-one'), from), [200], 'a replacing PUT answers 200');
        assert.deepEqual(replaced.tags, { replaced: 'yes' });
        assert.equal((replaced.properties as any).provisioningState, 'Succeeded');
        assert.equal(replaced.systemData?.createdAt?.getTime(), created.systemData?.createdAt?.getTime());
        assert.ok(replaced.systemData!.lastModifiedAt!.getTime() >= created.systemData!.lastModifiedAt!.getTime());
        assert.equal(
          (replaced.properties as any).inferenceEndpoint?.uri,
          (created.properties as any).inferenceEndpoint?.uri,
          'replacing does not move the inference endpoint',
        );
      });

      test('getById returns the stored endpoint', async () => {
        const got = await client.resources.getById(id('ep-one'), apiVersion);
        assert.equal(got.id?.toLowerCase(), id('ep-one').toLowerCase());
        assert.equal(got.name, 'ep-one');
        assert.equal(got.type, ENDPOINT_TYPE);
        assert.deepEqual(got.tags, { replaced: 'yes' });
        assert.equal((got.properties as any).provisioningState, 'Succeeded');
        assert.equal((got.properties as any).endpointState, 'Online');
        assert.equal((got.properties as any).modelSettings?.modelId, MODEL_ID);
        assert.equal(got.systemData?.createdBy, TEST_USER.upn);
      });

      test('checkExistenceById is true for an endpoint and false for a missing one', async () => {
        assert.deepEqual(await client.resources.checkExistenceById(id('ep-one'), apiVersion), { body: true });
        assert.deepEqual(await client.resources.checkExistenceById(id('ep-missing'), apiVersion), { body: false });
      });

      test('getById of a missing endpoint → 404 ResourceNotFound', async () => {
        await expectRestError(client.resources.getById(id('ep-missing'), apiVersion), 404, 'ResourceNotFound');
      });

      test('PATCH replaces tags wholesale and patches sku, keeping properties', async () => {
        const first = await client.resources.beginUpdateByIdAndWait(id('ep-one'), apiVersion, {
          tags: { a: '1', b: '2' },
          sku: { name: 'Consumption', capacity: 2 },
        });
        assert.deepEqual(first.tags, { a: '1', b: '2' });
        assert.equal(first.sku?.name, 'Consumption');
        assert.equal(first.sku?.capacity, 2);
        const second = await client.resources.beginUpdateByIdAndWait(id('ep-one'), apiVersion, { tags: { c: '3' } });
        assert.deepEqual(second.tags, { c: '3' }, 'tags are replaced, not merged');
        assert.equal(second.sku?.capacity, 2, 'sku untouched when omitted');
        assert.equal(second.location, 'eastus');
        assert.equal((second.properties as any).authMode, 'Key');
        assert.equal((second.properties as any).modelSettings?.modelId, MODEL_ID);
        assert.equal((second.properties as any).provisioningState, 'Succeeded');
        assert.equal(second.systemData?.createdAt?.getTime(), created.systemData?.createdAt?.getTime());
        const got = await client.resources.getById(id('ep-one'), apiVersion);
        assert.deepEqual(got.tags, { c: '3' });
      });

      test('PATCH identity: SystemAssigned, then UserAssigned, then None', async () => {
        const sys = await client.resources.beginUpdateByIdAndWait(id('ep-one'), apiVersion, {
          identity: { type: 'SystemAssigned' },
        });
        assert.equal(sys.identity?.type, 'SystemAssigned');
        assert.match(sys.identity?.principalId ?? '', GUID_RE);
        assert.equal(sys.identity?.tenantId, TEST_USER.tid, 'tenantId is the caller tenant');
        const principalId = sys.identity!.principalId;

        const tagsOnly = await client.resources.beginUpdateByIdAndWait(id('ep-one'), apiVersion, { tags: { d: '4' } });
        assert.equal(tagsOnly.identity?.type, 'SystemAssigned', 'identity kept when the PATCH omits it');
        assert.equal(tagsOnly.identity?.principalId, principalId, 'the system-assigned principal is stable');

        const uaiId = `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-${tag}`;
        const user = await client.resources.beginUpdateByIdAndWait(id('ep-one'), apiVersion, {
          identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiId]: {} } },
        });
        assert.equal(user.identity?.type, 'UserAssigned');
        const entries = Object.entries(user.identity?.userAssignedIdentities ?? {});
        assert.equal(entries.length, 1, `one user-assigned identity: ${JSON.stringify(user.identity)}`);
        assert.equal(entries[0]![0].toLowerCase(), uaiId.toLowerCase(), 'keyed by the identity resource id');
        assert.match(entries[0]![1].clientId ?? '', GUID_RE);
        assert.match(entries[0]![1].principalId ?? '', GUID_RE);
        assert.equal(user.identity?.principalId, undefined, 'no system-assigned principal for UserAssigned');

        const none = await client.resources.beginUpdateByIdAndWait(id('ep-one'), apiVersion, {
          identity: { type: 'None' },
        });
        assert.ok(none.identity === undefined || none.identity.type === 'None', JSON.stringify(none.identity));
        assert.equal(none.identity?.principalId, undefined);
        assert.equal(Object.keys(none.identity?.userAssignedIdentities ?? {}).length, 0);
        const got = await client.resources.getById(id('ep-one'), apiVersion);
        assert.ok(got.identity === undefined || got.identity.type === 'None', JSON.stringify(got.identity));
      });

      test('list returns the endpoints of the workspace', async () => {
        const { items } = await listAll((u) => sdkRequest(client, 'GET', u), listUrl(), new URL(server.url).origin);
        const names = items.map((i) => i.name).sort();
        assert.deepEqual(names, ['ep-one', 'ep-two']);
        for (const item of items) {
          assert.equal(item.type, ENDPOINT_TYPE);
          assert.equal(item.properties?.provisioningState, 'Succeeded');
        }
      });

      test('list pages with absolute nextLinks over more than 100 endpoints', async () => {
        const pagingWs = `ws-paging-${tag}`;
        await client.resources.beginCreateOrUpdateByIdAndWait(workspacePath(SUB, rg, pagingWs), WORKSPACE_API_VERSION, {
          location: 'eastus',
          properties: {},
        });
        const total = 105;
        const names = Array.from({ length: total }, (_, i) => `page-ep-${String(i).padStart(3, '0')}`);
        const concurrency = 8;
        for (let i = 0; i < names.length; i += concurrency) {
          await Promise.all(
            names.slice(i, i + concurrency).map(async (n) => {
              const res = await armFetch(server, 'PUT', withApiVersion(id(n, pagingWs), apiVersion), {
                body: endpointBody(),
              });
              assert.equal(res.status, 201, `PUT ${n}: ${describeResponse(res)}`);
            }),
          );
        }
        const origin = new URL(server.url).origin;
        const { items, pages, nextLinks } = await listAll(
          (u) => sdkRequest(client, 'GET', u),
          listUrl(pagingWs),
          origin,
        );
        assert.ok(pages >= 2, `expected several pages for ${total} endpoints, got ${pages}`);
        for (const link of nextLinks) assert.equal(new URL(link).origin, origin);
        const listed = items.map((i) => i.name);
        assert.equal(new Set(listed).size, listed.length, 'no endpoint listed twice');
        assert.deepEqual([...listed].sort(), [...names].sort());
      });

      test('listKeys returns two distinct non-empty keys', async () => {
        const keys = await postAction('ep-one', 'listKeys');
        assert.equal(typeof keys.primaryKey, 'string');
        assert.equal(typeof keys.secondaryKey, 'string');
        assert.ok(keys.primaryKey.length > 0 && keys.secondaryKey.length > 0);
        assert.notEqual(keys.primaryKey, keys.secondaryKey);
        const other = await postAction('ep-two', 'listKeys');
        assert.notEqual(other.primaryKey, keys.primaryKey, 'keys differ between endpoints');
      });

      test('regenerateKeys Primary / Secondary, with and without keyValue', async () => {
        const initial = await postAction('ep-one', 'listKeys');

        const afterPrimary = await postAction('ep-one', 'regenerateKeys', { keyType: 'Primary' });
        assert.equal(typeof afterPrimary.primaryKey, 'string');
        assert.ok(afterPrimary.primaryKey.length > 0);
        assert.notEqual(afterPrimary.primaryKey, initial.primaryKey, 'a new primary key');
        assert.equal(afterPrimary.secondaryKey, initial.secondaryKey, 'secondary unchanged');
        assert.notEqual(afterPrimary.secondaryKey, initial.primaryKey, 'old primary gone');
        assert.deepEqual(await postAction('ep-one', 'listKeys'), afterPrimary);

        const chosen = `chosen-secondary-${tag}-${randomUUID()}`;
        const afterSecondary = await postAction('ep-one', 'regenerateKeys', { keyType: 'Secondary', keyValue: chosen });
        assert.equal(afterSecondary.secondaryKey, chosen);
        assert.equal(afterSecondary.primaryKey, afterPrimary.primaryKey, 'primary unchanged');
        const listed = await postAction('ep-one', 'listKeys');
        assert.deepEqual(listed, afterSecondary);
        assert.ok(![listed.primaryKey, listed.secondaryKey].includes(initial.secondaryKey), 'old secondary gone');

        const chosenPrimary = `chosen-primary-${tag}-${randomUUID()}`;
        const afterPrimaryValue = await postAction('ep-one', 'regenerateKeys', {
          keyType: 'Primary',
          keyValue: chosenPrimary,
        });
        assert.equal(afterPrimaryValue.primaryKey, chosenPrimary);
        assert.equal(afterPrimaryValue.secondaryKey, chosen);
        const secondRegen = await postAction('ep-one', 'regenerateKeys', { keyType: 'Secondary' });
        assert.notEqual(secondRegen.secondaryKey, chosen);
        assert.ok(secondRegen.secondaryKey.length > 0);
        assert.equal(secondRegen.primaryKey, chosenPrimary);
      });

      if (apiVersion === '2026-03-15-preview') {
        test('preview: authMode AAD and KeyAndAAD are accepted', async () => {
          for (const authMode of ['AAD', 'KeyAndAAD']) {
            const name = `ep-${authMode.toLowerCase()}`;
            const res = await client.resources.beginCreateOrUpdateByIdAndWait(
              id(name),
              apiVersion,
              endpointBody({ authMode }),
            );
            assert.equal((res.properties as any).authMode, authMode);
            assert.equal((res.properties as any).provisioningState, 'Succeeded');
            const got = await client.resources.getById(id(name), apiVersion);
            assert.equal((got.properties as any).authMode, authMode);
          }
        });

        test('preview: contentSafety with contentSafetyLevel round-trips', async () => {
          const contentSafety = { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Deferred' };
          const res = await client.resources.beginCreateOrUpdateByIdAndWait(
            id('ep-safety'),
            apiVersion,
            endpointBody({ contentSafety }),
          );
          assert.deepEqual((res.properties as any).contentSafety, contentSafety);
          const got = await client.resources.getById(id('ep-safety'), apiVersion);
          assert.deepEqual((got.properties as any).contentSafety, contentSafety);
        });
      } else {
        // The stable swagger lists Key only, in an open enum (modelAsString): any string is taken, nothing else is.
        test('stable: authMode is an open enum; a non-string → 400 InvalidRequestContent, nothing created', async () => {
          await expectRestError(
            client.resources.beginCreateOrUpdateByIdAndWait(
              id('ep-aad'),
              apiVersion,
              endpointBody({ authMode: 7 as unknown as string }),
            ),
            400,
            'InvalidRequestContent',
          );
          assert.deepEqual(await client.resources.checkExistenceById(id('ep-aad'), apiVersion), { body: false });
        });
      }

      test('beginDeleteByIdAndWait removes the endpoint; getById → 404 ResourceNotFound', async () => {
        await client.resources.beginDeleteByIdAndWait(id('ep-two'), apiVersion);
        await expectRestError(client.resources.getById(id('ep-two'), apiVersion), 404, 'ResourceNotFound');
        assert.deepEqual(await client.resources.checkExistenceById(id('ep-two'), apiVersion), { body: false });
        const { items } = await listAll((u) => sdkRequest(client, 'GET', u), listUrl(), new URL(server.url).origin);
        assert.ok(!items.some((i) => i.name === 'ep-two'), 'deleted endpoint no longer listed');
        assert.ok(
          items.some((i) => i.name === 'ep-one'),
          'other endpoints untouched',
        );
      });

      test('deleting an absent endpoint → 204', async () => {
        const res = await sdkRequest(client, 'DELETE', `${server.url}${withApiVersion(id('ep-never'), apiVersion)}`);
        assert.equal(res.status, 204, describeResponse(res));
        await client.resources.beginDeleteByIdAndWait(id('ep-never'), apiVersion);
      });

      test('deleting a workspace cascades to its endpoints', async () => {
        const doomed = `ws-doomed-${tag}`;
        await client.resources.beginCreateOrUpdateByIdAndWait(workspacePath(SUB, rg, doomed), WORKSPACE_API_VERSION, {
          location: 'eastus',
          properties: {},
        });
        for (const n of ['child-a', 'child-b']) {
          await client.resources.beginCreateOrUpdateByIdAndWait(id(n, doomed), apiVersion, endpointBody());
        }
        await client.resources.beginDeleteByIdAndWait(workspacePath(SUB, rg, doomed), WORKSPACE_API_VERSION);
        await expectRestError(client.resources.getById(workspacePath(SUB, rg, doomed), WORKSPACE_API_VERSION), 404);
        for (const n of ['child-a', 'child-b']) {
          await expectRestError(client.resources.getById(id(n, doomed), apiVersion), 404, 'ParentResourceNotFound');
        }
        // A new workspace with the same name starts empty: the children were really deleted.
        await client.resources.beginCreateOrUpdateByIdAndWait(workspacePath(SUB, rg, doomed), WORKSPACE_API_VERSION, {
          location: 'eastus',
          properties: {},
        });
        const { items } = await listAll(
          (u) => sdkRequest(client, 'GET', u),
          listUrl(doomed),
          new URL(server.url).origin,
        );
        assert.deepEqual(items, []);
        await expectRestError(client.resources.getById(id('child-a', doomed), apiVersion), 404, 'ResourceNotFound');
      });

      test('deleting the resource group removes everything inside', async () => {
        await client.resourceGroups.beginDeleteAndWait(rg);
        assert.deepEqual(await client.resourceGroups.checkExistence(rg), { body: false });
        await expectRestError(client.resourceGroups.get(rg), 404, 'ResourceGroupNotFound');
        await expectRestError(client.resources.getById(id('ep-one'), apiVersion), 404, 'ResourceGroupNotFound');
        await expectRestError(
          client.resources.getById(workspacePath(SUB, rg, ws), WORKSPACE_API_VERSION),
          404,
          'ResourceGroupNotFound',
        );
        // Recreate the group and workspace: nothing from before comes back.
        await client.resourceGroups.createOrUpdate(rg, { location: 'eastus' });
        await client.resources.beginCreateOrUpdateByIdAndWait(workspacePath(SUB, rg, ws), WORKSPACE_API_VERSION, {
          location: 'eastus',
          properties: {},
        });
        const { items } = await listAll((u) => sdkRequest(client, 'GET', u), listUrl(), new URL(server.url).origin);
        assert.deepEqual(items, []);
        await client.resourceGroups.beginDeleteAndWait(rg);
        assert.deepEqual(await client.resourceGroups.checkExistence(rg), { body: false });
        const groups: string[] = [];
        for await (const g of client.resourceGroups.list()) groups.push(g.name ?? '');
        assert.ok(
          !groups.some((g) => g.toLowerCase() === rg.toLowerCase()),
          `group still listed: ${groups.join(', ')}`,
        );
      });
    });
  }

  test('recorded SDK traffic conforms to the Azure ML swagger', (t) => {
    assert.ok(records.length > 0, 'traffic was recorded');
    if (loadSpecs() === undefined) {
      t.skip('swagger specs not found (../shared/specs or $AMLITE_SHARED_DIR/specs): conformance not checked');
      return;
    }
    // HEAD (checkExistenceById) is answered by ARM itself and is not part of the provider's swagger.
    const { covered } = assertConformant(records.filter((r) => r.method !== 'HEAD'));
    for (const op of [
      'ServerlessEndpoints_CreateOrUpdate',
      'ServerlessEndpoints_Get',
      'ServerlessEndpoints_Update',
      'ServerlessEndpoints_List',
      'ServerlessEndpoints_ListKeys',
      'ServerlessEndpoints_RegenerateKeys',
      'ServerlessEndpoints_Delete',
    ]) {
      assert.ok(covered.has(op), `conformance covered ${op} (covered: ${[...covered].join(', ')})`);
    }
  });
});
