// Issue 15 §1: every api-version of workspaces, serverless endpoints and v2 inference pools, each driven over HTTPS
// (create, get, list, delete) and each enforcing its own family's rules (API-VERSIONS.md §1, §2, §5).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  describeResponse,
  endpointBody,
  endpointPath,
  followLocation,
  putAndWait,
  rgPath,
  startWithWorkspace,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';

const SUB = '15a1b2c3-0000-4000-8000-000000000015';
const RG = 'rg-versions';
const WS = 'ws-versions';

const WORKSPACE_VERSIONS = [
  '2023-02-01-preview',
  '2023-04-01-preview',
  '2023-04-01',
  '2023-06-01-preview',
  '2023-08-01-preview',
  '2023-10-01',
  '2024-01-01-preview',
  '2024-04-01-preview',
  '2024-04-01',
  '2024-07-01-preview',
  '2024-10-01',
  '2024-10-01-preview',
  '2025-01-01-preview',
  '2025-04-01-preview',
  '2025-04-01',
  '2025-06-01',
  '2025-07-01-preview',
  '2025-09-01',
  '2025-10-01-preview',
  '2025-12-01',
  '2026-01-15-preview',
  '2026-03-01',
  '2026-03-15-preview',
  '2026-05-01',
  '2026-05-15-preview',
];

/** The serverless families served (API-VERSIONS.md §2). */
const S1 = ['2023-08-01-preview'];
const S2 = ['2024-01-01-preview', '2024-04-01-preview'];
const S3 = ['2024-04-01', '2024-07-01-preview', '2024-10-01', '2025-04-01', '2025-06-01', '2025-09-01'];
const S4 = ['2025-01-01-preview'];
const S4_PRIME = ['2025-04-01-preview', '2025-07-01-preview'];
const S5 = [
  '2024-10-01-preview',
  '2025-10-01-preview',
  '2026-01-15-preview',
  '2026-03-15-preview',
  '2026-05-15-preview',
];
const S6 = ['2025-12-01', '2026-03-01', '2026-05-01'];
const SERVERLESS_VERSIONS = [...S1, ...S2, ...S3, ...S4, ...S4_PRIME, ...S5, ...S6];

const POOL_VERSIONS = [
  '2024-10-01-preview',
  '2025-01-01-preview',
  '2025-04-01-preview',
  '2025-07-01-preview',
  '2025-10-01-preview',
  '2026-01-15-preview',
  '2026-03-15-preview',
  '2026-05-15-preview',
];

/** The v1 pool family (test/e2e-inference-pools-v1.test.ts drives it). */
const POOL_V1_VERSIONS = ['2023-08-01-preview', '2024-01-01-preview', '2024-04-01-preview'];

const tag = (v: string) => v.replace(/-preview$/, 'p').replace(/-/g, '');

