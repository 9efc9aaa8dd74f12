// Proves the conformance checker (test/support/conformance.ts) accepts the official examples and
// rejects broken responses. Needs no server: only ../shared/specs.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import {
  assertConformant,
  loadSpecs,
  validateRecord,
  walk,
  type Operation,
  type Specs,
  type TrafficRecord,
  type ValidateOptions,
} from './support/conformance.js';
import { recordedFetch, recordingPolicy } from './support/recorder.js';
import {
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  createDefaultHttpClient,
} from '@azure/core-rest-pipeline';

const SKIP = '../shared/specs not found: conformance tests skipped';
const specs = loadSpecs();
const STABLE = '2025-09-01';
const PREVIEW = '2026-03-15-preview';
const WS =
  '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/test-rg' +
  '/providers/Microsoft.MachineLearningServices/workspaces/my-aml-workspace';
const ENDPOINT = `${WS}/serverlessEndpoints/ep1`;

/** Runs `body` with the loaded specs, or skips the test when ../shared/specs is absent. */
function withSpecs(body: (specs: Specs, t: TestContext) => void | Promise<void>) {
  return async (t: TestContext) => {
    if (!specs) {
      t.skip(SKIP);
      return;
    }
    await body(specs, t);
  };
}

interface ExampleFile {
  parameters: Record<string, unknown>;
  responses: Record<string, { headers?: Record<string, string>; body?: unknown }>;
}

interface ExampleCase {
  operationId: string;
  status: string;
  file: string;
  record: TrafficRecord;
}

/**
 * One TrafficRecord per (example, status) of every operation of `version`. An example the subset
 * references but does not hold is taken from another folder with the same path under `examples/`
 * (for 2026-03-15-preview: the 2025-10-01-preview copies; see SUMMARY.md).
 */
function exampleCases(specs: Specs, version: string): ExampleCase[] {
  const api = specs.apis.get(version);
  assert.ok(api, `no swagger for ${version}`);
  const allExamples = walk(specs.dir, (name) => name.endsWith('.json')).filter((f) => f.includes('/examples/'));
  const underExamples = (file: string) => file.slice(file.lastIndexOf('/examples/'));
  const cases: ExampleCase[] = [];
  for (const op of api.operations) {
    for (const ref of op.examples) {
      const candidates = allExamples.filter((f) => underExamples(f) === underExamples(ref.file));
      const file =
        candidates.find((f) => f === ref.file) ?? candidates.find((f) => f.includes('-preview')) ?? candidates[0];
      assert.ok(file, `${op.operationId}: example ${ref.file} not found`);
      const example = JSON.parse(readFileSync(file, 'utf8')) as ExampleFile;
      for (const [status, response] of Object.entries(example.responses)) {
        cases.push({
          operationId: op.operationId,
          status,
          file,
          record: exampleRecord(op, version, example, status, response),
        });
      }
    }
  }
  return cases;
}

function exampleRecord(
  op: Operation,
  version: string,
  example: ExampleFile,
  status: string,
  response: ExampleFile['responses'][string],
): TrafficRecord {
  const path = op.template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = example.parameters[name];
    assert.ok(value !== undefined, `${op.operationId}: example has no parameter ${name}`);
    return encodeURIComponent(String(value));
  });
  const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: op.method,
    url: `https://management.azure.com${path}?api-version=${version}`,
    requestBody: example.parameters.body,
    status: Number(status),
    headers,
    body: response.body,
  };
}

/** Problems of the given cases, prefixed with `operationId status`. */
function problemsOf(specs: Specs, cases: ExampleCase[], options: ValidateOptions): string[] {
  return cases.flatMap((c) => {
    const result = validateRecord(specs, c.record, options);
    assert.equal(result.operationId, c.operationId, `${c.file} matched the wrong operation`);
    return result.problems.map((p) => `${c.operationId} ${c.status}: ${p.slice(p.indexOf(': ') + 2)}`);
  });
}

// The official examples themselves omit LRO headers that the swagger declares (see SUMMARY.md).
const KNOWN_STABLE_EXAMPLE_DEFECTS = [
  'ServerlessEndpoints_CreateOrUpdate 201: missing response header Azure-AsyncOperation (declared for 201)',
  'ServerlessEndpoints_Update 202: missing response header Location (declared for 202)',
  'ServerlessEndpoints_RegenerateKeys 202: missing response header Location (declared for 202)',
];

