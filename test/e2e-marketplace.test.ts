// Issue 15 §2: workspaces/marketplaceSubscriptions at every api-version that has it (API-VERSIONS.md §3), the
// serverless endpoint's read-only marketplaceSubscriptionId, and the opt-in --require-marketplace-subscription.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  followLocation,
  pollUntil,
  putAndWait,
  startTestServer,
  startWithWorkspace,
  waitForTerminal,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type FetchResult,
  type RunningServer,
} from './support/harness.js';
import { loadConfig } from '../src/config.js';
import { TYPESPEC_VERSIONS } from './support/bicep-types.js';

const SUB = '15a1b2c3-0000-4000-8000-0000000015ab';
const RG = 'rg-marketplace';
const WS = 'ws-marketplace';
const TYPE = 'Microsoft.MachineLearningServices/workspaces/marketplaceSubscriptions';

/** Hand-written swaggers: closed objects, the name pattern (the first two also know PendingFulfillmentStart). */
const CLOSED = [
  '2024-01-01-preview',
  '2024-04-01-preview',
  '2024-04-01',
  '2024-07-01-preview',
  '2024-10-01',
  '2025-01-01-preview',
  '2025-04-01-preview',
  '2025-04-01',
  '2025-06-01',
  '2025-07-01-preview',
  '2025-09-01',
];
/** TypeSpec: open objects, no name pattern. */
const OPEN = [...TYPESPEC_VERSIONS];
const VERSIONS = [...CLOSED, ...OPEN];

const LLAMA = 'azureml://registries/azureml-meta/models/Meta-Llama-3-8B-Instruct';
const MISTRAL = 'azureml://registries/azureml-mistral/models/Mistral-large';
const PHI = 'azureml://registries/azureml/models/Phi-3-mini-4k-instruct';

const tag = (v: string) => v.replace(/-preview$/, 'p').replace(/-/g, '');
const subPath = (ws: string, name: string) => `${workspacePath(SUB, RG, ws)}/marketplaceSubscriptions/${name}`;
const collectionOf = (ws: string) => `${workspacePath(SUB, RG, ws)}/marketplaceSubscriptions`;

/** The status document the Azure-AsyncOperation URL of `res` ends with. */
async function operationOf(server: { url: string }, res: FetchResult): Promise<any> {
  const url = res.headers.get('azure-asyncoperation');
  assert.ok(url, `Azure-AsyncOperation on ${describeResponse(res)}`);
  return pollUntil(`operation ${url}`, async () => {
    const op = await armFetch(server, 'GET', url);
    assert.equal(op.status, 200, describeResponse(op));
    return op.body.status === 'InProgress' ? undefined : op.body;
  });
}

async function subscribe(server: { url: string }, ws: string, name: string, modelId: string, v = '2024-04-01') {
  const res = await armFetch(server, 'PUT', withApiVersion(subPath(ws, name), v), {
    body: { properties: { modelId } },
  });
  assert.ok(res.status === 200 || res.status === 201, describeResponse(res));
  assert.equal((await operationOf(server, res)).status, 'Succeeded');
  return (await armFetch(server, 'GET', withApiVersion(subPath(ws, name), v))).body;
}

