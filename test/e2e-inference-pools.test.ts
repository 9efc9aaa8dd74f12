// End-to-end: the official @azure/arm-resources client drives inference pools, their groups and endpoints over HTTPS
// (2026-03-15-preview); all SDK traffic is recorded and checked against the swagger subset.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ResourceManagementClient } from '@azure/arm-resources';
import {
  GUID_RE,
  TEST_USER,
  armClient,
  armFetch,
  describeResponse,
  freshDataDir,
  listAll,
  sdkRequest,
  startTestServer,
  withApiVersion,
  workspacePath,
  type FetchOptions,
  type FetchResult,
  type RunningServer,
} from './support/harness.js';
import type { TrafficRecord } from './support/recorder.js';
import { assertConformant, loadSpecs } from './support/conformance.js';
import { expectRestError } from './support/assertions.js';

const API = '2026-03-15-preview';
const POOL_TYPE = 'Microsoft.MachineLearningServices/workspaces/inferencePools';
const BASE_MODEL = 'azureml://registries/test-registry/models/modelabc/versions/1';
const SUB = randomUUID();
const RG = 'rg-pools';
const WS = 'ws-pools';

const ws = workspacePath(SUB, RG, WS);
const poolId = (p: string) => `${ws}/inferencePools/${p}`;
const groupId = (p: string, g: string) => `${poolId(p)}/groups/${g}`;
const endpointId = (p: string, e: string) => `${poolId(p)}/endpoints/${e}`;

const poolBody = (properties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  location: 'eastus',
  sku: { name: 'S1', tier: 'Standard', capacity: 1 },
  properties: {
    description: 'a pool',
    properties: [{ key: 'team', value: 'nlp' }],
    scaleUnitConfiguration: { registries: ['azureml'] },
    ...properties,
  },
  ...extra,
});

const groupBody = (properties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  location: 'eastus',
  sku: { name: 'Standard_NC24ads_A100_v4', capacity: 2 },
  properties: {
    nodeSkuType: 'Standard_NC24ads_A100_v4',
    scaleUnitSize: 1,
    modelConfiguration: { modelId: BASE_MODEL },
    environmentConfiguration: {
      environmentId: 'azureml://registries/test-registry/environments/enginefeed/versions/1',
      livenessProbe: { failureThreshold: 5, initialDelay: 'PT1M' },
    },
    ...properties,
  },
  ...extra,
});

const endpointBody = (groupName: string, properties: Record<string, unknown> = {}) => ({
  location: 'eastus',
  properties: { authMode: 'AAD', groupName, ...properties },
});

function recorded(records: TrafficRecord[], method: string, path: string, from = 0): TrafficRecord[] {
  return records
    .slice(from)
    .filter(
      (r) =>
        r.method === method && new URL(r.url).pathname.replace(/\/{2,}/g, '/').toLowerCase() === path.toLowerCase(),
    );
}

/** armFetch that also records the exchange for the conformance check. */
async function rawFetch(
  records: TrafficRecord[],
  server: { url: string },
  method: string,
  path: string,
  options?: FetchOptions,
): Promise<FetchResult> {
  const res = await armFetch(server, method, path, options);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    headers[name] = value;
  });
  records.push({
    method,
    url: /^https:/.test(path) ? path : `${server.url}${path}`,
    requestBody: options?.body,
    status: res.status,
    headers,
    body: res.body,
  });
  return res;
}

