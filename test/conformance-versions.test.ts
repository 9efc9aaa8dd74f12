// Issue 15 "Done when": for every api-version amlite serves, real traffic (create, get, list, patch, delete,
// actions) is recorded and validated against that version's definitions (bicep-types/<version>.json and the
// status-code table of API-VERSIONS.md): 0 violations, apart from the KNOWN_VIOLATIONS listed below.
import { test, describe, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSIONS } from '../src/providers/machine-learning/provider.js';
import {
  bicepTypesDir,
  classify,
  describeViolation,
  discriminatorValues,
  hasAction,
  loadBicepTypes,
  propertyFlags,
  validateExchange,
  validateRequest,
  FLAGS,
  type BicepTypes,
} from './support/bicep-types.js';
import { recordedFetch, type TrafficRecord } from './support/recorder.js';
import {
  armFetch,
  describeResponse,
  fakeToken,
  pollUntil,
  rgPath,
  startWithWorkspace,
  waitForTerminal,
  withApiVersion,
  workspacePath,
  MODEL_ID,
  type RunningServer,
} from './support/harness.js';

const SKIP = bicepTypesDir() ? undefined : '../shared/specs/azure-ml/api-versions/bicep-types not found: skipped';
const SUB = '15c0c0c0-0000-4000-8000-0000000000c5';
const RG = 'rg-conformance';
const WS = 'ws-conformance';
const PROVIDER_PATH = `${rgPath(SUB, RG)}/providers/Microsoft.MachineLearningServices`;

/**
 * Violations amlite is known to have, each waiting for the helper that owns the code (the coordinator removes an
 * entry once it is fixed; an entry that no longer matches anything fails the test, so the list cannot go stale).
 * `match` is tested against describeViolation()'s line: `<version> <METHOD> <op> <type> <status> <path>: <kind> …`.
 */
const KNOWN_VIOLATIONS: { match: RegExp; reason: string }[] = [];

/** The api-versions amlite serves for a type key of API_VERSIONS, [] when the key is absent (not served yet). */
function served(key: string): string[] {
  const table = API_VERSIONS as unknown as Record<string, Record<string, string>>;
  const found = Object.keys(table).find((k) => k.toLowerCase() === key.toLowerCase() || k.endsWith(`/${key}`));
  return found ? Object.keys(table[found] ?? {}) : [];
}

const tag = (v: string) => v.replace(/-preview$/, 'p').replace(/-/g, '');