describe('every api-version of issue 15 §1', () => {
  let server: RunningServer;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server.close());

  const ok = (res: { status: number }, what: string, res2 = res) =>
    assert.ok(res.status >= 200 && res.status < 300, `${what}: ${describeResponse(res2)}`);

  /** GET, LIST (the item is there), DELETE (finished), GET 404. */
  async function readListDelete(path: string, collection: string, version: string): Promise<void> {
    const name = path.split('/').at(-1)!;
    const got = await armFetch(server, 'GET', withApiVersion(path, version));
    assert.equal(got.status, 200, `GET ${path} at ${version}: ${describeResponse(got)}`);
    assert.equal(got.body.name, name);
    const list = await armFetch(server, 'GET', withApiVersion(collection, version));
    assert.equal(list.status, 200, `LIST at ${version}: ${describeResponse(list)}`);
    assert.ok(
      list.body.value.some((r: { name: string }) => r.name === name),
      `LIST at ${version} names ${name}`,
    );
    const del = await armFetch(server, 'DELETE', withApiVersion(path, version));
    ok(del, `DELETE ${path} at ${version}`);
    ok(await followLocation(server, del), `DELETE ${path} at ${version} finishes`);
    const gone = await armFetch(server, 'GET', withApiVersion(path, version));
    assert.equal(gone.status, 404, `GET after DELETE at ${version}: ${describeResponse(gone)}`);
  }

  async function assertRejected(path: string, version: string, body: unknown, why: string): Promise<void> {
    const res = await armFetch(server, 'PUT', withApiVersion(path, version), { body });
    assert.equal(res.status, 400, `${why} at ${version}: ${describeResponse(res)}`);
    assert.equal(typeof res.body?.error?.code, 'string', `ARM error envelope: ${describeResponse(res)}`);
  }

  test('workspaces: create, get, list, delete at every version; location is required', async () => {
    const collection = `${rgPath(SUB, RG)}/providers/Microsoft.MachineLearningServices/workspaces`;
    for (const v of WORKSPACE_VERSIONS) {
      const path = workspacePath(SUB, RG, `ws-${tag(v)}`);
      const { final } = await putAndWait(server, path, v, { location: 'eastus', properties: {} });
      assert.equal(final.properties.provisioningState, 'Succeeded', `workspace at ${v}`);
      await readListDelete(path, collection, v);
      await assertRejected(path, v, { properties: {} }, 'a workspace without location');
    }
  });

  test('workspaces: a create answers 200 (the swagger declares 200 or 202), never 201; a replace answers 200', async () => {
    const path = workspacePath(SUB, RG, 'ws-created-status');
    for (const expected of ['create', 'replace']) {
      const res = await armFetch(server, 'PUT', withApiVersion(path, '2024-10-01'), {
        body: { location: 'eastus', properties: {} },
      });
      assert.equal(res.status, 200, `${expected}: ${describeResponse(res)}`);
      assert.equal(res.body.properties.provisioningState, 'Succeeded');
    }
  });

  test('serverless endpoints: create, get, list, delete at every version of S3, S4, S4′, S5, S6', async () => {
    const collection = `${workspacePath(SUB, RG, WS)}/serverlessEndpoints`;
    for (const v of SERVERLESS_VERSIONS.filter((x) => !S1.includes(x) && !S2.includes(x))) {
      const path = endpointPath(SUB, RG, WS, `ep-${tag(v)}`);
      const safety = S4.includes(v)
        ? { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Blocking' } }
        : {};
      const { final } = await putAndWait(server, path, v, endpointBody(safety));
      assert.equal(final.properties.provisioningState, 'Succeeded', `endpoint at ${v}`);
      assert.equal(final.properties.authMode, 'Key');
      await readListDelete(path, collection, v);
      const { authMode: _omitted, ...noAuth } = endpointBody(safety).properties;
      await assertRejected(path, v, { ...endpointBody(), properties: noAuth }, 'an endpoint without authMode');
    }
  });

  test('serverless endpoints at S1: create (offer required, authMode optional), get, list, delete', async () => {
    const collection = `${workspacePath(SUB, RG, WS)}/serverlessEndpoints`;
    const offer = { publisher: 'Meta', offerName: 'Llama-2-7b-chat' };
    for (const v of S1) {
      const path = endpointPath(SUB, RG, WS, `ep-${tag(v)}`);
      const { final } = await putAndWait(server, path, v, { location: 'eastus', properties: { offer } });
      assert.equal(final.properties.provisioningState, 'Succeeded', `endpoint at ${v}`);
      assert.equal(final.properties.authMode, 'Key', `Azure applies Key at ${v}`);
      await readListDelete(path, collection, v);
      await assertRejected(path, v, { location: 'eastus', properties: {} }, 'S1 requires offer');
      await assertRejected(
        path,
        v,
        { location: 'eastus', properties: { offer: { publisher: 'Meta' } } },
        'no offerName',
      );
    }
  });

  test('serverless endpoints at S2: authMode optional (Key applied), AAD, offer and capacityReservation', async () => {
    const collection = `${workspacePath(SUB, RG, WS)}/serverlessEndpoints`;
    for (const v of S2) {
      const path = endpointPath(SUB, RG, WS, `ep-${tag(v)}`);
      const { authMode: _omitted, ...noAuth } = endpointBody().properties;
      const offer = { publisher: 'Meta', offerName: 'Llama-2-7b-chat' };
      const body = { ...endpointBody(), properties: { ...noAuth, offer } };
      const { final } = await putAndWait(server, path, v, body);
      assert.equal(final.properties.provisioningState, 'Succeeded', `endpoint at ${v}`);
      assert.equal(final.properties.authMode, 'Key', `Azure applies Key at ${v}`);
      assert.deepEqual(final.properties.offer, offer);
      await readListDelete(path, collection, v);
      const aad = await putAndWait(server, path, v, endpointBody({ authMode: 'AAD' }));
      assert.equal(aad.final.properties.authMode, 'AAD');
      const noOfferName = { offer: { publisher: 'Meta' } };
      await assertRejected(path, v, endpointBody(noOfferName), 'an offer without offerName');
      const noGroup = { capacityReservation: { endpointReservedCapacity: 1 } };
      await assertRejected(path, v, endpointBody(noGroup), 'a capacityReservation without its group id');
      const noModel = { modelSettings: {} };
      await assertRejected(path, v, endpointBody(noModel), 'modelSettings without modelId');
      // authMode is an open enum (modelAsString) in every version: a value S2 does not list is taken as it is.
      const open = await putAndWait(server, path, v, endpointBody({ authMode: 'KeyAndAAD' }));
      assert.equal(open.final.properties.authMode, 'KeyAndAAD');
      const safety = { contentSafety: { contentSafetyStatus: 'Enabled' } };
      await assertRejected(path, v, endpointBody(safety), 'S2 is closed and has no contentSafety');
    }
  });

  test('serverless endpoints: each family enforces its own authMode and contentSafety rules', async () => {
    const path = (v: string) => endpointPath(SUB, RG, WS, `rules-${tag(v)}`);
    for (const v of S3) {
      // S3 lists authMode Key only, but the enum is open (modelAsString): AAD is taken.
      const aad = await putAndWait(server, path(v), v, endpointBody({ authMode: 'AAD' }));
      assert.equal(aad.final.properties.authMode, 'AAD', `open authMode at ${v}`);
      const level = { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Blocking' } };
      await assertRejected(path(v), v, endpointBody(level), 'S3 is closed: contentSafetyLevel is unknown');
    }
    for (const v of S4) {
      const noLevel = { contentSafety: { contentSafetyStatus: 'Enabled' } };
      await assertRejected(path(v), v, endpointBody(noLevel), 'S4 requires contentSafetyLevel');
    }
    for (const v of [...S4, ...S4_PRIME, ...S5]) {
      // contentSafetyLevel is open too: a value outside Blocking/Deferred is taken; a non-string is not.
      const other = { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Lenient' } };
      const { final } = await putAndWait(server, path(v), v, endpointBody(other));
      assert.equal(final.properties.contentSafety.contentSafetyLevel, 'Lenient', `open level at ${v}`);
      const bad = { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 1 } };
      await assertRejected(path(v), v, endpointBody(bad), 'contentSafetyLevel is a string');
    }
    for (const v of [...S4_PRIME, ...S5, ...S6]) {
      const { final } = await putAndWait(server, path(v), v, endpointBody({ authMode: 'AAD' }));
      assert.equal(final.properties.authMode, 'AAD', `AAD at ${v}`);
    }
    for (const v of S6) {
      const level = { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Blocking' } };
      const res = await armFetch(server, 'PUT', withApiVersion(path(v), v), { body: endpointBody(level) });
      ok(res, `S6 is open: an unknown field is dropped at ${v}`);
      const got = await armFetch(server, 'GET', withApiVersion(path(v), v));
      assert.equal(got.body.properties.contentSafety.contentSafetyLevel, undefined, `S6 has no level (${v})`);
    }
    const hand = endpointPath(SUB, RG, WS, '9-starts-with-a-digit');
    for (const v of [...S3, ...S4, ...S4_PRIME])
      await assertRejected(hand, v, endpointBody(), 'the hand-written PUT name pattern');
  });

  test('inference pools: create, get, list, delete at every v2 version; properties is required', async () => {
    const collection = `${workspacePath(SUB, RG, WS)}/inferencePools`;
    for (const v of POOL_VERSIONS) {
      const path = `${collection}/pool-${tag(v)}`;
      const { final } = await putAndWait(server, path, v, { location: 'eastus', properties: {} });
      assert.equal(final.properties.provisioningState, 'Succeeded', `pool at ${v}`);
      await readListDelete(path, collection, v);
      await assertRejected(path, v, { location: 'eastus' }, 'a pool without properties');
    }
  });

  test('/providers/Microsoft.MachineLearningServices lists every version per type', async () => {
    const res = await armFetch(
      server,
      'GET',
      withApiVersion(`/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices`, RG_API_VERSION),
    );
    assert.equal(res.status, 200, describeResponse(res));
    const versionsOf = (type: string): string[] =>
      res.body.resourceTypes.find((t: { resourceType: string }) => t.resourceType === type)?.apiVersions ?? [];
    const expected: Record<string, string[]> = {
      workspaces: WORKSPACE_VERSIONS,
      'workspaces/serverlessEndpoints': SERVERLESS_VERSIONS,
      'workspaces/inferencePools': [...POOL_V1_VERSIONS, ...POOL_VERSIONS],
      'workspaces/inferencePools/groups': [...POOL_V1_VERSIONS, ...POOL_VERSIONS],
      'workspaces/inferencePools/endpoints': [...POOL_V1_VERSIONS, ...POOL_VERSIONS],
    };
    for (const [type, versions] of Object.entries(expected))
      assert.deepEqual([...versionsOf(type)].sort(), [...versions].sort(), `api-versions of ${type}`);
  });

  test('an unknown version still answers 400 NoRegisteredProviderFound naming the supported ones', async () => {
    const res = await armFetch(server, 'GET', withApiVersion(endpointPath(SUB, RG, WS, 'x'), '2019-01-01'));
    assert.equal(res.status, 400, describeResponse(res));
    assert.equal(res.body.error.code, 'NoRegisteredProviderFound');
    for (const v of SERVERLESS_VERSIONS) assert.ok(res.body.error.message.includes(v), `message lists ${v}`);
  });
});
