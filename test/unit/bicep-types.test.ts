// Proves the per-version validator (test/support/bicep-types.ts) catches each kind of violation, on the digest's
// real type graphs. Needs no server: only ../shared/specs/azure-ml/api-versions/bicep-types.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  bicepTypesDir,
  classify,
  loadBicepTypes,
  validateExchange,
  validateRequest,
  validateResource,
  type BicepTypes,
  type Violation,
} from '../support/bicep-types.js';
import type { TrafficRecord } from '../support/conformance.js';

const SKIP = '../shared/specs/azure-ml/api-versions/bicep-types not found: skipped';
const HAND = '2025-09-01'; // hand-written swagger: closed objects, S3 (Key only)
const TYPESPEC = '2026-03-15-preview'; // TypeSpec: open objects, S5
const EARLY = '2024-01-01-preview'; // S2: DELETE may answer 200, getStatus exists
const WS =
  'https://h/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg' +
  '/providers/Microsoft.MachineLearningServices/workspaces/ws-unit';
const EP = `${WS}/serverlessEndpoints/ep1`;
const SERVERLESS = 'workspaces/serverlessEndpoints';
const WS_TYPE = 'Microsoft.MachineLearningServices/workspaces';

function withTypes(version: string, body: (types: BicepTypes) => void) {
  return (t: TestContext) => {
    const types = bicepTypesDir() && loadBicepTypes(version);
    if (!types) return t.skip(SKIP);
    body(types);
  };
}

function endpoint(): Record<string, any> {
  return {
    id: EP.slice('https://h'.length),
    name: 'ep1',
    type: 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints',
    location: 'eastus',
    tags: { a: 'b' },
    sku: { name: 'Consumption', tier: 'Standard', capacity: 1 },
    systemData: { createdBy: 'me', createdByType: 'User', createdAt: '2025-01-01T00:00:00Z' },
    properties: {
      authMode: 'Key',
      modelSettings: { modelId: 'azureml://registries/azureml-meta/models/Llama-2-7b-chat' },
      contentSafety: { contentSafetyStatus: 'Enabled' },
      provisioningState: 'Succeeded',
      endpointState: 'Online',
      inferenceEndpoint: { uri: 'https://ep1.example', headers: {} },
      marketplaceSubscriptionId: null,
    },
  };
}

const response = (types: BicepTypes, body: unknown, type = SERVERLESS) =>
  validateResource(types, type, body, { direction: 'response' });
const kinds = (found: Violation[]) => found.map((v) => `${v.kind} ${v.path}`);

function rec(method: string, url: string, status: number, body?: unknown, more: Partial<TrafficRecord> = {}) {
  return { method, url, status, headers: {}, body, ...more } satisfies TrafficRecord;
}

test(
  'a well-formed endpoint passes at a hand-written and a TypeSpec version',
  withTypes(HAND, (types) => {
    assert.deepEqual(response(types, endpoint()), []);
    const preview = loadBicepTypes(TYPESPEC);
    assert.ok(preview);
    const body = endpoint();
    body.properties.contentSafety.contentSafetyLevel = 'Deferred';
    assert.deepEqual(response(preview, body), []);
  }),
);

test(
  'unknown properties: violations on closed (hand-written) objects, allowed on open (TypeSpec) ones, maps open',
  withTypes(HAND, (types) => {
    const body = endpoint();
    body.etag = 'W/"1"';
    body.properties.contentSafety.contentSafetyLevel = 'Blocking'; // S3 has no level
    body.systemData.createdVia = 'portal';
    body.tags = { any: 'x', other: 'y' };
    body.properties.inferenceEndpoint.headers = { 'x-any': 'v' };
    assert.deepEqual(kinds(response(types, body)).sort(), [
      'unknown-property etag',
      'unknown-property properties.contentSafety.contentSafetyLevel',
      'unknown-property systemData.createdVia',
    ]);
    const open = loadBicepTypes(TYPESPEC);
    assert.ok(open);
    body.properties.contentSafety.contentSafetyLevel = 'Blocking';
    assert.deepEqual(response(open, body), []);
    assert.deepEqual(kinds(validateResource(open, SERVERLESS, body, { direction: 'response', closed: true })).sort(), [
      'unknown-property etag',
      'unknown-property systemData.createdVia',
    ]);
  }),
);

