// Issue 15 §1 (workspaces): Hub / Project rules as Azure applies them at the versions that know hubResourceId
// (API-VERSIONS.md §1): a Project names an existing Hub, the Hub lists its projects in associatedWorkspaces, and
// deleting a Hub deletes its projects (Azure AI Foundry docs, "Delete an Azure AI Foundry hub").
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  createResourceGroup,
  describeResponse,
  followLocation,
  startTestServer,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';

const SUB = '15a1b2c3-0000-4000-8000-0000000000b1';
const RG = 'rg-hubs';
const OTHER_RG = 'rg-hubs-projects';
const V = '2024-10-01-preview';
const NO_HUB_VERSION = '2023-10-01';

const ws = (name: string, rg = RG) => workspacePath(SUB, rg, name);
const body = (kind?: string, properties: Record<string, unknown> = {}) => ({
  location: 'eastus',
  ...(kind ? { kind } : {}),
  properties,
});

describe('workspaces: Hub and Project', () => {
  let server: RunningServer;
  const put = (path: string, b: unknown, v = V) => armFetch(server, 'PUT', withApiVersion(path, v), { body: b });
  const get = (path: string, v = V) => armFetch(server, 'GET', withApiVersion(path, v));

  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, SUB, RG);
    await createResourceGroup(server, SUB, OTHER_RG);
  });
  after(() => server.close());

  async function assertHubError(path: string, b: unknown, what: string, v = V): Promise<void> {
    const res = await put(path, b, v);
    assert.equal(res.status, 400, `${what}: ${describeResponse(res)}`);
    assert.equal(res.body.error.target, 'properties.hubResourceId', `${what}: target`);
    assert.ok(res.body.error.message.length > 0);
  }

  test('kind in any case; a Project must name an existing Hub', async () => {
    const created = await put(ws('hub-a'), body('hub'));
    assert.equal(created.status, 200, describeResponse(created));
    assert.equal(created.body.kind, 'hub', 'kind is kept as sent');
    assert.deepEqual(created.body.properties.associatedWorkspaces, []);
    assert.equal((await put(ws('plain-a'), body('Default'))).status, 200);
    assert.equal((await put(ws('store-a'), body('FeatureStore'))).status, 200);

    const proj = ws('proj-x');
    await assertHubError(proj, body('Project'), 'a Project without hubResourceId');
    await assertHubError(proj, body('Project', { hubResourceId: 'hub-a' }), 'a malformed hub id');
    await assertHubError(proj, body('project', { hubResourceId: ws('no-such-hub') }), 'a missing hub');
    await assertHubError(proj, body('Project', { hubResourceId: ws('plain-a') }), 'a Default workspace as hub');
    await assertHubError(proj, body('PROJECT', { hubResourceId: ws('store-a') }), 'a FeatureStore as hub');
    assert.equal((await get(proj)).status, 404, 'nothing was created');

    const shouting = ws('hub-a').replace('hub-a', 'HUB-A').replace('rg-hubs', 'RG-HUBS');
    const ok = await put(proj, body('PROJECT', { hubResourceId: shouting }));
    assert.equal(ok.status, 200, `a hub id in another case: ${describeResponse(ok)}`);
    assert.equal(ok.body.properties.associatedWorkspaces, undefined, 'only a Hub shows associatedWorkspaces');
  });

  test('the Hub lists its projects (any resource group); associatedWorkspaces is read-only', async () => {
    const hub = ws('hub-b');
    assert.equal((await put(hub, body('Hub', { associatedWorkspaces: ['/made/up'] }))).status, 200);
    const p1 = ws('proj-b1');
    const p2 = ws('proj-b2', OTHER_RG);
    assert.equal((await put(p1, body('Project', { hubResourceId: hub }))).status, 200);
    assert.equal((await put(p2, body('Project', { hubResourceId: hub }))).status, 200);
    const got = await get(hub);
    assert.equal(got.status, 200, describeResponse(got));
    assert.deepEqual([...got.body.properties.associatedWorkspaces].sort(), [p1, p2].sort());
    const listed = await get(`/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/workspaces`);
    const inList = listed.body.value.find((w: { name: string }) => w.name === 'hub-b');
    assert.deepEqual([...inList.properties.associatedWorkspaces].sort(), [p1, p2].sort(), 'LIST shows it too');

    // A Hub with projects keeps its kind.
    const demoted = await put(hub, body('Default'));
    assert.equal(demoted.status, 400, describeResponse(demoted));
    assert.equal(demoted.body.error.target, 'kind');

    // Deleting a project takes it off the list.
    const del = await armFetch(server, 'DELETE', withApiVersion(p2, V));
    assert.ok((await followLocation(server, del)).status < 300);
    assert.deepEqual((await get(hub)).body.properties.associatedWorkspaces, [p1]);
  });

  test('deleting a Hub deletes its projects (and what is below them)', async () => {
    const hub = ws('hub-c');
    assert.equal((await put(hub, body('Hub'))).status, 200);
    const proj = ws('proj-c');
    assert.equal((await put(proj, body('Project', { hubResourceId: hub }))).status, 200);
    const bystander = ws('plain-c');
    assert.equal((await put(bystander, body())).status, 200);
    const del = await armFetch(server, 'DELETE', withApiVersion(hub, V));
    assert.equal(del.status, 202, describeResponse(del));
    const done = await followLocation(server, del);
    assert.ok(done.status < 300, describeResponse(done));
    assert.equal((await get(hub)).status, 404);
    assert.equal((await get(proj)).status, 404, 'the project went with its hub');
    assert.equal((await get(bystander)).status, 200, 'other workspaces stay');
  });

  test('at a version without hubResourceId the fields are not interpreted', async () => {
    const res = await put(ws('proj-old'), body('Project', { hubResourceId: ws('no-such-hub') }), NO_HUB_VERSION);
    assert.equal(res.status, 200, describeResponse(res));
    const hub = ws('hub-d');
    assert.equal((await put(hub, body('Hub'), NO_HUB_VERSION)).status, 200);
    assert.equal((await get(hub, NO_HUB_VERSION)).body.properties.associatedWorkspaces, undefined);
    assert.deepEqual((await get(hub)).body.properties.associatedWorkspaces, []);
  });
});