describe('marketplace subscriptions (issue 15 §2)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server.close());

  test('every version: PUT 201 + Azure-AsyncOperation, replace 200, GET, LIST, no PATCH, DELETE 202/204', async () => {
    for (const v of VERSIONS) {
      const name = `Meta-Llama-3-8B-Instruct-${tag(v)}`;
      const path = withApiVersion(subPath(WS, name), v);
      const created = await armFetch(server, 'PUT', path, { body: { properties: { modelId: LLAMA } } });
      assert.equal(created.status, 201, `create at ${v}: ${describeResponse(created)}`);
      assert.equal(created.body.properties.modelId, LLAMA);
      assert.equal((await operationOf(server, created)).status, 'Succeeded', `create operation at ${v}`);

      const got = await armFetch(server, 'GET', path);
      assert.equal(got.status, 200, `GET at ${v}: ${describeResponse(got)}`);
      assert.equal(got.body.type, TYPE);
      assert.equal(got.body.name, name);
      assert.equal(got.body.properties.provisioningState, 'Succeeded', `state at ${v}`);
      assert.equal(got.body.properties.marketplaceSubscriptionStatus, 'Subscribed');
      assert.ok(got.body.properties.marketplacePlan?.publisherId, `plan at ${v}`);
      for (const absent of ['location', 'tags', 'sku', 'identity'])
        assert.equal(got.body[absent], undefined, `a proxy resource has no ${absent} (${v})`);

      const replaced = await armFetch(server, 'PUT', path, { body: { properties: { modelId: LLAMA } } });
      assert.equal(replaced.status, 200, `replace at ${v}: ${describeResponse(replaced)}`);
      assert.equal((await operationOf(server, replaced)).status, 'Succeeded', `replace operation at ${v}`);

      const list = await armFetch(server, 'GET', withApiVersion(collectionOf(WS), v));
      assert.equal(list.status, 200, `LIST at ${v}: ${describeResponse(list)}`);
      assert.ok(
        list.body.value.some((r: { name: string }) => r.name === name),
        `LIST at ${v} names ${name}`,
      );

      const patch = await armFetch(server, 'PATCH', path, { body: { properties: { modelId: MISTRAL } } });
      // No PATCH route: the ARM envelope of an unknown method (405) or route (404); nothing changes.
      assert.ok([404, 405].includes(patch.status), `no PATCH at ${v}: ${describeResponse(patch)}`);
      assert.equal(typeof patch.body.error.code, 'string');
      assert.equal((await armFetch(server, 'GET', path)).body.properties.modelId, LLAMA);

      const del = await armFetch(server, 'DELETE', path);
      assert.equal(del.status, 202, `DELETE at ${v}: ${describeResponse(del)}`);
      assert.ok(del.headers.get('location'), 'DELETE 202 carries Location');
      assert.equal((await followLocation(server, del)).status, 204, `the delete's result at ${v}`);
      assert.equal((await armFetch(server, 'GET', path)).status, 404, `GET after DELETE at ${v}`);
      assert.equal((await armFetch(server, 'DELETE', path)).status, 204, `DELETE of an absent one at ${v}`);
    }
  });

  test('LIST pages with nextLink past a page of subscriptions', async () => {
    const ws = 'ws-marketplace-paging';
    await createWorkspace(server, SUB, RG, ws);
    const count = 105;
    for (let i = 0; i < count; i++) {
      const res = await armFetch(
        server,
        'PUT',
        withApiVersion(subPath(ws, `sub-${String(i).padStart(3, '0')}`), '2025-09-01'),
        {
          body: { properties: { modelId: `${LLAMA}-${i}` } },
        },
      );
      assert.equal(res.status, 201, describeResponse(res));
    }
    const first = await armFetch(server, 'GET', withApiVersion(collectionOf(ws), '2025-09-01'));
    assert.equal(first.status, 200, describeResponse(first));
    assert.ok(typeof first.body.nextLink === 'string', 'a first page names the next');
    const second = await armFetch(server, 'GET', first.body.nextLink);
    assert.equal(first.body.value.length + second.body.value.length, count);
  });

  test('validation: modelId required, a catalog id; closed versions refuse location, tags and bad names', async () => {
    const reject = async (v: string, body: unknown, name: string, why: string) => {
      const res = await armFetch(server, 'PUT', withApiVersion(subPath(WS, name), v), { body });
      assert.equal(res.status, 400, `${why} at ${v}: ${describeResponse(res)}`);
      return res.body.error;
    };
    for (const v of VERSIONS) {
      const missing = await reject(v, { properties: {} }, 'no-model', 'no modelId');
      assert.equal(missing.code, 'InvalidRequestContent');
      assert.equal(missing.target, 'properties.modelId');
      assert.match(missing.message, /required/i, `the message says modelId is required (${v})`);
      const noProps = await reject(v, {}, 'no-properties', 'no properties');
      assert.equal(noProps.target, 'properties');
      assert.match(noProps.message, /required/i);
      assert.equal(
        (await reject(v, { properties: { modelId: '' } }, 'empty', 'empty modelId')).target,
        'properties.modelId',
      );
      const notCatalog = await reject(v, { properties: { modelId: 'gpt-4o' } }, 'not-catalog', 'a non-catalog id');
      assert.equal(notCatalog.target, 'properties.modelId');
      assert.match(notCatalog.message, /azureml:\/\/registries/);
    }
    for (const v of CLOSED) {
      const body = { location: 'eastus', properties: { modelId: LLAMA } };
      assert.equal((await reject(v, body, 'with-location', 'location on a proxy resource')).target, 'location');
      await reject(v, { tags: { a: 'b' }, properties: { modelId: LLAMA } }, 'with-tags', 'tags on a proxy resource');
      await reject(v, { properties: { modelId: LLAMA, extra: 1 } }, 'with-extra', 'an unknown property');
      const bad = await reject(v, { properties: { modelId: LLAMA } }, '-leading-dash', 'the name pattern');
      assert.equal(bad.code, 'InvalidResourceName');
    }
    for (const v of OPEN) {
      const path = withApiVersion(subPath(WS, `open-${tag(v)}`), v);
      const body = { location: 'eastus', tags: { a: 'b' }, sku: { name: 'x' }, properties: { modelId: LLAMA, x: 1 } };
      const res = await armFetch(server, 'PUT', path, { body });
      assert.equal(res.status, 201, `open ${v} drops unknown members: ${describeResponse(res)}`);
      assert.equal(res.body.location, undefined);
      assert.equal(res.body.tags, undefined);
      assert.equal(res.body.properties.x, undefined);
      const noPattern = withApiVersion(subPath(WS, `-dash-${tag(v)}`), v);
      assert.equal((await armFetch(server, 'PUT', noPattern, { body })).status, 201, `TypeSpec has no pattern (${v})`);
    }
  });

  test('marketplacePlan is derived from the model id; read-only fields sent by the client are ignored', async () => {
    const cases: [string, Record<string, string>][] = [
      [
        LLAMA,
        {
          publisherId: 'metagenai',
          offerId: 'meta-llama-3-8b-instruct-offer',
          planId: 'meta-llama-3-8b-instruct-plan',
        },
      ],
      [
        `${MISTRAL}/versions/2`,
        { publisherId: '000-000', offerId: 'mistral-large-offer', planId: 'mistral-large-plan' },
      ],
      [
        'azureml://registries/azureml-cohere/models/Cohere-command-r',
        { publisherId: 'cohere', offerId: 'cohere-command-r-offer', planId: 'cohere-command-r-plan' },
      ],
      [
        'azureml://registries/azureml-nvidia/models/Nemotron.4',
        { publisherId: 'nvidia', offerId: 'nemotron-4-offer', planId: 'nemotron-4-plan' },
      ],
      // Microsoft's own registry: Azure's templates skip the subscription for it; amlite accepts one (not known to be refused).
      [
        PHI,
        { publisherId: 'microsoft', offerId: 'phi-3-mini-4k-instruct-offer', planId: 'phi-3-mini-4k-instruct-plan' },
      ],
    ];
    for (const [i, [modelId, plan]] of cases.entries()) {
      const body = {
        properties: {
          modelId,
          marketplacePlan: { publisherId: 'forged', offerId: 'forged', planId: 'forged' },
          marketplaceSubscriptionStatus: 'Unsubscribed',
        },
      };
      const res = await armFetch(server, 'PUT', withApiVersion(subPath(WS, `plan-${i}`), '2025-09-01'), { body });
      assert.equal(res.status, 201, describeResponse(res));
      const got = await waitForTerminal(server, subPath(WS, `plan-${i}`), '2026-03-15-preview');
      assert.deepEqual(got.properties.marketplacePlan, plan, modelId);
      assert.equal(got.properties.marketplaceSubscriptionStatus, 'Subscribed');
      assert.equal(got.properties.modelId, modelId);
    }
  });

  test("a serverless endpoint shows its workspace's subscription for its model in marketplaceSubscriptionId", async () => {
    const ws = 'ws-marketplace-link';
    const other = 'ws-marketplace-other';
    await createWorkspace(server, SUB, RG, ws);
    await createWorkspace(server, SUB, RG, other);
    const sub = await subscribe(server, ws, 'llama-sub', LLAMA);
    const withModel = (modelId: string, extra: Record<string, unknown> = {}) => {
      const body = endpointBody(extra);
      body.properties.modelSettings = { modelId };
      return body;
    };
    for (const v of ['2024-04-01', '2025-09-01', '2026-03-15-preview']) {
      // Another casing and a version suffix name the same model; a client's own value is read-only and ignored.
      const body = withModel(`${LLAMA.toUpperCase()}/versions/3`, { marketplaceSubscriptionId: 'forged' });
      const { final } = await putAndWait(server, endpointPath(SUB, RG, ws, `llama-${tag(v)}`), v, body);
      assert.equal(final.properties.provisioningState, 'Succeeded');
      assert.equal(final.properties.marketplaceSubscriptionId, sub.id, `linked at ${v}`);
      const list = await armFetch(
        server,
        'GET',
        withApiVersion(`${workspacePath(SUB, RG, ws)}/serverlessEndpoints`, v),
      );
      const listed = list.body.value.find((e: { name: string }) => e.name === `llama-${tag(v)}`);
      assert.equal(listed.properties.marketplaceSubscriptionId, sub.id, `in LIST at ${v}`);
    }
    // A replace keeps the link.
    const again = await putAndWait(server, endpointPath(SUB, RG, ws, 'llama-20250901'), '2025-09-01', withModel(LLAMA));
    assert.equal(again.final.properties.marketplaceSubscriptionId, sub.id);
    const unlinked = await putAndWait(server, endpointPath(SUB, RG, ws, 'mistral'), '2025-09-01', withModel(MISTRAL));
    assert.equal(unlinked.final.properties.marketplaceSubscriptionId, undefined, 'no subscription for that model');
    const elsewhere = await putAndWait(server, endpointPath(SUB, RG, other, 'llama'), '2025-09-01', withModel(LLAMA));
    assert.equal(elsewhere.final.properties.marketplaceSubscriptionId, undefined, "another workspace's is not used");
    assert.equal(unlinked.final.properties.provisioningState, 'Succeeded', 'off by default: no subscription needed');
  });

  test('the provider lists the type at every version; an unknown version is refused', async () => {
    const res = await armFetch(
      server,
      'GET',
      withApiVersion(`/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices`, RG_API_VERSION),
    );
    assert.equal(res.status, 200, describeResponse(res));
    const entry = res.body.resourceTypes.find(
      (t: { resourceType: string }) => t.resourceType === 'workspaces/marketplaceSubscriptions',
    );
    assert.deepEqual([...entry.apiVersions].sort(), [...VERSIONS].sort());
    const old = await armFetch(server, 'GET', withApiVersion(subPath(WS, 'x'), '2023-08-01-preview'));
    assert.equal(old.status, 400, describeResponse(old));
    assert.equal(old.body.error.code, 'NoRegisteredProviderFound');
  });

  test('deleting the workspace takes its subscriptions', async () => {
    const ws = 'ws-marketplace-gone';
    await createWorkspace(server, SUB, RG, ws);
    await subscribe(server, ws, 'llama', LLAMA);
    const del = await armFetch(server, 'DELETE', withApiVersion(workspacePath(SUB, RG, ws), '2025-09-01'));
    assert.ok(del.status === 200 || del.status === 202 || del.status === 204, describeResponse(del));
    await followLocation(server, del);
    const got = await armFetch(server, 'GET', withApiVersion(subPath(ws, 'llama'), '2025-09-01'));
    assert.equal(got.status, 404, describeResponse(got));
  });
});