test(
  'wrong types: string, integer, object, array, boolean',
  withTypes(HAND, (types) => {
    const cases: [(b: Record<string, any>) => void, string][] = [
      [(b) => (b.location = 42), 'wrong-type location'],
      [(b) => (b.sku.capacity = '1'), 'wrong-type sku.capacity'],
      [(b) => (b.sku.capacity = 1.5), 'wrong-type sku.capacity'],
      [(b) => (b.properties.modelSettings = 'm'), 'wrong-type properties.modelSettings'],
      [(b) => (b.tags = ['a']), 'wrong-type tags'],
      [(b) => (b.tags = { a: 1 }), 'wrong-type tags.a'],
    ];
    for (const [breakIt, expected] of cases) {
      const body = endpoint();
      breakIt(body);
      assert.deepEqual(kinds(response(types, body)), [expected]);
    }
    const ws = loadBicepTypes(HAND);
    assert.ok(ws);
    const workspace = { id: '/x', name: 'ws', type: WS_TYPE, location: 'eastus', properties: { hbiWorkspace: 'yes' } };
    assert.deepEqual(kinds(response(ws, workspace, 'workspaces')), ['wrong-type properties.hbiWorkspace']);
  }),
);

test(
  'enums: a closed union rejects other values, an open one (modelAsString) takes any string but not a number',
  withTypes(HAND, (types) => {
    const body = endpoint();
    body.sku.tier = 'Gold'; // Free | Basic | Standard | Premium, closed
    body.properties.authMode = 'AAD'; // Key | string: open
    const found = response(types, body);
    assert.deepEqual(kinds(found), ['enum sku.tier']);
    assert.match(found[0]?.message ?? '', /one of Free, Basic, Standard, Premium, got "Gold"/);
    body.sku.tier = 'Free';
    body.properties.authMode = 7;
    assert.deepEqual(kinds(response(types, body)), ['wrong-type properties.authMode']);
    body.properties.authMode = 'Key';
    body.type = 'Microsoft.MachineLearningServices/workspaces/other'; // a string literal
    assert.deepEqual(kinds(response(types, body)), ['enum type']);
  }),
);

test(
  'required fields: missing or null in a response; in a request only the writable ones (name comes from the URL)',
  withTypes(HAND, (types) => {
    const body = endpoint();
    delete body.properties.authMode;
    body.location = null;
    body.properties.inferenceEndpoint = { headers: {} }; // uri: Required + ReadOnly
    body.properties.contentSafety = null; // optional: null is absent
    assert.deepEqual(kinds(response(types, body)).sort(), [
      'missing-required properties.authMode',
      'missing-required properties.inferenceEndpoint.uri',
      'null-required location',
    ]);
    const request = { location: 'eastus', properties: { modelSettings: { modelId: 'm' } } };
    assert.deepEqual(kinds(validateResource(types, SERVERLESS, request, { direction: 'request' })), [
      'missing-required properties.authMode',
    ]);
    const noId = endpoint();
    delete noId.id;
    assert.deepEqual(kinds(response(types, noId)), ['missing-required id']);
  }),
);