describe('inference pools through @azure/arm-resources', () => {
  let server: RunningServer;
  let client: ResourceManagementClient;
  const records: TrafficRecord[] = [];
  const url = (path: string, query = '') => `${server.url}${withApiVersion(path, API)}${query}`;
  const sdk = (method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, query = '') =>
    sdkRequest(client, method, /^https:/.test(path) ? path : url(path, query), body);
  const names = (body: { value: { name: string }[] }) => body.value.map((v) => v.name);

  /** POSTs an action; a 202 is followed through its Location until it stops answering 202. */
  async function postAction(
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any; accepted?: { headers: any } }> {
    const first = await sdk('POST', path, body);
    if (first.status !== 202) return first;
    const location = first.headers.get('location');
    assert.ok(location, '202 without Location');
    for (let i = 0; i < 100; i++) {
      const next = await sdkRequest(client, 'GET', location);
      if (next.status !== 202) return { ...next, accepted: first };
      await new Promise((r) => setTimeout(r, 20));
    }
    return assert.fail(`action ${path} did not finish`);
  }

  before(async () => {
    server = await startTestServer();
    client = armClient(server, SUB, records);
    await client.resourceGroups.createOrUpdate(RG, { location: 'eastus' });
    await client.resources.beginCreateOrUpdateByIdAndWait(ws, API, { location: 'eastus', properties: {} });
  });
  after(async () => {
    await server?.close();
  });

  describe('pools', () => {
    test('PUT creates a pool: 201 + Azure-AsyncOperation, then Succeeded with defaults filled in', async () => {
      const from = records.length;
      const pool = await client.resources.beginCreateOrUpdateByIdAndWait(
        poolId('pool-a'),
        API,
        poolBody(
          {},
          {
            kind: 'ScaleUnit',
            identity: { type: 'SystemAssigned' },
          },
        ),
      );
      const [put] = recorded(records, 'PUT', poolId('pool-a'), from);
      assert.equal(put.status, 201);
      assert.match(put.headers['azure-asyncoperation'] ?? '', /^https:\/\/127\.0\.0\.1:\d+\/.*mfeOperationsStatus\//);
      assert.equal(put.headers['x-ms-async-operation-timeout'], 'PT1H');
      assert.equal((put.body as any).properties.provisioningState, 'Creating');
      assert.equal(pool.id, poolId('pool-a'));
      assert.equal(pool.name, 'pool-a');
      assert.equal(pool.type, POOL_TYPE);
      assert.equal(pool.kind, 'ScaleUnit');
      assert.match(pool.identity?.principalId ?? '', GUID_RE);
      const props = pool.properties as any;
      assert.equal(props.provisioningState, 'Succeeded');
      assert.deepEqual(props.scaleUnitConfiguration, { registries: ['azureml'], disablePublicEgress: false });
      assert.deepEqual(props.properties, [{ key: 'team', value: 'nlp' }]);
      assert.equal(pool.systemData?.createdBy, TEST_USER.upn);
    });

    test('PUT on an existing pool answers 200; properties entries can be added, unknown fields are dropped', async () => {
      const from = records.length;
      const pool = await client.resources.beginCreateOrUpdateByIdAndWait(
        poolId('pool-a'),
        API,
        poolBody({
          properties: [
            { key: 'team', value: 'nlp' },
            { key: 'cost-center', value: '42' },
          ],
          scaleUnitConfiguration: { disablePublicEgress: true, registries: null },
          unknownField: 'dropped',
        }),
      );
      assert.deepEqual(
        recorded(records, 'PUT', poolId('pool-a'), from).map((r) => r.status),
        [200],
      );
      const props = pool.properties as any;
      assert.equal(props.properties.length, 2);
      assert.equal(props.scaleUnitConfiguration.disablePublicEgress, true);
      assert.equal(props.unknownField, undefined);
      assert.ok(!('identity' in pool) || pool.identity === undefined, 'a replacing PUT without identity drops it');
    });

    test('an existing properties entry can be neither removed nor changed (400 naming the key)', async () => {
      const changed = await sdk(
        'PUT',
        poolId('pool-a'),
        poolBody({
          properties: [
            { key: 'team', value: 'vision' },
            { key: 'cost-center', value: '42' },
          ],
        }),
      );
      assert.equal(changed.status, 400, describeResponse(changed));
      assert.match(changed.body.error.message, /'team'/);
      assert.equal(changed.body.error.target, 'properties.properties');
      const removed = await sdk('PUT', poolId('pool-a'), poolBody({ properties: [{ key: 'team', value: 'nlp' }] }));
      assert.equal(removed.status, 400, describeResponse(removed));
      assert.match(removed.body.error.message, /'cost-center'.*cannot be removed/);
      const omitted = await sdk('PUT', poolId('pool-a'), poolBody({ properties: undefined }));
      assert.equal(omitted.status, 400, describeResponse(omitted));
      const got = await client.resources.getById(poolId('pool-a'), API);
      assert.equal((got.properties as any).properties.length, 2, 'the failed requests changed nothing');
    });

    test('GET, checkExistence and 404 for a missing pool', async () => {
      const got = await client.resources.getById(poolId('pool-a'), API);
      assert.equal(got.name, 'pool-a');
      assert.equal((got.properties as any).provisioningState, 'Succeeded');
      assert.deepEqual(await client.resources.checkExistenceById(poolId('pool-a'), API), { body: true });
      assert.deepEqual(await client.resources.checkExistenceById(poolId('nope'), API), { body: false });
      await expectRestError(client.resources.getById(poolId('nope'), API), 404, 'ResourceNotFound');
    });

    test('PATCH (tags, sku, identity) answers 202 + Location; the Location URL gives the updated pool', async () => {
      const from = records.length;
      const uai = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-pool`;
      const pool = await client.resources.beginUpdateByIdAndWait(poolId('pool-a'), API, {
        tags: { env: 'dev' },
        sku: { capacity: 3 },
        identity: { type: 'UserAssigned', userAssignedIdentities: { [uai]: {} } },
      });
      const [patch] = recorded(records, 'PATCH', poolId('pool-a'), from);
      assert.equal(patch.status, 202);
      assert.equal(patch.body, undefined);
      const location = patch.headers.location;
      assert.match(
        location ?? '',
        /^https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*\/mfeOperationResults\/.*api-version=/,
      );
      assert.match(patch.headers['retry-after'] ?? '', /^\d+$/);
      assert.equal(patch.headers['x-ms-async-operation-timeout'], 'PT1H');
      const polls = records.slice(from).filter((r) => r.url === location);
      assert.equal(polls.at(-1)?.status, 200, 'the Location URL answers 200 when done');
      assert.deepEqual((polls.at(-1)?.body as any).tags, { env: 'dev' });
      assert.deepEqual(pool.tags, { env: 'dev' });
      assert.deepEqual([pool.sku?.name, pool.sku?.tier, pool.sku?.capacity], ['S1', 'Standard', 3]);
      assert.equal(pool.identity?.type, 'UserAssigned');
      assert.equal((pool.properties as any).provisioningState, 'Succeeded');
      assert.equal((pool.properties as any).description, 'a pool');
    });

    test('raw PATCH: the Location URL answers 200 with the updated pool (fast profile)', async () => {
      const res = await rawFetch(records, server, 'PATCH', withApiVersion(poolId('pool-a'), API), {
        body: { tags: { env: 'test' } },
      });
      assert.equal(res.status, 202, describeResponse(res));
      assert.equal(res.text, '');
      const done = await rawFetch(records, server, 'GET', res.headers.get('location')!);
      assert.equal(done.status, 200, describeResponse(done));
      assert.equal(done.body.name, 'pool-a');
      assert.deepEqual(done.body.tags, { env: 'test' });
      assert.equal(done.body.properties.provisioningState, 'Succeeded');
      const noSku = await rawFetch(records, server, 'PATCH', withApiVersion(poolId('pool-a'), API), {
        body: { sku: null },
      });
      assert.equal(noSku.status, 400, describeResponse(noSku));
      assert.equal(noSku.body.error.target, 'sku');
    });

    test('name patterns are enforced', async () => {
      for (const bad of ['-leading-dash', 'has.dot', `a${'b'.repeat(255)}`]) {
        const res = await sdk('PUT', poolId(bad), poolBody());
        assert.equal(res.status, 400, `${bad}: ${describeResponse(res)}`);
        assert.equal(res.body.error.code, 'InvalidResourceName');
      }
      const longest = `a${'b'.repeat(254)}`;
      const ok = await sdk('PUT', poolId(longest), poolBody());
      assert.equal(ok.status, 201, describeResponse(ok));
      await client.resources.beginDeleteByIdAndWait(poolId(longest), API);
    });

    test('invalid bodies → 400 InvalidRequestContent with a JSON-path target', async () => {
      const noProps = await sdk('PUT', poolId('pool-x'), { location: 'eastus' });
      assert.equal(noProps.status, 400);
      assert.equal(noProps.body.error.target, 'properties');
      const badEgress = await sdk(
        'PUT',
        poolId('pool-x'),
        poolBody({ scaleUnitConfiguration: { disablePublicEgress: 'yes' } }),
      );
      assert.equal(badEgress.status, 400);
      assert.match(badEgress.body.error.target, /^properties\.scaleUnitConfiguration/);
      const missing = await sdk('PATCH', poolId('pool-missing'), { tags: {} });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'ResourceNotFound');
    });
  });

  describe('groups', () => {
    before(async () => {
      await client.resources.beginCreateOrUpdateByIdAndWait(poolId('pool-b'), API, poolBody());
    });

    test('PUT creates a group with probe defaults filled in', async () => {
      const from = records.length;
      const group = await client.resources.beginCreateOrUpdateByIdAndWait(
        groupId('pool-a', 'group-1'),
        API,
        groupBody(),
      );
      assert.deepEqual(
        recorded(records, 'PUT', groupId('pool-a', 'group-1'), from).map((r) => r.status),
        [201],
      );
      assert.equal(group.type, `${POOL_TYPE}/groups`);
      const props = group.properties as any;
      assert.equal(props.provisioningState, 'Succeeded');
      assert.equal(props.nodeSkuType, 'Standard_NC24ads_A100_v4');
      assert.equal(props.scaleUnitSize, 1);
      assert.deepEqual(props.modelConfiguration, { modelId: BASE_MODEL });
      const env = props.environmentConfiguration;
      assert.deepEqual(env.livenessProbe, {
        failureThreshold: 5,
        initialDelay: 'PT1M',
        period: 'PT10S',
        successThreshold: 1,
        timeout: 'PT2S',
      });
      for (const p of ['readinessProbe', 'startupProbe']) {
        assert.deepEqual(env[p], { failureThreshold: 30, period: 'PT10S', successThreshold: 1, timeout: 'PT2S' }, p);
      }
      const bare = await client.resources.beginCreateOrUpdateByIdAndWait(groupId('pool-a', 'group-2'), API, {
        location: 'eastus',
        properties: {},
      });
      assert.deepEqual(Object.keys((bare.properties as any).environmentConfiguration).sort(), [
        'livenessProbe',
        'readinessProbe',
        'startupProbe',
      ]);
    });

    test('invalid group bodies and names → 400', async () => {
      const badDuration = await sdk(
        'PUT',
        groupId('pool-a', 'group-x'),
        groupBody({ environmentConfiguration: { startupProbe: { period: '10 seconds' } } }),
      );
      assert.equal(badDuration.status, 400, describeResponse(badDuration));
      assert.match(badDuration.body.error.target, /^properties\.environmentConfiguration/);
      const badSize = await sdk('PUT', groupId('pool-a', 'group-x'), groupBody({ scaleUnitSize: 0 }));
      assert.equal(badSize.status, 400, describeResponse(badSize));
      const badName = await sdk('PUT', groupId('pool-a', '_group'), groupBody());
      assert.equal(badName.status, 400);
      assert.equal(badName.body.error.code, 'InvalidResourceName');
      const noPool = await sdk('PUT', groupId('pool-none', 'group-1'), groupBody());
      assert.equal(noPool.status, 404);
      assert.equal(noPool.body.error.code, 'ParentResourceNotFound');
    });

    test('GET and PATCH (tags and sku; identity is not part of a group PATCH)', async () => {
      const from = records.length;
      const group = await client.resources.beginUpdateByIdAndWait(groupId('pool-a', 'group-1'), API, {
        tags: { tier: 'gold' },
        sku: { capacity: 4 },
        identity: { type: 'SystemAssigned' },
      });
      assert.equal(recorded(records, 'PATCH', groupId('pool-a', 'group-1'), from)[0]?.status, 202);
      assert.deepEqual(group.tags, { tier: 'gold' });
      assert.deepEqual([group.sku?.name, group.sku?.capacity], ['Standard_NC24ads_A100_v4', 4]);
      assert.equal(group.identity, undefined);
      const got = await client.resources.getById(groupId('pool-a', 'group-1'), API);
      assert.equal(
        (got.properties as any).environmentConfiguration.livenessProbe.failureThreshold,
        5,
        'PATCH keeps properties',
      );
    });

    test('getStatus reports the requested capacity and the routed endpoints', async () => {
      const status = await postAction(groupId('pool-a', 'group-1') + '/getStatus');
      assert.equal(status.status, 200, describeResponse(status));
      assert.deepEqual(status.body, {
        requestedCapacity: 4,
        actualCapacityInfo: { total: 4, succeeded: 4, failed: 0, outdatedSucceeded: 0, outdatedFailed: 0 },
        endpointCount: 0,
      });
      await client.resources.beginCreateOrUpdateByIdAndWait(
        groupId('pool-a', 'group-3'),
        API,
        groupBody({ scaleUnitSize: 2 }, { sku: { name: 'Standard_ND96isr_H100_v5', capacity: 4 } }),
      );
      const units = await postAction(groupId('pool-a', 'group-3') + '/getStatus');
      assert.equal(units.body.requestedCapacity, 2, 'four nodes in scale units of two');
      const missing = await sdk('POST', groupId('pool-a', 'group-none') + '/getStatus');
      assert.equal(missing.status, 404);
    });

    test('skus: a paged catalog with capacity ranges, count/$skip and absolute nextLinks', async () => {
      const origin = new URL(server.url).origin;
      const first = await sdk('GET', groupId('pool-a', 'group-1') + '/skus', undefined, '&count=4');
      assert.equal(first.status, 200, describeResponse(first));
      assert.equal(first.body.value.length, 4);
      assert.equal(new URL(first.body.nextLink).origin, origin);
      assert.equal(new URL(first.body.nextLink).searchParams.get('count'), '4');
      const { items, pages } = await listAll(
        (u) => sdkRequest(client, 'GET', u),
        url(groupId('pool-a', 'group-1') + '/skus', '&count=4'),
        origin,
      );
      assert.ok(pages >= 4, `pages: ${pages}`);
      const skuNames = items.map((i) => i.sku.name);
      assert.equal(new Set(skuNames).size, skuNames.length, 'no SKU listed twice');
      assert.ok(skuNames.includes('Standard_NC24ads_A100_v4'));
      for (const item of items) {
        assert.equal(item.resourceType, `${POOL_TYPE}/groups`);
        assert.ok(
          item.capacity.minimum >= 1 &&
            item.capacity.minimum <= item.capacity.default &&
            item.capacity.default <= item.capacity.maximum,
        );
        assert.ok(['Automatic', 'Manual', 'None'].includes(item.capacity.scaleType));
      }
      const defaultPage = await sdk('GET', groupId('pool-a', 'group-1') + '/skus');
      const all = await listAll(
        (u) => sdkRequest(client, 'GET', u),
        url(groupId('pool-a', 'group-1') + '/skus'),
        origin,
      );
      assert.ok(defaultPage.body.nextLink, 'the default page does not hold the whole catalog');
      assert.deepEqual(
        all.items.map((i) => i.sku.name),
        skuNames,
      );
      const skipped = await sdk('GET', groupId('pool-a', 'group-1') + '/skus', undefined, '&$skip=2&count=1');
      assert.equal(skipped.body.value[0].sku.name, skuNames[2]);
      const bad = await sdk('GET', groupId('pool-a', 'group-1') + '/skus', undefined, '&$skip=abc');
      assert.equal(bad.status, 400);
    });

    test('deltaModels: modify (202 + Location) adds and removes; list and getStatus see the result', async () => {
      const group = groupId('pool-a', 'group-1');
      const empty = await postAction(`${group}/deltaModels/list`, {});
      assert.deepEqual(empty.body, { value: [] });
      const added = await postAction(`${group}/deltaModels/modify`, {
        targetBaseModel: BASE_MODEL,
        addDeltaModels: ['lora-a', 'lora-b', 'lora-c'],
      });
      assert.equal(added.accepted?.headers.get('location')?.startsWith(new URL(server.url).origin), true);
      assert.match(added.accepted?.headers.get('retry-after') ?? '', /^\d+$/);
      assert.ok([200, 204].includes(added.status));
      const removed = await postAction(`${group}/deltaModels/modify`, {
        removeDeltaModels: ['lora-b'],
        addDeltaModels: ['lora-d'],
      });
      assert.ok([200, 204].includes(removed.status));

      const list = await postAction(`${group}/deltaModels/list`, { targetBaseModel: BASE_MODEL });
      assert.deepEqual(list.body, { value: ['lora-a', 'lora-c', 'lora-d'] });
      const page1 = await postAction(`${group}/deltaModels/list`, { count: 2 });
      assert.deepEqual(page1.body.value, ['lora-a', 'lora-c']);
      assert.equal(new URL(page1.body.nextLink).origin, new URL(server.url).origin);
      const page2 = await postAction(page1.body.nextLink, {});
      assert.deepEqual(page2.body, { value: ['lora-d'] });
      const viaGet = await armFetch(server, 'GET', page1.body.nextLink);
      assert.deepEqual(viaGet.body, { value: ['lora-d'] }, 'the nextLink also answers GET');
      const otherBase = await postAction(`${group}/deltaModels/list`, { targetBaseModel: 'azureml://other' });
      assert.deepEqual(otherBase.body, { value: [] });

      const status = await postAction(`${group}/deltaModels/getStatus`, {
        deltaModels: ['lora-a', 'lora-b'],
        targetBaseModel: BASE_MODEL,
      });
      assert.equal(status.status, 200);
      assert.equal(status.body.targetBaseModel, BASE_MODEL);
      assert.equal(status.body.expectedInstanceCount, 4);
      assert.equal(status.body.actualInstanceCount, 4);
      assert.equal(status.body.revisionId, '2');
      assert.deepEqual(status.body.deltaModels['lora-a'], [
        { count: 4, sampleInstanceID: 'group-1-0', status: 'Loaded' },
      ]);
      assert.deepEqual(status.body.deltaModels['lora-b'], []);
      const everything = await postAction(`${group}/deltaModels/getStatus`, {});
      assert.deepEqual(Object.keys(everything.body.deltaModels), ['lora-a', 'lora-c', 'lora-d']);

      const clash = await sdk('POST', `${group}/deltaModels/modify`, {
        addDeltaModels: ['x'],
        removeDeltaModels: ['x'],
      });
      assert.equal(clash.status, 400);
      const dup = await sdk('POST', `${group}/deltaModels/modify`, { addDeltaModels: ['x', 'x'] });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.error.code, 'InvalidRequestContent');
      const noBody = await sdk('POST', `${group}/deltaModels/list`);
      assert.equal(noBody.status, 400);
    });
  });

  describe('endpoints', () => {
    before(async () => {
      await client.resources.beginCreateOrUpdateByIdAndWait(groupId('pool-b', 'group-b'), API, groupBody());
    });

    test('PUT creates an endpoint routed to a group, with request defaults and an endpointUri on this server', async () => {
      const from = records.length;
      const ep = await client.resources.beginCreateOrUpdateByIdAndWait(
        endpointId('pool-a', 'ep-1'),
        API,
        endpointBody('group-1', {
          properties: [{ key: 'owner', value: 'me' }],
          endpointUri: 'https://ignored.example.com',
        }),
      );
      assert.deepEqual(
        recorded(records, 'PUT', endpointId('pool-a', 'ep-1'), from).map((r) => r.status),
        [201],
      );
      assert.equal(ep.type, `${POOL_TYPE}/endpoints`);
      const props = ep.properties as any;
      assert.equal(props.provisioningState, 'Succeeded');
      assert.equal(props.authMode, 'AAD');
      assert.equal(props.groupName, 'group-1');
      assert.deepEqual(props.requestConfiguration, { maxConcurrentRequestsPerInstance: 1, requestTimeout: 'PT5S' });
      const uri = new URL(props.endpointUri);
      assert.equal(uri.origin, new URL(server.url).origin);
      assert.match(uri.pathname, /^\/pools\/ep-1-[0-9a-f]+$/);
      const second = await client.resources.beginCreateOrUpdateByIdAndWait(
        endpointId('pool-a', 'ep-2'),
        API,
        endpointBody('GROUP-1', {
          requestConfiguration: { requestTimeout: 'PT30S' },
        }),
      );
      assert.deepEqual((second.properties as any).requestConfiguration, {
        maxConcurrentRequestsPerInstance: 1,
        requestTimeout: 'PT30S',
      });
      assert.notEqual((second.properties as any).endpointUri, props.endpointUri);
      const replaced = await client.resources.beginCreateOrUpdateByIdAndWait(
        endpointId('pool-a', 'ep-1'),
        API,
        endpointBody('group-1', {
          properties: [{ key: 'owner', value: 'me' }],
        }),
      );
      assert.equal((replaced.properties as any).endpointUri, props.endpointUri, 'the route survives a replacing PUT');
    });

    test('groupName must name a group of the same pool; authMode is AAD only', async () => {
      for (const groupName of ['group-none', 'group-b']) {
        const res = await sdk('PUT', endpointId('pool-a', 'ep-bad'), endpointBody(groupName));
        assert.equal(res.status, 400, `${groupName}: ${describeResponse(res)}`);
        assert.equal(res.body.error.target, 'properties.groupName');
        assert.match(res.body.error.message, new RegExp(`'${groupName}'`));
      }
      const key = await sdk('PUT', endpointId('pool-a', 'ep-bad'), {
        location: 'eastus',
        properties: { authMode: 'Key', groupName: 'group-1' },
      });
      assert.equal(key.status, 400);
      assert.equal(key.body.error.target, 'properties.authMode');
      const noGroup = await sdk('PUT', endpointId('pool-a', 'ep-bad'), {
        location: 'eastus',
        properties: { authMode: 'AAD' },
      });
      assert.equal(noGroup.status, 400);
      assert.equal(noGroup.body.error.target, 'properties.groupName');
      assert.deepEqual(await client.resources.checkExistenceById(endpointId('pool-a', 'ep-bad'), API), { body: false });
    });

    test('PATCH merges free-form into properties; the same rules hold', async () => {
      const from = records.length;
      const ep = await client.resources.beginUpdateByIdAndWait(endpointId('pool-a', 'ep-1'), API, {
        tags: { a: '1' },
        properties: {
          description: 'patched',
          requestConfiguration: { maxConcurrentRequestsPerInstance: 8 },
          properties: [
            { key: 'owner', value: 'me' },
            { key: 'new', value: 'x' },
          ],
          bogus: 1,
          endpointUri: 'https://elsewhere.example.com/x',
        },
      } as any);
      assert.equal(recorded(records, 'PATCH', endpointId('pool-a', 'ep-1'), from)[0]?.status, 202);
      const props = ep.properties as any;
      assert.deepEqual(ep.tags, { a: '1' });
      assert.equal(props.description, 'patched');
      assert.deepEqual(props.requestConfiguration, { maxConcurrentRequestsPerInstance: 8, requestTimeout: 'PT5S' });
      assert.equal(props.groupName, 'group-1');
      assert.equal(props.properties.length, 2);
      assert.equal(props.bogus, undefined);
      assert.equal(new URL(props.endpointUri).origin, new URL(server.url).origin, 'endpointUri is read-only');
      assert.equal(props.provisioningState, 'Succeeded');

      const moved = await sdk('PATCH', endpointId('pool-a', 'ep-1'), { properties: { groupName: 'group-none' } });
      assert.equal(moved.status, 400, describeResponse(moved));
      assert.equal(moved.body.error.target, 'properties.groupName');
      const changed = await sdk('PATCH', endpointId('pool-a', 'ep-1'), {
        properties: {
          properties: [
            { key: 'owner', value: 'you' },
            { key: 'new', value: 'x' },
          ],
        },
      });
      assert.equal(changed.status, 400);
      assert.match(changed.body.error.message, /'owner'/);
      const cleared = await sdk('PATCH', endpointId('pool-a', 'ep-1'), { properties: { authMode: null } });
      assert.equal(cleared.status, 400);
      assert.equal(cleared.body.error.target, 'properties.authMode');
      const namelessSku = await sdk('PATCH', endpointId('pool-a', 'ep-1'), { sku: { capacity: 1 } });
      assert.equal(namelessSku.status, 400);
      assert.equal(namelessSku.body.error.target, 'sku.name');
      const missing = await sdk('PATCH', endpointId('pool-a', 'ep-none'), { tags: {} });
      assert.equal(missing.status, 404);
    });

    test('getStatus counts the endpoints routed to the group; a routed group cannot be deleted (409)', async () => {
      const status = await postAction(groupId('pool-a', 'group-1') + '/getStatus');
      assert.equal(status.body.endpointCount, 2);
      const res = await sdk('DELETE', groupId('pool-a', 'group-1'));
      assert.equal(res.status, 409, describeResponse(res));
      assert.match(res.body.error.message, /2 endpoint/);
      await expectRestError(client.resources.beginDeleteByIdAndWait(groupId('pool-a', 'group-1'), API), 409);
      assert.deepEqual(await client.resources.checkExistenceById(groupId('pool-a', 'group-1'), API), { body: true });
    });

    test('DELETE of an endpoint: 202 + Location, 200 when done, 204 when absent; then the group can go', async () => {
      const from = records.length;
      await client.resources.beginDeleteByIdAndWait(endpointId('pool-a', 'ep-2'), API);
      const [del] = recorded(records, 'DELETE', endpointId('pool-a', 'ep-2'), from);
      assert.equal(del.status, 202);
      assert.ok(del.headers.location && del.headers['retry-after'] && del.headers['x-ms-async-operation-timeout']);
      assert.equal(records.slice(from).find((r) => r.url === del.headers.location)?.status, 200);
      await expectRestError(client.resources.getById(endpointId('pool-a', 'ep-2'), API), 404, 'ResourceNotFound');
      const absent = await sdk('DELETE', endpointId('pool-a', 'ep-2'));
      assert.equal(absent.status, 204);

      await client.resources.beginUpdateByIdAndWait(endpointId('pool-a', 'ep-1'), API, {
        properties: { groupName: 'group-2' },
      } as any);
      assert.equal((await postAction(groupId('pool-a', 'group-1') + '/getStatus')).body.endpointCount, 0);
      await client.resources.beginDeleteByIdAndWait(groupId('pool-a', 'group-1'), API);
      await expectRestError(client.resources.getById(groupId('pool-a', 'group-1'), API), 404, 'ResourceNotFound');
      const groups = await sdk('GET', `${poolId('pool-a')}/groups`);
      assert.deepEqual(names(groups.body).sort(), ['group-2', 'group-3']);
    });
  });

  describe('lists', () => {
    const lws = 'ws-lists';
    const lpool = (p: string) => `${workspacePath(SUB, RG, lws)}/inferencePools/${p}`;
    const listUrl = () => `${workspacePath(SUB, RG, lws)}/inferencePools`;

    before(async () => {
      await client.resources.beginCreateOrUpdateByIdAndWait(workspacePath(SUB, RG, lws), API, {
        location: 'eastus',
        properties: {},
      });
      for (let i = 0; i < 5; i++) {
        await client.resources.beginCreateOrUpdateByIdAndWait(
          lpool(`p${i}`),
          API,
          poolBody(
            { properties: [{ key: 'kind', value: i % 2 ? 'odd' : 'even' }] },
            { tags: i < 3 ? { stage: i === 0 ? 'prod' : 'dev' } : {} },
          ),
        );
      }
      await client.resources.beginUpdateByIdAndWait(lpool('p1'), API, { tags: { stage: 'dev', touched: 'yes' } });
    });

    test('count and $skip page with absolute nextLinks', async () => {
      const origin = new URL(server.url).origin;
      const first = await sdk('GET', listUrl(), undefined, '&count=2');
      assert.equal(first.body.value.length, 2);
      const next = new URL(first.body.nextLink);
      assert.equal(next.origin, origin);
      assert.equal(next.searchParams.get('api-version'), API);
      const { items, pages } = await listAll((u) => sdkRequest(client, 'GET', u), url(listUrl(), '&count=2'), origin);
      assert.equal(pages, 3);
      assert.deepEqual(items.map((i) => i.name).sort(), ['p0', 'p1', 'p2', 'p3', 'p4']);
      const last = await sdk('GET', listUrl(), undefined, '&count=2&$skip=4');
      assert.deepEqual(names(last.body), ['p4']);
      assert.equal(last.body.nextLink, undefined);
    });

    test('tags and properties filters', async () => {
      assert.deepEqual(names((await sdk('GET', listUrl(), undefined, '&tags=stage')).body), ['p0', 'p1', 'p2']);
      assert.deepEqual(names((await sdk('GET', listUrl(), undefined, '&tags=stage=dev')).body), ['p1', 'p2']);
      assert.deepEqual(names((await sdk('GET', listUrl(), undefined, '&tags=stage=dev,touched')).body), ['p1']);
      assert.deepEqual(names((await sdk('GET', listUrl(), undefined, '&properties=kind=odd')).body), ['p1', 'p3']);
      assert.deepEqual(names((await sdk('GET', listUrl(), undefined, '&properties=kind=even&tags=stage')).body), [
        'p0',
        'p2',
      ]);
    });

    test('orderBy CreatedAt / UpdatedAt, Asc / Desc', async () => {
      assert.deepEqual(names((await sdk('GET', listUrl(), undefined, '&orderBy=CreatedAtAsc')).body), [
        'p0',
        'p1',
        'p2',
        'p3',
        'p4',
      ]);
      assert.deepEqual(names((await sdk('GET', listUrl(), undefined, '&orderBy=CreatedAtDesc')).body), [
        'p4',
        'p3',
        'p2',
        'p1',
        'p0',
      ]);
      assert.equal(names((await sdk('GET', listUrl(), undefined, '&orderBy=UpdatedAtDesc')).body)[0], 'p1');
      assert.equal(names((await sdk('GET', listUrl(), undefined, '&orderBy=UpdatedAtAsc')).body).at(-1), 'p1');
      const paged = await sdk('GET', listUrl(), undefined, '&orderBy=CreatedAtDesc&count=2&$skip=2');
      assert.deepEqual(names(paged.body), ['p2', 'p1']);
      assert.equal(new URL(paged.body.nextLink).searchParams.get('orderBy'), 'CreatedAtDesc');
      const bad = await sdk('GET', listUrl(), undefined, '&orderBy=Name');
      assert.equal(bad.status, 400);
    });

    test('groups and endpoints lists honour the same queries', async () => {
      await client.resources.beginCreateOrUpdateByIdAndWait(
        `${lpool('p0')}/groups/g1`,
        API,
        groupBody({}, { tags: { x: '1' } }),
      );
      await client.resources.beginCreateOrUpdateByIdAndWait(`${lpool('p0')}/groups/g2`, API, groupBody());
      await client.resources.beginCreateOrUpdateByIdAndWait(`${lpool('p0')}/endpoints/e1`, API, endpointBody('g1'));
      await client.resources.beginCreateOrUpdateByIdAndWait(
        `${lpool('p0')}/endpoints/e2`,
        API,
        endpointBody('g2', { properties: [{ key: 'k', value: 'v' }] }),
      );
      assert.deepEqual(names((await sdk('GET', `${lpool('p0')}/groups`, undefined, '&tags=x')).body), ['g1']);
      assert.deepEqual(names((await sdk('GET', `${lpool('p0')}/groups`, undefined, '&orderBy=CreatedAtDesc')).body), [
        'g2',
        'g1',
      ]);
      const eps = await sdk('GET', `${lpool('p0')}/endpoints`, undefined, '&count=1');
      assert.deepEqual(names(eps.body), ['e1']);
      assert.ok(eps.body.nextLink);
      assert.deepEqual(names((await sdk('GET', `${lpool('p0')}/endpoints`, undefined, '&properties=k')).body), ['e2']);
      assert.deepEqual((await sdk('GET', `${lpool('p1')}/endpoints`)).body, { value: [] });
      const noPool = await sdk('GET', `${lpool('p9')}/groups`);
      assert.equal(noPool.status, 404);
    });

    test('deleting a pool deletes its groups and endpoints', async () => {
      const from = records.length;
      await client.resources.beginDeleteByIdAndWait(lpool('p0'), API);
      const [del] = recorded(records, 'DELETE', lpool('p0'), from);
      assert.equal(del.status, 202);
      assert.equal(records.slice(from).find((r) => r.url === del.headers.location)?.status, 200);
      await expectRestError(client.resources.getById(`${lpool('p0')}/groups/g1`, API), 404, 'ParentResourceNotFound');
      await client.resources.beginCreateOrUpdateByIdAndWait(lpool('p0'), API, poolBody({ properties: [] }));
      assert.deepEqual((await sdk('GET', `${lpool('p0')}/groups`)).body, { value: [] });
      assert.deepEqual((await sdk('GET', `${lpool('p0')}/endpoints`)).body, { value: [] });
      await expectRestError(client.resources.getById(`${lpool('p0')}/endpoints/e1`, API), 404, 'ResourceNotFound');
      const absent = await sdk('DELETE', lpool('never'));
      assert.equal(absent.status, 204);
    });
  });

  test('PATCH under the realistic profile: the Location URL answers 202 with Retry-After while running', async () => {
    const dataDir = freshDataDir();
    const fast = await startTestServer({ inMemory: false, dataDir });
    const path = poolId('pool-slow');
    try {
      const c = armClient(fast, SUB);
      await c.resourceGroups.createOrUpdate(RG, { location: 'eastus' });
      await c.resources.beginCreateOrUpdateByIdAndWait(ws, API, { location: 'eastus', properties: {} });
      await c.resources.beginCreateOrUpdateByIdAndWait(path, API, poolBody());
    } finally {
      await fast.close();
    }
    const slow = await startTestServer({ inMemory: false, dataDir, profile: 'realistic' });
    try {
      const res = await rawFetch(records, slow, 'PATCH', withApiVersion(path, API), {
        body: { tags: { slow: 'yes' } },
      });
      assert.equal(res.status, 202, describeResponse(res));
      const location = res.headers.get('location')!;
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
      const poll = await rawFetch(records, slow, 'GET', location);
      assert.equal(poll.status, 202, describeResponse(poll));
      assert.match(poll.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal(poll.text, '');
      const got = await rawFetch(records, slow, 'GET', withApiVersion(path, API));
      assert.equal(got.body.properties.provisioningState, 'Updating');
      const again = await rawFetch(records, slow, 'PATCH', withApiVersion(path, API), { body: { tags: {} } });
      assert.equal(again.status, 409, describeResponse(again));
    } finally {
      await slow.close();
    }
  });

  test('recorded SDK traffic conforms to the 2026-03-15-preview swagger', (t) => {
    assert.ok(records.length > 0);
    if (loadSpecs() === undefined) {
      t.skip('swagger specs not found (../shared/specs or $AMLITE_SHARED_DIR/specs): conformance not checked');
      return;
    }
    const { covered } = assertConformant(records.filter((r) => r.method !== 'HEAD'));
    for (const op of [
      'InferencePools_CreateOrUpdate',
      'InferencePools_Get',
      'InferencePools_Update',
      'InferencePools_Delete',
      'InferencePools_List',
      'InferenceGroups_CreateOrUpdate',
      'InferenceGroups_Get',
      'InferenceGroups_Update',
      'InferenceGroups_Delete',
      'InferenceGroups_List',
      'InferenceGroups_GetStatus',
      'InferenceGroups_ListSkus',
      'InferenceGroups_GetDeltaModelsStatusAsync',
      'InferenceGroups_ListDeltaModelsAsync',
      'InferenceGroups_ModifyDeltaModelsAsync',
      'InferenceEndpoints_CreateOrUpdate',
      'InferenceEndpoints_Get',
      'InferenceEndpoints_Update',
      'InferenceEndpoints_Delete',
      'InferenceEndpoints_List',
    ]) {
      assert.ok(covered.has(op), `conformance covered ${op} (covered: ${[...covered].join(', ')})`);
    }
  });
});
