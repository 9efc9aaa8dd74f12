import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armClient,
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  putAndWait,
  startTestServer,
  workspacePath,
  type RunningServer,
} from './support/harness.js';

const SUB = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';

describe("ARM's generic endpoints through @azure/arm-resources", () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
    for (const rg of ['rg-a', 'rg-b']) await createResourceGroup(server, SUB, rg);
    await createWorkspace(server, SUB, 'rg-a', 'ws-1');
    await createWorkspace(server, SUB, 'rg-b', 'ws-2');
    await putAndWait(server, endpointPath(SUB, 'rg-a', 'ws-1', 'ep-1'), '2025-09-01', {
      ...endpointBody(),
      tags: { team: 'nlp' },
    });
    await putAndWait(server, endpointPath(SUB, 'rg-a', 'ws-1', 'ep-2'), '2025-09-01', endpointBody());
    await putAndWait(server, `${workspacePath(SUB, 'rg-a', 'ws-1')}/inferencePools/pool-1`, '2026-03-15-preview', {
      location: 'eastus',
      properties: {},
    });
  });
  after(() => server.close());

  test('resources.listByResourceGroup lists every tracked resource in the group, nested ones named parent/child', async () => {
    const client = armClient(server, SUB);
    const all = [];
    for await (const r of client.resources.listByResourceGroup('rg-a')) all.push(r);
    assert.deepEqual(all.map((r) => `${r.type}|${r.name}`).sort(), [
      'Microsoft.MachineLearningServices/workspaces/inferencePools|ws-1/pool-1',
      'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints|ws-1/ep-1',
      'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints|ws-1/ep-2',
      'Microsoft.MachineLearningServices/workspaces|ws-1',
    ]);
  });

  test('resources.list across the subscription honours $filter and $top paging', async () => {
    const client = armClient(server, SUB);
    const endpoints = [];
    for await (const r of client.resources.list({
      filter: "resourceType eq 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints'",
      top: 1,
    }))
      endpoints.push(r);
    assert.equal(endpoints.length, 2, 'both endpoints, across pages of one');
    const tagged = [];
    for await (const r of client.resources.list({ filter: "tagName eq 'team' and tagValue eq 'nlp'" })) tagged.push(r);
    assert.deepEqual(
      tagged.map((r) => r.name),
      ['ws-1/ep-1'],
    );
    const workspaces = [];
    for await (const r of client.resources.list({
      filter: "resourceType eq 'Microsoft.MachineLearningServices/workspaces'",
      expand: 'createdTime,provisioningState',
    }))
      workspaces.push(r);
    assert.equal(workspaces.length, 2);
    assert.ok(workspaces.every((w) => w.createdTime instanceof Date && w.provisioningState === 'Succeeded'));
  });

  test('an unsupported $filter and a missing group are clear ARM errors', async () => {
    const bad = await armFetch(
      server,
      'GET',
      `/subscriptions/${SUB}/resources?api-version=2025-04-01&$filter=${encodeURIComponent('plan eq 1')}`,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.target, '$filter');
    const missing = await armFetch(
      server,
      'GET',
      `/subscriptions/${SUB}/resourceGroups/nope/resources?api-version=2025-04-01`,
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'ResourceGroupNotFound');
  });

  test('providers.get and register describe Microsoft.MachineLearningServices with its types and api-versions', async () => {
    const client = armClient(server, SUB);
    const p = await client.providers.get('microsoft.machinelearningservices');
    assert.equal(p.namespace, 'Microsoft.MachineLearningServices');
    assert.equal(p.registrationState, 'Registered');
    const serverless = p.resourceTypes!.find((t) => t.resourceType === 'workspaces/serverlessEndpoints');
    for (const v of ['2026-03-15-preview', '2025-09-01']) assert.ok(serverless?.apiVersions?.includes(v), v);
    assert.ok(p.resourceTypes!.some((t) => t.resourceType === 'workspaces/inferencePools/groups'));
    assert.equal(
      (await client.providers.register('Microsoft.MachineLearningServices')).registrationState,
      'Registered',
    );
    const unknown = await armFetch(
      server,
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.Nope?api-version=2025-04-01`,
    );
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'InvalidResourceNamespace');
  });
});