test(
  'patterns, lengths and integer ranges',
  withTypes(HAND, (types) => {
    const body = endpoint();
    body.name = '9starts-with-a-digit'; // the PUT path's pattern, not the response's: GET has none
    body.identity = { type: 'SystemAssigned', principalId: 'not-a-guid' }; // pattern + length 36
    assert.deepEqual(kinds(response(types, body)).sort(), [
      'length identity.principalId',
      'pattern identity.principalId',
    ]);
    const put = (name: string, v: string) =>
      kinds(
        validateRequest('PUT', `${WS}/serverlessEndpoints/${name}?api-version=${v}`, {
          location: 'l',
          properties: { authMode: 'Key' },
        }),
      );
    assert.deepEqual(put('9starts-with-a-digit', HAND), ['pattern request:url:name']); // ^[a-zA-Z][a-zA-Z0-9-]{0,51}$
    assert.deepEqual(put('9starts-with-a-digit', TYPESPEC), [], 'TypeSpec PUTs have no name pattern');
    const early = loadBicepTypes('2023-08-01-preview');
    assert.ok(early);
    const s1 = {
      location: 'eastus',
      properties: {
        offer: { publisher: '', offerName: 'x' }, // minLength 1
        capacityReservation: { capacityReservationGroupId: 'g', endpointReservedCapacity: 'many' },
      },
    };
    assert.deepEqual(kinds(validateResource(early, SERVERLESS, s1, { direction: 'request' })).sort(), [
      'length properties.offer.publisher',
      'pattern properties.offer.publisher',
      'wrong-type properties.capacityReservation.endpointReservedCapacity',
    ]);
  }),
);

test(
  'write-only fields shown in a response; read-only fields in a request (reported only when asked)',
  withTypes(HAND, (types) => {
    // OnlineEndpointProperties.keys is write-only (flags 4) in every version
    const online = {
      id: '/x',
      name: 'oe',
      type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
      location: 'eastus',
      properties: { authMode: 'Key', keys: { primaryKey: 'p' } },
    };
    assert.deepEqual(kinds(response(types, online, 'workspaces/onlineEndpoints')), [
      'write-only-in-response properties.keys',
    ]);
    const request = { location: 'eastus', properties: { authMode: 'Key', provisioningState: 'Failed' } };
    const options = { direction: 'request' as const };
    assert.deepEqual(validateResource(types, SERVERLESS, request, options), []);
    assert.deepEqual(kinds(validateResource(types, SERVERLESS, request, { ...options, readOnlyInRequest: true })), [
      'read-only-in-request properties.provisioningState',
    ]);
    // connection credentials are secrets though bicep does not flag them (issue 15 §2)
    const conn = `${WS}/connections/c1?api-version=${HAND}`;
    const body = {
      id: '/c',
      name: 'c1',
      type: 'Microsoft.MachineLearningServices/workspaces/connections',
      properties: { authType: 'ApiKey', category: 'AzureOpenAI', credentials: { key: 'secret' } },
    };
    assert.deepEqual(kinds(validateExchange(rec('GET', conn, 200, body))), [
      'write-only-in-response properties.credentials',
    ]);
  }),
);

test(
  'discriminated objects: unknown discriminator, and each variant closed on its own properties',
  withTypes(HAND, (types) => {
    const conn = (properties: unknown) => ({ id: '/c', name: 'c1', type: `${WS_TYPE}/connections`, properties });
    const type = 'workspaces/connections';
    assert.deepEqual(response(types, conn({ authType: 'ApiKey', category: 'AzureOpenAI' }), type), []);
    assert.deepEqual(kinds(response(types, conn({ authType: 'Magic' }), type)), ['discriminator properties']);
    assert.deepEqual(kinds(response(types, conn({ authType: 'PAT', credentials: { key: 'k' } }), type)), [
      'unknown-property properties.credentials.key',
    ]);
  }),
);