describe('--require-marketplace-subscription', () => {
  let server: RunningServer;
  const ws = 'ws-required';
  before(async () => {
    server = await startTestServer({ requireMarketplaceSubscription: true });
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, ws);
  });
  after(() => server.close());

  const create = (name: string, modelId: string, v = '2025-09-01') => {
    const body = endpointBody();
    body.properties.modelSettings = { modelId };
    return armFetch(server, 'PUT', withApiVersion(endpointPath(SUB, RG, ws, name), v), { body });
  };

  test('a third-party model without a subscription: the create operation fails, as in Azure', async () => {
    const res = await create('no-sub', MISTRAL);
    assert.equal(res.status, 201, describeResponse(res));
    const op = await operationOf(server, res);
    assert.equal(op.status, 'Failed', JSON.stringify(op));
    assert.equal(op.error.code, 'MarketplaceSubscriptionNotFound');
    assert.match(op.error.message, /Mistral-large/);
    assert.match(op.error.message, /marketplaceSubscriptions/);
    const got = await armFetch(server, 'GET', withApiVersion(endpointPath(SUB, RG, ws, 'no-sub'), '2025-09-01'));
    assert.equal(got.body.properties.provisioningState, 'Failed');
    assert.equal(got.body.properties.endpointState, 'CreationFailed');
  });

  test('with a Subscribed subscription the create succeeds and links it; first-party models need none', async () => {
    const sub = await subscribe(server, ws, 'mistral', MISTRAL, '2026-03-15-preview');
    for (const v of ['2024-04-01', '2026-03-15-preview']) {
      const res = await create(`with-sub-${tag(v)}`, MISTRAL, v);
      assert.equal(res.status, 201, describeResponse(res));
      assert.equal((await operationOf(server, res)).status, 'Succeeded', `at ${v}`);
      const got = await waitForTerminal(server, endpointPath(SUB, RG, ws, `with-sub-${tag(v)}`), v);
      assert.equal(got.properties.marketplaceSubscriptionId, sub.id);
    }
    const phi = await create('phi', PHI);
    assert.equal((await operationOf(server, phi)).status, 'Succeeded', 'the azureml registry is first-party');
  });

  test('a marketplaceSubscriptionId sent by the client is read-only: no stand-in for a subscription', async () => {
    const fake = `${workspacePath(SUB, RG, ws)}/marketplaceSubscriptions/not-there`;
    for (const v of ['2024-04-01', '2026-03-15-preview']) {
      const body = endpointBody();
      body.properties.modelSettings = { modelId: 'azureml://registries/azureml-ai21/models/AI21-Jamba-1.5-Large' };
      (body.properties as Record<string, unknown>).marketplaceSubscriptionId = fake;
      const path = endpointPath(SUB, RG, ws, `sent-link-${tag(v)}`);
      const res = await armFetch(server, 'PUT', withApiVersion(path, v), { body });
      assert.equal(res.status, 201, describeResponse(res));
      const op = await operationOf(server, res);
      assert.equal(op.status, 'Failed', `at ${v}: ${JSON.stringify(op)}`);
      assert.equal(op.error.code, 'MarketplaceSubscriptionNotFound');
    }
  });

  test('a deleted subscription no longer counts', async () => {
    await subscribe(server, ws, 'cohere', 'azureml://registries/azureml-cohere/models/Cohere-command-r');
    const del = await armFetch(server, 'DELETE', withApiVersion(subPath(ws, 'cohere'), '2025-09-01'));
    await followLocation(server, del);
    const res = await create('cohere-ep', 'azureml://registries/azureml-cohere/models/Cohere-command-r');
    assert.equal((await operationOf(server, res)).status, 'Failed');
  });

  test('the setting: off by default, a flag and an environment variable', () => {
    assert.equal(loadConfig([], {}).requireMarketplaceSubscription, false);
    assert.equal(loadConfig(['--require-marketplace-subscription'], {}).requireMarketplaceSubscription, true);
    const env = { AMLITE_REQUIRE_MARKETPLACE_SUBSCRIPTION: 'true' };
    assert.equal(loadConfig([], env).requireMarketplaceSubscription, true);
  });
});