const KNOWN_PREVIEW_EXAMPLE_DEFECTS = [
  ...KNOWN_STABLE_EXAMPLE_DEFECTS, // the serverless examples exist only in the 2025-09-01 folder
  'InferencePools_CreateOrUpdate 201: missing response header Azure-AsyncOperation (declared for 201)',
  'InferenceGroups_CreateOrUpdate 201: missing response header Azure-AsyncOperation (declared for 201)',
  'InferenceEndpoints_CreateOrUpdate 201: missing response header Azure-AsyncOperation (declared for 201)',
];

test(
  'loads both swagger subsets with their operations',
  withSpecs((specs) => {
    assert.deepEqual([...specs.apis.keys()].sort(), [STABLE, PREVIEW]);
    assert.equal(specs.apis.get(STABLE)?.operations.length, 7);
    assert.equal(specs.apis.get(PREVIEW)?.operations.length, 27);
    const preview = specs.apis.get(PREVIEW)?.operations.map((op) => op.operationId) ?? [];
    assert.ok(preview.includes('InferencePools_CreateOrUpdate') && preview.includes('ServerlessEndpoints_ListKeys'));
    assert.equal(loadSpecs(), specs, 'loadSpecs caches');
  }),
);

test(
  'official 2025-09-01 serverless examples conform (only their known header omissions are reported)',
  withSpecs((specs) => {
    const cases = exampleCases(specs, STABLE);
    assert.equal(new Set(cases.map((c) => c.operationId)).size, 7, 'every stable operation has an example');
    assert.deepEqual(problemsOf(specs, cases, {}).sort(), [...KNOWN_STABLE_EXAMPLE_DEFECTS].sort());
  }),
);

test(
  'official examples match the 2026-03-15-preview swagger in structure',
  withSpecs((specs) => {
    const cases = exampleCases(specs, PREVIEW);
    assert.equal(new Set(cases.map((c) => c.operationId)).size, 27, 'every preview operation has an example');
    // Placeholders such as nextLink "string" break `format: uri`: examples are checked for structure only.
    assert.deepEqual(
      problemsOf(specs, cases, { ignoreFormats: true }).sort(),
      [...KNOWN_PREVIEW_EXAMPLE_DEFECTS].sort(),
    );
  }),
);

// ---- deliberately broken responses --------------------------------------------------------------

function goodEndpoint(): Record<string, any> {
  return {
    id: ENDPOINT,
    name: 'ep1',
    type: 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints',
    location: 'eastus',
    tags: { team: 'ml' },
    kind: 'Serverless',
    sku: { name: 'Consumption', tier: 'Standard', capacity: 1 },
    identity: { type: 'None' },
    systemData: {
      createdBy: 'dev@contoso.com',
      createdByType: 'User',
      createdAt: '2025-01-01T00:00:00.000Z',
      lastModifiedBy: 'dev@contoso.com',
      lastModifiedByType: 'User',
      lastModifiedAt: '2025-01-01T00:00:00.000Z',
    },
    properties: {
      authMode: 'Key',
      modelSettings: { modelId: 'azureml://registries/azureml-meta/models/Llama-2-7b-chat/versions/24' },
      contentSafety: { contentSafetyStatus: 'Enabled' },
      provisioningState: 'Succeeded',
      endpointState: 'Online',
      inferenceEndpoint: { uri: 'https://ep1.eastus.models.ai.azure.com', headers: {} },
      marketplaceSubscriptionId: null,
    },
  };
}

function getRecord(body: unknown, overrides: Partial<TrafficRecord> = {}): TrafficRecord {
  return {
    method: 'GET',
    url: `http://127.0.0.1:8443${ENDPOINT}?api-version=${STABLE}`,
    status: 200,
    headers: {},
    body,
    ...overrides,
  };
}

function record(
  method: string,
  url: string,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): TrafficRecord {
  return { method, url, status, headers, body };
}

function problems(specs: Specs, rec: TrafficRecord, options: ValidateOptions = {}): string[] {
  return validateRecord(specs, rec, options).problems;
}

function assertOneProblem(found: string[], pattern: RegExp): void {
  assert.equal(found.length, 1, `expected exactly one problem, got:\n${found.join('\n')}`);
  assert.match(found[0] ?? '', pattern);
}