test(
  'status codes and LRO headers per version (API-VERSIONS.md §4)',
  withTypes(HAND, () => {
    const at = (v: string) => `${EP}?api-version=${v}`;
    const codes = (r: TrafficRecord) => kinds(validateExchange(r));
    // DELETE 200 only in hand-written previews
    assert.deepEqual(codes(rec('DELETE', at(HAND), 200)), ['status ']);
    assert.deepEqual(codes(rec('DELETE', at(TYPESPEC), 200)), ['status ']);
    assert.deepEqual(codes(rec('DELETE', at(EARLY), 200)), []);
    assert.deepEqual(codes(rec('DELETE', at(HAND), 202)), ['header ']);
    assert.deepEqual(codes(rec('DELETE', at(HAND), 202, undefined, { headers: { location: 'https://h/r' } })), []);
    // PUT 201 needs Azure-AsyncOperation; PATCH 202 Location and (hand-written) Retry-After 10..600
    const created = endpoint();
    assert.deepEqual(
      codes(rec('PUT', at(HAND), 201, created, { requestBody: { location: 'l', properties: { authMode: 'Key' } } })),
      ['header '],
    );
    const patch = (headers: Record<string, string>, v = HAND) =>
      codes(rec('PATCH', at(v), 202, undefined, { headers }));
    assert.deepEqual(patch({ location: 'https://h/r', 'retry-after': '1' }), ['header ']);
    assert.deepEqual(patch({ location: 'https://h/r', 'retry-after': '1' }, TYPESPEC), []);
    // workspaces: never 201; marketplace: no PATCH
    const ws = `${WS}?api-version=${HAND}`;
    const workspace = { id: '/w', name: 'ws', type: WS_TYPE, location: 'eastus', properties: {} };
    assert.deepEqual(codes(rec('PUT', ws, 201, workspace, { requestBody: { location: 'eastus' } })), ['status ']);
    const sub = `${WS}/marketplaceSubscriptions/s1?api-version=${HAND}`;
    assert.deepEqual(codes(rec('PATCH', sub, 200, {})).slice(0, 1), ['status ']);
    // errors: only the envelope is checked
    assert.deepEqual(codes(rec('GET', at(HAND), 404, { error: { code: 'NotFound', message: 'no' } })), []);
    assert.deepEqual(codes(rec('GET', at(HAND), 404, { message: 'no' })), ['body ']);
  }),
);

test(
  'actions, lists and request bodies; classification of URLs',
  withTypes(HAND, () => {
    const url = (path: string, v = HAND) => `${EP}${path}?api-version=${v}`;
    const check = (r: TrafficRecord) => kinds(validateExchange(r));
    assert.deepEqual(check(rec('POST', url('/listKeys'), 200, { primaryKey: 'a', secondaryKey: 'b' })), []);
    assert.deepEqual(check(rec('POST', url('/listKeys'), 200, { primary: 'a' })), ['unknown-property primary']);
    const regen = (body: unknown) =>
      check(rec('POST', url('/regenerateKeys'), 200, { primaryKey: 'a' }, { requestBody: body }));
    assert.deepEqual(regen({ keyType: 'Secondary' }), []);
    assert.deepEqual(regen({}), ['missing-required request:keyType']);
    assert.deepEqual(check(rec('POST', url('/getStatus'), 200, {})), ['no-definition request:', 'no-definition ']);
    assert.deepEqual(check(rec('POST', url('/getStatus', EARLY), 200, { metrics: { a: 'b' } })), []);
    const list = (body: unknown) => check(rec('GET', `${WS}/serverlessEndpoints?api-version=${HAND}`, 200, body));
    assert.deepEqual(list({ value: [endpoint()], nextLink: 'https://h/next' }), []);
    const bad = endpoint();
    bad.properties.extra = 1;
    assert.deepEqual(list({ value: [bad], count: 1 }), [
      'unknown-property value[0].properties.extra',
      'unknown-property count',
    ]);
    assert.deepEqual(check(rec('PUT', url(''), 200, endpoint(), { requestBody: { location: 'l', properties: {} } })), [
      'missing-required request:properties.authMode',
    ]);
    assert.deepEqual(classify(rec('GET', `${WS}/inferencePools/p/groups?api-version=${TYPESPEC}`, 200)), {
      resourceType: 'workspaces/inferencePools/groups',
      op: 'list',
      version: TYPESPEC,
    });
    const status =
      'https://h/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/x';
    assert.equal(classify(rec('GET', `${status}?api-version=${HAND}`, 200)), undefined);
    assert.deepEqual(
      check(rec('GET', url('', '2019-01-01'), 200, { nonsense: true })),
      [],
      'no digest for that version',
    );
  }),
);
