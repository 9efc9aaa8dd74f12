// Issue 15 §1 (inference pools): the v1 shape of 2023-08-01-preview … 2024-04-01-preview as its own family
// (API-VERSIONS.md §5; flat/{inferencePools,groups,endpoints}-2023-08-01-preview.txt): pool nodeSkuType required,
// group priority / bonusExtraCapacity, endpoint authMode + groupId required; getStatus on pools and groups.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  describeResponse,
  followLocation,
  putAndWait,
  startWithWorkspace,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';

const SUB = '15a1b2c3-0000-4000-8000-0000000000c1';
const RG = 'rg-pools-v1';
const WS = 'ws-pools-v1';
const V1 = ['2023-08-01-preview', '2024-01-01-preview', '2024-04-01-preview'];
const V2 = '2026-03-15-preview';

const pools = `${workspacePath(SUB, RG, WS)}/inferencePools`;
const LLAMA = 'azureml://registries/azureml-meta/models/Llama-3.3-70B-Instruct';
const tag = (v: string) => v.replace(/-preview$/, 'p').replace(/-/g, '');

describe('inference pools v1', () => {
  let server: RunningServer;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server.close());

  async function rejected(path: string, v: string, body: unknown, target: string): Promise<void> {
    const res = await armFetch(server, 'PUT', withApiVersion(path, v), { body });
    assert.equal(res.status, 400, `${target} at ${v}: ${describeResponse(res)}`);
    assert.equal(res.body.error.target, target, describeResponse(res));
  }

  async function deleted(path: string, v: string): Promise<void> {
    const del = await armFetch(server, 'DELETE', withApiVersion(path, v));
    assert.ok(del.status < 300, describeResponse(del));
    assert.ok((await followLocation(server, del)).status < 300);
    assert.equal((await armFetch(server, 'GET', withApiVersion(path, v))).status, 404);
  }

  test('pool, group, endpoint: create, get, list, getStatus, delete at every v1 version', async () => {
    for (const v of V1) {
      const pool = `${pools}/pool-${tag(v)}`;
      await rejected(pool, v, { location: 'eastus', properties: {} }, 'properties.nodeSkuType');
      const poolBody = {
        location: 'eastus',
        properties: {
          nodeSkuType: 'Standard_NC24ads_A100_v4',
          codeConfiguration: { scoringScript: 'score.py' },
          requestConfiguration: { maxConcurrentRequestsPerInstance: 2, requestTimeout: 'PT10S' },
          properties: { team: 'a' },
          scaleUnitConfiguration: { disablePublicEgress: true },
        },
      };
      await rejected(
        pool,
        v,
        { ...poolBody, properties: { ...poolBody.properties, codeConfiguration: {} } },
        'properties.codeConfiguration.scoringScript',
      );
      const { final } = await putAndWait(server, pool, v, poolBody);
      assert.equal(final.properties.provisioningState, 'Succeeded');
      assert.equal(final.properties.nodeSkuType, 'Standard_NC24ads_A100_v4');
      assert.deepEqual(final.properties.properties, { team: 'a' }, 'v1 properties is a string map');
      assert.equal(final.properties.scaleUnitConfiguration, undefined, 'a v2 field is not v1');

      const group = `${pool}/groups/g1`;
      const g = await putAndWait(server, group, v, {
        location: 'eastus',
        sku: { name: 'Standard_NC24ads_A100_v4', capacity: 2 },
        properties: { priority: 1, bonusExtraCapacity: 0, metadata: 'm' },
      });
      assert.equal(g.final.properties.priority, 1);
      assert.equal(g.final.properties.environmentConfiguration, undefined, 'no v2 probe defaults');

      const endpoint = `${pool}/endpoints/e1`;
      await rejected(endpoint, v, { location: 'eastus', properties: { authMode: 'AAD' } }, 'properties.groupId');
      await rejected(
        endpoint,
        v,
        { location: 'eastus', properties: { authMode: 'AAD', groupId: 'nope' } },
        'properties.groupId',
      );
      const e = await putAndWait(server, endpoint, v, {
        location: 'eastus',
        properties: { authMode: 'AAD', groupId: 'g1' },
      });
      assert.equal(e.final.properties.groupId, 'g1');
      assert.match(e.final.properties.endpointUri, /^https:\/\//);
      assert.equal(e.final.properties.requestConfiguration, undefined, 'v1 endpoints have no requestConfiguration');

      const list = await armFetch(server, 'GET', withApiVersion(`${pool}/endpoints`, v));
      assert.deepEqual(
        list.body.value.map((x: { name: string }) => x.name),
        ['e1'],
        describeResponse(list),
      );
      const poolStatus = await armFetch(server, 'POST', withApiVersion(`${pool}/getStatus`, v));
      assert.equal(poolStatus.status, 200, describeResponse(poolStatus));
      assert.equal(poolStatus.body.groupCount, 1);
      const groupStatus = await armFetch(server, 'POST', withApiVersion(`${group}/getStatus`, v));
      assert.equal(groupStatus.status, 200, describeResponse(groupStatus));
      assert.equal(groupStatus.body.endpointCount, 1, 'the v1 endpoint routes to the group by groupId');
      assert.equal(typeof groupStatus.body.actualCapacityInfo.allocated, 'number');

      const busy = await armFetch(server, 'DELETE', withApiVersion(group, v));
      assert.equal(busy.status, 409, `a group routed to stays: ${describeResponse(busy)}`);
      await deleted(endpoint, v);
      await deleted(group, v);
      await deleted(pool, v);
    }
  });

  test('pool getStatus is v1 only; a v1 pool reads at v2 with v2 fields only', async () => {
    const pool = `${pools}/pool-cross`;
    await putAndWait(server, pool, V1[0], { location: 'eastus', properties: { nodeSkuType: 'Standard_D4as_v4' } });
    const status = await armFetch(server, 'POST', withApiVersion(`${pool}/getStatus`, V2));
    assert.equal(status.status, 404, describeResponse(status));
    const atV2 = await armFetch(server, 'GET', withApiVersion(pool, V2));
    assert.equal(atV2.status, 200, describeResponse(atV2));
    assert.equal(atV2.body.properties.nodeSkuType, undefined, 'v2 pools do not show nodeSkuType');
    assert.equal(atV2.body.properties.provisioningState, 'Succeeded');
  });

  test("a group's skus and deltaModels actions are v2 only: at v1 they answer as an unknown path", async () => {
    const pool = `${pools}/pool-v2-actions`;
    await putAndWait(server, pool, V2, { location: 'eastus', properties: {} });
    const group = `${pool}/groups/g1`;
    await putAndWait(server, group, V2, {
      location: 'eastus',
      sku: { name: 'Standard_NC24ads_A100_v4', capacity: 1 },
      properties: { modelConfiguration: { modelId: LLAMA } },
    });
    const calls: [string, string, unknown?][] = [
      ['GET', 'skus'],
      ['POST', 'deltaModels/getStatus', {}],
      ['POST', 'deltaModels/list', {}],
      ['GET', 'deltaModels/list'],
      ['POST', 'deltaModels/modify', { addDeltaModels: ['adapter-1'] }],
    ];
    for (const [method, action, body] of calls) {
      const atV2 = await armFetch(server, method, withApiVersion(`${group}/${action}`, V2), { body });
      assert.ok(atV2.status === 200 || atV2.status === 202, `${method} ${action} at ${V2}: ${describeResponse(atV2)}`);
      if (atV2.status === 202) await followLocation(server, atV2);
      for (const v of V1) {
        const res = await armFetch(server, method, withApiVersion(`${group}/${action}`, v), { body });
        assert.equal(res.status, 404, `${method} ${action} at ${v}: ${describeResponse(res)}`);
        assert.ok(res.body.error?.code, `an ARM error envelope: ${describeResponse(res)}`);
      }
    }
    const status = await armFetch(server, 'POST', withApiVersion(`${group}/getStatus`, V1[0]));
    assert.equal(status.status, 200, `getStatus is in both families: ${describeResponse(status)}`);
  });
});