describe('per-version conformance of recorded traffic (issue 15)', { skip: SKIP }, () => {
  let server: RunningServer;
  const records: TrafficRecord[] = [];
  const refusals: string[] = [];

  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server?.close());

  /**
   * Sends and records one request. A refusal (non-2xx) of a request that is valid per the version's definition is
   * itself a violation: it is listed with the others (so a known one can wait in KNOWN_VIOLATIONS) and the caller
   * skips what depended on it (undefined).
   */
  async function step(method: string, path: string, version: string, body?: unknown): Promise<Response | undefined> {
    const url = `${server.url}${withApiVersion(path, version)}`;
    const invalid = validateRequest(method, url, body).map((v) => `${v.path}: ${v.kind} ${v.message}`);
    assert.deepEqual(invalid, [], `this test's own ${method} ${path} at ${version} breaks the definition`);
    const headers: Record<string, string> = { authorization: `Bearer ${fakeToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const res = await recordedFetch(records, url, init);
    if (res.status >= 200 && res.status <= 299) return res;
    const rec = records.at(-1);
    const what = rec && classify(rec);
    const op = what ? `${what.op}${what.action ? `:${what.action}` : ''} ${what.resourceType}` : path;
    const text = (await res.clone().text()).slice(0, 300);
    refusals.push(`${version} ${method} ${op} ${res.status}: refused a request valid per the definition: ${text}`);
    return undefined;
  }

  /** Waits until an asynchronous operation (201/202) has finished, without recording the polls. */
  async function settle(res: Response, path: string, version: string): Promise<void> {
    if (res.status === 202 && res.headers.get('location')) {
      const location = res.headers.get('location') ?? '';
      await pollUntil(`${location} to finish`, async () => {
        const next = await armFetch(server, 'GET', location);
        return next.status === 202 ? undefined : next;
      });
    } else if (res.status === 201 || (res.status === 202 && res.headers.get('azure-asyncoperation'))) {
      await waitForTerminal(server, path, version);
    }
  }

  /** PUT (waits), GET, LIST, and PATCH (waits) when given. False when the PUT was refused. */
  async function createReadUpdate(path: string, version: string, body: unknown, patch?: unknown): Promise<boolean> {
    const put = await step('PUT', path, version, body);
    if (!put) return false;
    await settle(put, path, version);
    await step('GET', path, version);
    await step('GET', path.slice(0, path.lastIndexOf('/')), version);
    if (patch !== undefined) {
      const res = await step('PATCH', path, version, patch);
      if (res) await settle(res, path, version);
    }
    return true;
  }

  async function remove(path: string, version: string): Promise<void> {
    const res = await step('DELETE', path, version);
    if (!res) return;
    await settle(res, path, version);
    const gone = await armFetch(server, 'GET', withApiVersion(path, version));
    assert.equal(gone.status, 404, `GET after DELETE at ${version}: ${describeResponse(gone)}`);
  }

  function typesOf(version: string): BicepTypes {
    const types = loadBicepTypes(version);
    assert.ok(types, `the digest has no bicep-types/${version}.json`);
    return types;
  }

  const declares = (types: BicepTypes, type: string, path: string) => propertyFlags(types, type, path) !== undefined;
  const requires = (types: BicepTypes, type: string, path: string) =>
    ((propertyFlags(types, type, path) ?? 0) & FLAGS.Required) !== 0;
  const tagsPatch = { tags: { conformance: 'yes' } };

  test('workspaces: every served version', async () => {
    for (const v of served('workspaces')) {
      const path = `${PROVIDER_PATH}/workspaces/conf-${tag(v)}`;
      if (await createReadUpdate(path, v, { location: 'eastus', tags: { a: 'b' }, properties: {} }, tagsPatch))
        await remove(path, v);
    }
  });

  test('workspaces: a Hub and its Project at every version that has hubResourceId', async () => {
    for (const v of served('workspaces')) {
      if (!declares(typesOf(v), 'workspaces', 'properties.hubResourceId')) continue;
      const hub = `${PROVIDER_PATH}/workspaces/hub-${tag(v)}`;
      const project = `${PROVIDER_PATH}/workspaces/proj-${tag(v)}`;
      if (!(await createReadUpdate(hub, v, { location: 'eastus', kind: 'Hub', properties: {} }))) continue;
      const body = { location: 'eastus', kind: 'Project', properties: { hubResourceId: hub } };
      if (await createReadUpdate(project, v, body)) {
        await step('GET', hub, v); // the hub now lists its project in associatedWorkspaces
        await remove(project, v);
      }
      await remove(hub, v);
    }
  });

  test('serverless endpoints: every served version, with its actions', async () => {
    const type = 'workspaces/serverlessEndpoints';
    for (const v of served('serverlessEndpoints')) {
      const types = typesOf(v);
      const properties: Record<string, unknown> = {};
      if (requires(types, type, 'properties.authMode')) properties.authMode = 'Key';
      if (declares(types, type, 'properties.modelSettings')) properties.modelSettings = { modelId: MODEL_ID };
      if (declares(types, type, 'properties.offer'))
        properties.offer = { publisher: 'Meta', offerName: 'Llama-2-7b-chat' };
      if (declares(types, type, 'properties.contentSafety')) {
        const level = declares(types, type, 'properties.contentSafety.contentSafetyLevel');
        properties.contentSafety = {
          contentSafetyStatus: 'Enabled',
          ...(level ? { contentSafetyLevel: 'Blocking' } : {}),
        };
      }
      const path = `${workspacePath(SUB, RG, WS)}/serverlessEndpoints/ep-${tag(v)}`;
      const body = { location: 'eastus', sku: { name: 'Consumption' }, properties };
      if (!(await createReadUpdate(path, v, body, tagsPatch))) continue;
      await step('POST', `${path}/listKeys`, v);
      const regen = await step('POST', `${path}/regenerateKeys`, v, { keyType: 'Secondary' });
      if (regen) await settle(regen, path, v);
      if (hasAction(types, type, 'getStatus')) await step('POST', `${path}/getStatus`, v);
      await remove(path, v);
    }
  });

  test('inference pools, groups and endpoints: every served version, with their actions', async () => {
    for (const v of served('inferencePools')) {
      const types = typesOf(v);
      const pool = `${workspacePath(SUB, RG, WS)}/inferencePools/pool-${tag(v)}`;
      const group = `${pool}/groups/g1`;
      const endpoint = `${pool}/endpoints/e1`;
      const poolProps = requires(types, 'workspaces/inferencePools', 'properties.nodeSkuType')
        ? { nodeSkuType: 'Standard_NC24ads_A100_v4' }
        : {};
      if (!(await createReadUpdate(pool, v, { location: 'eastus', properties: poolProps }, tagsPatch))) continue;
      if (await createReadUpdate(group, v, { location: 'eastus', properties: {} }, tagsPatch)) {
        if (hasAction(types, 'workspaces/inferencePools/groups', 'getStatus'))
          await step('POST', `${group}/getStatus`, v);
        const inGroup = requires(types, 'workspaces/inferencePools/endpoints', 'properties.groupId')
          ? { groupId: 'g1' }
          : { groupName: 'g1' };
        const endpointBody = { location: 'eastus', properties: { authMode: 'AAD', ...inGroup } };
        if (await createReadUpdate(endpoint, v, endpointBody, tagsPatch)) await remove(endpoint, v);
        await remove(group, v);
      }
      await remove(pool, v);
    }
  });

  test('marketplace subscriptions: every served version (when served)', async (t: TestContext) => {
    const versions = served('marketplaceSubscriptions');
    if (versions.length === 0) return t.skip('API_VERSIONS has no marketplaceSubscriptions yet');
    for (const v of versions) {
      const path = `${workspacePath(SUB, RG, WS)}/marketplaceSubscriptions/sub-${tag(v)}`;
      if (await createReadUpdate(path, v, { properties: { modelId: MODEL_ID } })) await remove(path, v);
    }
  });

  test('connections: every served version (when served), with listsecrets', async (t: TestContext) => {
    const versions = served('connections');
    if (versions.length === 0) return t.skip('API_VERSIONS has no connections yet');
    for (const v of versions) {
      const path = `${workspacePath(SUB, RG, WS)}/connections/conn-${tag(v)}`;
      const apiKey = discriminatorValues(typesOf(v), 'workspaces/connections', 'properties').includes('ApiKey');
      const properties = {
        category: 'AzureOpenAI',
        target: 'https://example.openai.azure.com/',
        ...(apiKey
          ? { authType: 'ApiKey', credentials: { key: 'conformance-secret' } }
          : { authType: 'PAT', credentials: { pat: 'conformance-secret' } }),
      };
      if (!(await createReadUpdate(path, v, { properties }))) continue;
      if (hasAction(typesOf(v), 'workspaces/connections', 'listsecrets')) await step('POST', `${path}/listsecrets`, v);
      await remove(path, v);
    }
  });

  test('a resource written at each version reads conformantly at every other version (GET and LIST)', async () => {
    const type = 'workspaces/serverlessEndpoints';
    const versions = served('serverlessEndpoints');
    for (const writer of versions) {
      const types = typesOf(writer);
      const properties: Record<string, unknown> = { authMode: 'Key', modelSettings: { modelId: MODEL_ID } };
      if (!declares(types, type, 'properties.modelSettings')) delete properties.modelSettings;
      if (declares(types, type, 'properties.offer'))
        properties.offer = { publisher: 'Meta', offerName: 'Llama-2-7b-chat' };
      if (declares(types, type, 'properties.contentSafety.contentSafetyLevel'))
        properties.contentSafety = { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Deferred' };
      const path = `${workspacePath(SUB, RG, WS)}/serverlessEndpoints/x-${tag(writer)}`;
      const put = await step('PUT', path, writer, { location: 'eastus', tags: { w: writer }, properties });
      if (!put) continue;
      await settle(put, path, writer);
      for (const reader of versions) await step('GET', path, reader);
      await remove(path, writer);
    }
    const hub = `${PROVIDER_PATH}/workspaces/hub-cross`;
    const project = `${PROVIDER_PATH}/workspaces/proj-cross`;
    const latest = served('workspaces').at(-1) ?? '';
    if (await step('PUT', hub, latest, { location: 'eastus', kind: 'Hub', properties: {} })) {
      const body = { location: 'eastus', kind: 'Project', properties: { hubResourceId: hub } };
      if (await step('PUT', project, latest, body)) {
        for (const reader of served('workspaces')) {
          await step('GET', hub, reader);
          await step('GET', project, reader);
          await step('GET', PROVIDER_PATH + '/workspaces', reader);
        }
        await remove(project, latest);
      }
      await remove(hub, latest);
    }
  });

  test('every recorded exchange conforms to its api-version (0 violations beyond KNOWN_VIOLATIONS)', (t) => {
    assert.ok(records.length > 0, 'traffic was recorded');
    const found = [
      ...refusals,
      ...records.flatMap((rec) => validateExchange(rec).map((v) => describeViolation(rec, v))),
    ];
    const unknown = found.filter((line) => !KNOWN_VIOLATIONS.some((k) => k.match.test(line)));
    const fixed = KNOWN_VIOLATIONS.filter((k) => !found.some((line) => k.match.test(line))).map((k) => String(k.match));
    const summary = `${records.length} exchanges, ${found.length} violations (${found.length - unknown.length} known)`;
    t.diagnostic(summary);
    assert.deepEqual(unknown, [], `${summary}; new violations:\n${[...new Set(unknown)].join('\n')}`);
    assert.deepEqual(fixed, [], `KNOWN_VIOLATIONS that no longer occur (remove them): ${JSON.stringify(fixed)}`);
  });
});