test(
  'a well-formed response passes, including allOf-inherited TrackedResource fields and nulls',
  withSpecs((specs) => {
    const rec = getRecord(goodEndpoint());
    assert.deepEqual(validateRecord(specs, rec), { operationId: 'ServerlessEndpoints_Get', problems: [] });
    const body = goodEndpoint();
    body.properties.contentSafety = null; // x-nullable
    body.properties.inferenceEndpoint = null;
    body.properties.modelSettings = { modelId: null };
    assert.deepEqual(problems(specs, getRecord(body)), []);
    const preview = goodEndpoint();
    preview.properties.authMode = 'KeyAndAAD';
    preview.properties.contentSafety = { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Deferred' };
    assert.deepEqual(problems(specs, getRecord(preview, { url: `https://h${ENDPOINT}?api-version=${PREVIEW}` })), []);
  }),
);

test(
  'wrong enum value (modelAsString false) is reported',
  withSpecs((specs) => {
    const body = goodEndpoint();
    body.sku.tier = 'Gold';
    assertOneProblem(
      problems(specs, getRecord(body)),
      /^GET \/subscriptions\/.*\/serverlessEndpoints\/ep1 200: body\/sku\/tier must be equal to one of the allowed values: Free, Basic, Standard, Premium \(got "Gold"\)$/,
    );
  }),
);

test(
  'extensible enums (modelAsString true) accept any string unless strictEnums is set',
  withSpecs((specs) => {
    const body = goodEndpoint();
    body.properties.authMode = 'AAD'; // only `Key` is listed in 2025-09-01
    assert.deepEqual(problems(specs, getRecord(body)), []);
    assertOneProblem(
      problems(specs, getRecord(body), { strictEnums: true }),
      /body\/properties\/authMode must be equal to one of the allowed values: Key \(got "AAD"\)/,
    );
    body.properties.authMode = 42;
    assertOneProblem(problems(specs, getRecord(body)), /body\/properties\/authMode must be string/);
  }),
);

test(
  'undeclared fields are OBJECT_ADDITIONAL_PROPERTIES, at any depth',
  withSpecs((specs) => {
    const body = goodEndpoint();
    body.etag = 'W/"1"';
    body.properties.extraField = 1;
    body.systemData.createdVia = 'portal'; // types.json declares no additionalProperties: closed by default
    const found = problems(specs, getRecord(body));
    assert.deepEqual(found.map((p) => p.slice(p.indexOf(': ') + 2)).sort(), [
      'OBJECT_ADDITIONAL_PROPERTIES at body/etag',
      'OBJECT_ADDITIONAL_PROPERTIES at body/properties/extraField',
      'OBJECT_ADDITIONAL_PROPERTIES at body/systemData/createdVia',
    ]);
    // Declared maps stay open.
    const maps = goodEndpoint();
    maps.tags = { a: '1', b: '2' };
    maps.properties.inferenceEndpoint.headers = { 'x-any': 'v' };
    assert.deepEqual(problems(specs, getRecord(maps)), []);
  }),
);

test(
  'missing required fields are reported',
  withSpecs((specs) => {
    const body = goodEndpoint();
    delete body.properties.authMode;
    delete body.location;
    const found = problems(specs, getRecord(body));
    assert.equal(found.length, 2, found.join('\n'));
    assert.ok(found.some((p) => /body must have required property 'location'/.test(p)));
    assert.ok(found.some((p) => /body\/properties must have required property 'authMode'/.test(p)));
  }),
);

test(
  'wrong types, int32 range, non-nullable null and formats are reported',
  withSpecs((specs) => {
    const cases: [(b: Record<string, any>) => void, RegExp][] = [
      [(b) => (b.sku.capacity = '1'), /body\/sku\/capacity must be integer \(got "1"\)/],
      [(b) => (b.sku.capacity = 2 ** 40), /body\/sku\/capacity must match format "int32"/],
      [(b) => (b.sku = null), /body\/sku must be object \(got null\)/],
      [(b) => (b.tags = ['a']), /body\/tags must be object/],
      [
        (b) => (b.properties.inferenceEndpoint.uri = 'not a uri'),
        /body\/properties\/inferenceEndpoint\/uri must match format "uri"/,
      ],
      [
        (b) => (b.identity = { type: 'SystemAssigned', principalId: 'abc' }),
        /body\/identity\/principalId must match format "uuid"/,
      ],
      [(b) => (b.systemData.createdAt = 'yesterday'), /body\/systemData\/createdAt must match format "date-time"/],
    ];
    for (const [breakIt, pattern] of cases) {
      const body = goodEndpoint();
      breakIt(body);
      assertOneProblem(problems(specs, getRecord(body)), pattern);
    }
    // ignoreFormats is only for example placeholders
    const body = goodEndpoint();
    body.properties.inferenceEndpoint.uri = 'string';
    assert.deepEqual(problems(specs, getRecord(body), { ignoreFormats: true }), []);
  }),
);

test(
  'duration format and preview-only definitions are checked',
  withSpecs((specs) => {
    const group = `${WS}/inferencePools/pool1/groups/g1`;
    const body = {
      id: group,
      name: 'g1',
      type: 'Microsoft.MachineLearningServices/workspaces/inferencePools/groups',
      location: 'eastus',
      properties: {
        environmentConfiguration: { livenessProbe: { period: 'PT10S', timeout: '5 seconds' } },
        properties: [{ key: 'k', value: 'v' }],
      },
    };
    const rec: TrafficRecord = {
      method: 'GET',
      url: `https://h${group}?api-version=${PREVIEW}`,
      status: 200,
      headers: {},
      body,
    };
    const result = validateRecord(specs, rec);
    assert.equal(result.operationId, 'InferenceGroups_Get');
    assertOneProblem(result.problems, /livenessProbe\/timeout must match format "duration" \(got "5 seconds"\)/);
  }),
);

test(
  'undeclared status codes, bodies and error envelopes',
  withSpecs((specs) => {
    const del = (status: number, body?: unknown, headers: Record<string, string> = {}) =>
      problems(specs, { method: 'DELETE', url: `https://h${ENDPOINT}?api-version=${STABLE}`, status, headers, body });
    assertOneProblem(
      del(200),
      /DELETE .* 200: status 200 is not declared by ServerlessEndpoints_Delete \(declared: 202, 204, default\)/,
    );
    assert.deepEqual(del(204), []);
    assertOneProblem(del(204, { deleted: true }), /body must be empty/);
    assertOneProblem(problems(specs, getRecord(goodEndpoint(), { status: 201 })), /status 201 is not declared/);
    // errors use `default`: an ARM error envelope is required
    assert.deepEqual(del(404, { error: { code: 'ResourceNotFound', message: 'not found' } }), []);
    const notEnvelope = del(409, { message: 'conflict' });
    assert.ok(
      notEnvelope.some((p) => /409: error body is not an ARM error envelope/.test(p)),
      notEnvelope.join('\n'),
    );
    const extra = del(400, { error: { code: 'BadRequest', message: 'x', innerError: {} } });
    assertOneProblem(extra, /OBJECT_ADDITIONAL_PROPERTIES at body\/error\/innerError/);
    assertOneProblem(problems(specs, getRecord(undefined)), /body is missing/);
  }),
);

test(
  'required and declared LRO headers',
  withSpecs((specs) => {
    const put = (headers: Record<string, string>) =>
      problems(specs, {
        method: 'PUT',
        url: `https://h${ENDPOINT}?api-version=${STABLE}`,
        status: 201,
        headers,
        body: goodEndpoint(),
      });
    assertOneProblem(put({}), /PUT .* 201: missing response header Azure-AsyncOperation \(declared for 201\)/);
    assert.deepEqual(put({ 'azure-asyncoperation': 'https://h/op' }), []);
    assertOneProblem(
      put({ 'azure-asyncoperation': 'https://h/op', 'x-ms-async-operation-timeout': '5m' }),
      /ISO 8601 duration/,
    );
    const patch = (headers: Record<string, string>) =>
      problems(specs, { method: 'PATCH', url: `https://h${ENDPOINT}?api-version=${STABLE}`, status: 202, headers });
    assertOneProblem(
      patch({ 'azure-asyncoperation': 'https://h/op' }),
      /missing response header Location \(declared for 202\)/,
    );
    assert.deepEqual(
      patch({ location: 'https://h/r', 'retry-after': '10', 'x-ms-async-operation-timeout': 'PT1H' }),
      [],
    );
    assertOneProblem(patch({ location: 'https://h/r', 'retry-after': '1' }), /Retry-After must be >= 10/);
  }),
);

test(
  'operation matching: case, repeated slashes, scope and api-version',
  withSpecs((specs) => {
    const odd =
      'https://h//SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.machinelearningservices' +
      `/workspaces/ws//SERVERLESSENDPOINTS/ep1/listkeys/?x=1&api-version=${STABLE}`;
    const listKeys = validateRecord(specs, record('post', odd, 200, { primaryKey: 'a', secondaryKey: null }));
    assert.deepEqual(listKeys, { operationId: 'ServerlessEndpoints_ListKeys', problems: [] });
    // not covered: resource groups, workspaces, operation status URLs, unknown api-versions
    for (const url of [
      `https://h/subscriptions/s/resourceGroups/rg?api-version=2025-04-01`,
      `https://h${WS}?api-version=${STABLE}`,
      `https://h/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/abc?api-version=${STABLE}`,
      `https://h${ENDPOINT}?api-version=2024-01-01`,
      `https://h${ENDPOINT}/operationResults/abc?api-version=${STABLE}`,
    ]) {
      assert.deepEqual(
        validateRecord(specs, { method: 'GET', url, status: 200, headers: {}, body: { anything: true } }),
        { problems: [] },
        url,
      );
    }
    // in scope but no such operation
    const unknown = validateRecord(
      specs,
      record('GET', `https://h${ENDPOINT}/deployments?api-version=${STABLE}`, 200, {}),
    );
    assertOneProblem(unknown.problems, /no operation of the 2025-09-01 spec matches GET/);
    const probed = record('POST', `https://h${ENDPOINT}?api-version=${STABLE}`, 405, {
      error: { code: 'MethodNotAllowed', message: 'no' },
    });
    assert.deepEqual(validateRecord(specs, probed).problems, [], 'an error answer to an undeclared route is fine');
    // inferencePools exist only in the preview
    const pools = validateRecord(
      specs,
      record('GET', `https://h${WS}/inferencePools?api-version=${STABLE}`, 200, { value: [] }),
    );
    assertOneProblem(pools.problems, /no operation of the 2025-09-01 spec matches/);
  }),
);

test(
  'assertConformant throws an AssertionError listing every problem and reports coverage',
  withSpecs((specs) => {
    const good = getRecord(goodEndpoint());
    const keys = record('POST', `https://h${ENDPOINT}/listKeys?api-version=${STABLE}`, 200, {
      primaryKey: 'a',
      secondaryKey: 'b',
    });
    assert.deepEqual([...assertConformant([good, keys], { specs }).covered].sort(), [
      'ServerlessEndpoints_Get',
      'ServerlessEndpoints_ListKeys',
    ]);
    const broken = goodEndpoint();
    broken.sku.tier = 'Gold';
    broken.properties.extra = true;
    assert.throws(
      () => assertConformant([good, getRecord(broken), getRecord(goodEndpoint(), { status: 204 })], { specs }),
      (err: unknown) => {
        assert.ok(err instanceof assert.AssertionError);
        assert.match(err.message, /^3 conformance problem\(s\) in 3 recorded response\(s\)/);
        assert.match(err.message, /body\/sku\/tier must be equal to one of the allowed values/);
        assert.match(err.message, /OBJECT_ADDITIONAL_PROPERTIES at body\/properties\/extra/);
        assert.match(err.message, /status 204 is not declared/);
        return true;
      },
    );
  }),
);

// ---- recorder (against a throw-away loopback server, not amlite) ---------------------------------

test('recordedFetch and recordingPolicy record requests and responses', async () => {
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'DELETE') {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(201, { 'Content-Type': 'application/json', 'Azure-AsyncOperation': 'https://h/op' });
      res.end(JSON.stringify({ echoed: JSON.parse(text || 'null') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const records: TrafficRecord[] = [];
    const res = await recordedFetch(records, `${base}/a?api-version=1`, {
      method: 'PUT',
      body: JSON.stringify({ x: 1 }),
    });
    assert.deepEqual(await res.json(), { echoed: { x: 1 } }, 'the returned response is still readable');
    await recordedFetch(records, `${base}/b`, { method: 'DELETE' });

    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(recordingPolicy(records));
    const request = createPipelineRequest({
      url: `${base}/c`,
      method: 'POST',
      body: '{"y":2}',
      allowInsecureConnection: true,
      headers: createHttpHeaders({ 'content-type': 'application/json' }),
    });
    await pipeline.sendRequest(createDefaultHttpClient(), request);

    assert.equal(records.length, 3);
    assert.deepEqual(
      records.map(({ method, url, requestBody, status, body }) => ({ method, url, requestBody, status, body })),
      [
        {
          method: 'PUT',
          url: `${base}/a?api-version=1`,
          requestBody: { x: 1 },
          status: 201,
          body: { echoed: { x: 1 } },
        },
        { method: 'DELETE', url: `${base}/b`, requestBody: undefined, status: 204, body: undefined },
        { method: 'POST', url: `${base}/c`, requestBody: { y: 2 }, status: 201, body: { echoed: { y: 2 } } },
      ],
    );
    for (const i of [0, 2]) assert.equal(records[i]?.headers['azure-asyncoperation'], 'https://h/op');
  } finally {
    server.close();
  }
});
