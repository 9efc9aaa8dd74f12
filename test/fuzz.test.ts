// Hostile input, fuzzed with fast-check (seeded, bounded): random and malformed bodies, deep nesting, huge bodies,
// wrong content types, invalid JSON and UTF-8, odd unicode and percent-encoding in names, bad and duplicated
// api-versions and query parameters, odd tokens. Invariants: never a 5xx; every error is an ARM error envelope with
// x-ms-request-id; a rejected request changes nothing; the server stays up.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import fc from 'fast-check';
import {
  createResourceGroup,
  createWorkspace,
  endpointBody,
  fakeToken,
  putAndWait,
  rgPath,
  startTestServer,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';

const SEED = Number(process.env.AMLITE_FUZZ_SEED ?? 20260607);
/** Scales every property's number of runs (AMLITE_FUZZ_RUNS=5 for a long local run). */
const SCALE = Number(process.env.AMLITE_FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const SUB = '7e57f022-0000-4000-8000-00000000f022';
const RG = rgPath(SUB, 'rg-fuzz');
const WS = workspacePath(SUB, 'rg-fuzz', 'ws-fuzz');
const STABLE = '2025-09-01';
const PREVIEW = '2026-03-15-preview';
const VERSIONS = [STABLE, PREVIEW, RG_API_VERSION, '2024-10-01'];

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request sent byte for byte as given (the path is not normalised; the body may be any bytes). */
function send(
  server: { url: string },
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/`,
      { method, path, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What a client can put on a request line: bytes 0x21-0xFF as they are, anything else percent-encoded. */
const onTheWire = (path: string) => path.replace(/[^\u0021-\u00ff]|[ #]/gu, (c) => encodeURIComponent(c));

// ---------- arbitraries ----------

const percentBytes = fc
  .uint8Array({ minLength: 1, maxLength: 12 })
  .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join(''));
const latin1 = fc.string({
  unit: fc
    .integer({ min: 0x21, max: 0xff })
    .map((c) => String.fromCharCode(c))
    .filter((c) => !'/?#%'.includes(c)),
  maxLength: 16,
});
const hostileName = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2F',
    '%00',
    '%ZZ',
    '%',
    '%E0%A4%A',
    '%F0%9F%98%80',
    '%C0%AF',
    '%ED%A0%80',
    'a%20b',
    '\u202eevil',
    '名前',
    'ñame',
    'a'.repeat(261),
    'b'.repeat(1200),
    '$skip',
    'con',
    'a:b',
    '<script>',
    'EP-FUZZ',
    'Ep-Fuzz',
  ),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return '%ED%A0%80';
    }
  }),
  percentBytes,
  latin1,
);
const nameArb = (valid: readonly string[]) =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 3 }, { arbitrary: hostileName, weight: 2 });
/** Kept for the token endpoint's tenant segment. */
const rawName = nameArb(['common', '72f988bf-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com']);

const jsonish = fc.jsonValue({ maxDepth: 4 });

/** The API's shapes: a path with a (valid or hostile) name, its api-versions, and a valid body to start mutating from. */
interface Shape {
  path: (n: string) => string;
  names: readonly string[];
  versions: readonly string[];
  methods: readonly string[];
  body?: () => Record<string, unknown>;
}
const EP_NAMES = ['ep-fuzz', 'ep-a', 'ep-b', 'ep-c'];
const RESOURCE = ['PUT', 'PUT', 'PATCH', 'GET', 'DELETE'];
const SHAPES: Shape[] = [
  {
    path: (n) => rgPath(SUB, n),
    names: ['rg-a', 'rg-b'],
    versions: [RG_API_VERSION],
    methods: RESOURCE,
    body: () => ({ location: 'eastus', tags: { k: 'v' } }),
  },
  {
    path: (n) => `${RG}/providers/Microsoft.MachineLearningServices/workspaces/${n}`,
    names: ['ws-a', 'ws-b'],
    versions: [STABLE, PREVIEW],
    methods: RESOURCE,
    body: () => ({ location: 'eastus', properties: {} }),
  },
  {
    path: (n) => `${WS}/serverlessEndpoints/${n}`,
    names: EP_NAMES,
    versions: [STABLE, PREVIEW],
    methods: RESOURCE,
    body: () => endpointBody(),
  },
  {
    path: (n) => `${WS}/serverlessEndpoints/${n}`,
    names: EP_NAMES,
    versions: [PREVIEW],
    methods: RESOURCE,
    body: () =>
      endpointBody({
        authMode: 'KeyAndAAD',
        contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Blocking' },
      }),
  },
  {
    path: (n) => `${WS}/serverlessEndpoints/${n}/listKeys`,
    names: EP_NAMES,
    versions: [STABLE, PREVIEW],
    methods: ['POST'],
  },
  {
    path: (n) => `${WS}/serverlessEndpoints/${n}/regenerateKeys`,
    names: EP_NAMES,
    versions: [STABLE, PREVIEW],
    methods: ['POST'],
    body: () => ({ keyType: 'Secondary', keyValue: 'k-fuzz' }),
  },
  {
    path: (n) => `${WS}/inferencePools/${n}`,
    names: ['pool-fuzz', 'pool-a'],
    versions: [PREVIEW],
    methods: RESOURCE,
    body: () => ({ location: 'eastus', sku: { name: 'S1', capacity: 1 }, properties: {} }),
  },
  {
    path: (n) => `${WS}/inferencePools/pool-fuzz/groups/${n}`,
    names: ['g1', 'g2'],
    versions: [PREVIEW],
    methods: RESOURCE,
    body: () => GROUP_BODY(),
  },
  {
    path: (n) => `${WS}/inferencePools/pool-fuzz/groups/${n}/getStatus`,
    names: ['g1'],
    versions: [PREVIEW],
    methods: ['POST'],
  },
  {
    path: (n) => `${WS}/inferencePools/pool-fuzz/groups/${n}/deltaModels/modify`,
    names: ['g1'],
    versions: [PREVIEW],
    methods: ['POST'],
    body: () => ({ addDeltaModels: ['m1'], removeDeltaModels: [] }),
  },
  {
    path: (n) => `${WS}/inferencePools/pool-fuzz/endpoints/${n}`,
    names: ['e1', 'e2'],
    versions: [PREVIEW],
    methods: RESOURCE,
    body: () => ({ location: 'eastus', properties: { authMode: 'AAD', groupName: 'g1' } }),
  },
  { path: (n) => `/subscriptions/${n}/resourcegroups`, names: [SUB], versions: [RG_API_VERSION], methods: ['GET'] },
  // Other subscriptions (any id works): their ids go into operation URLs and headers.
  {
    path: (n) => `/subscriptions/${n}/resourceGroups/rg-other`,
    names: ['other-sub'],
    versions: [RG_API_VERSION],
    methods: RESOURCE,
    body: () => ({ location: 'eastus' }),
  },
  {
    path: (n) =>
      `/subscriptions/${n}/resourceGroups/rg-other/providers/Microsoft.MachineLearningServices/workspaces/ws-other`,
    names: ['other-sub'],
    versions: [STABLE],
    methods: RESOURCE,
    body: () => ({ location: 'eastus', properties: {} }),
  },
  {
    path: (n) =>
      `/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/${n}`,
    names: ['00000000-0000-0000-0000-000000000000'],
    versions: [STABLE],
    methods: ['GET'],
  },
  {
    path: (n) =>
      `/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/locations/${n}/mfeOperationResults/x`,
    names: ['eastus'],
    versions: [STABLE],
    methods: RESOURCE,
  },
  {
    path: () => `/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/workspaces`,
    names: ['_'],
    versions: [STABLE],
    methods: ['GET'],
  },
  {
    path: (n) =>
      `//subscriptions/${SUB}//resourceGroups/rg-fuzz//providers/Microsoft.MachineLearningServices/workspaces/${n}/`,
    names: ['ws-a'],
    versions: [STABLE],
    methods: RESOURCE,
    body: () => ({ location: 'eastus', properties: {} }),
  },
  {
    path: (n) => `/subscriptions/${SUB}/resourceGroups/rg-fuzz/providers/${n}/workspaces/ws-fuzz`,
    names: ['Microsoft.MachineLearningServices', 'microsoft.machinelearningservices'],
    versions: [STABLE],
    methods: RESOURCE,
  },
  { path: (n) => `${WS}/serverlessEndpoints/${n}/${n}`, names: ['ep-fuzz'], versions: [STABLE], methods: RESOURCE },
  { path: (n) => `/${n}`, names: ['health', 'subscriptions'], versions: [STABLE], methods: ['GET'] },
];
function GROUP_BODY(): Record<string, unknown> {
  return {
    location: 'eastus',
    sku: { name: 'Standard_NC24ads_A100_v4', capacity: 1 },
    properties: {
      scaleUnitSize: 1,
      modelConfiguration: { modelId: 'azureml://registries/azureml-meta/models/Llama-3.3-70B-Instruct/versions/1' },
    },
  };
}

const targetArb = fc.integer({ min: 0, max: SHAPES.length - 1 }).chain((i) => {
  const shape = SHAPES[i];
  return fc.record({
    shape: fc.constant(shape),
    path: fc
      .tuple(nameArb(shape.names), fc.nat(9))
      .map(([n, shout]) => (shout === 0 ? shape.path(n).toUpperCase() : shape.path(n))),
    version: fc.oneof(
      { arbitrary: fc.constantFrom(...shape.versions), weight: 4 },
      { arbitrary: fc.constantFrom(...VERSIONS, '2020-01-01', '2026-03-15-PREVIEW', ''), weight: 1 },
    ),
  });
});

const queryArb = (version: string) =>
  fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.constant(`api-version=${version}`), weight: 12 },
        {
          arbitrary: fc.constantFrom(
            '',
            'api-version=',
            `api-version=${version}&api-version=${PREVIEW}`,
            `api-version=9999-99-99&api-version=${version}`,
            `api-version[]=${version}`,
            `API-VERSION=${version}`,
            `api-version=${version}%00`,
            `api-version= ${version}`,
          ),
          weight: 3,
        },
        { arbitrary: fc.string({ maxLength: 20 }).map((v) => `api-version=${encodeURIComponent(v)}`), weight: 1 },
        { arbitrary: percentBytes.map((v) => `api-version=${v}`), weight: 1 },
      ),
      fc.array(
        fc.oneof(
          fc.constantFrom(
            '$skip=abc',
            '$skip=L3N1YnNjcmlwdGlvbnMv',
            '$skipToken=%FF',
            'count=-5',
            'count=1e999',
            'count=99999999999999999999',
            '$skip=-1',
            'orderBy=nope',
            'orderBy=CreatedAtDesc',
            'tags=a,b=c,,',
            'properties==',
            '$top=1',
            'x=1&x=2',
            '=',
            '&&',
            '%',
            'a=%ZZ',
          ),
          fc
            .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
        ),
        { maxLength: 2 },
      ),
    )
    .map(([v, extra]) => [v, ...extra].filter(Boolean).join('&'));

/** Field paths worth hitting, with a random key now and then. */
const fieldPath = fc.oneof(
  fc.constantFrom(
    ['location'],
    ['tags'],
    ['tags', 'k'],
    ['sku'],
    ['sku', 'name'],
    ['sku', 'capacity'],
    ['identity'],
    ['identity', 'type'],
    ['identity', 'userAssignedIdentities'],
    ['kind'],
    ['properties'],
    ['properties', 'authMode'],
    ['properties', 'modelSettings'],
    ['properties', 'modelSettings', 'modelId'],
    ['properties', 'contentSafety'],
    ['properties', 'contentSafety', 'contentSafetyStatus'],
    ['properties', 'provisioningState'],
    ['properties', 'inferenceEndpoint'],
    ['properties', 'groupName'],
    ['properties', 'properties'],
    ['properties', 'scaleUnitSize'],
    ['properties', 'modelConfiguration'],
    ['properties', 'requestConfiguration'],
    ['keyType'],
    ['keyValue'],
    ['addDeltaModels'],
    ['id'],
    ['name'],
    ['type'],
    ['systemData'],
  ),
  fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 3 }),
);
const fieldValue = fc.oneof(
  { arbitrary: jsonish, weight: 4 },
  {
    arbitrary: fc.constantFrom(
      null,
      '',
      'East US',
      'Key',
      'AAD',
      'None',
      'SystemAssigned',
      'UserAssigned',
      'Succeeded',
      'Deleting',
      -1,
      0,
      2 ** 53,
      1e308,
      'x'.repeat(300),
    ),
    weight: 3,
  },
  { arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), jsonish, { maxKeys: 3 }), weight: 1 },
  {
    arbitrary: fc.constant({
      [`/subscriptions/${SUB}/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u`]: {},
    }),
    weight: 1,
  },
  { arbitrary: fc.constant(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']))), weight: 1 },
  { arbitrary: fc.constant([{ key: 'a', value: 'b' }]), weight: 1 },
);
type Edit = { path: string[]; value?: unknown; remove: boolean };
const editArb: fc.Arbitrary<Edit> = fc.record({
  path: fieldPath.map((p) => [...p]),
  value: fieldValue,
  remove: fc.boolean(),
});

function applyEdits(doc: Record<string, unknown>, edits: Edit[]): unknown {
  for (const e of edits) {
    let node: any = doc;
    for (const k of e.path.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k];
    }
    const last = e.path.at(-1)!;
    if (e.remove) delete node[last];
    else
      Object.defineProperty(node, last, {
        value: structuredClone(e.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return doc;
}

const deepText = fc
  .tuple(fc.integer({ min: 1, max: 3000 }), fc.boolean())
  .map(([n, arrays]) =>
    arrays
      ? `${'['.repeat(n)}${']'.repeat(n)}`
      : `{"location":"eastus","properties":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`,
  );

const bodyArb = (shape: Shape): fc.Arbitrary<Buffer | undefined> =>
  fc.oneof(
    {
      arbitrary: fc
        .oneof(
          { arbitrary: fc.constant([] as Edit[]), weight: 2 },
          { arbitrary: fc.array(editArb, { minLength: 1, maxLength: 3 }), weight: 3 },
        )
        .map((edits) => Buffer.from(JSON.stringify(applyEdits(shape.body?.() ?? {}, edits)))),
      weight: 12,
    },
    { arbitrary: jsonish.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')), weight: 1 },
    { arbitrary: fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)), weight: 1 },
    {
      arbitrary: fc
        .constantFrom(
          '{',
          '{"location":',
          '{"a":1,}',
          "{'a':1}",
          '[1,2',
          '{"a":"\\x"}',
          'NaN',
          '{"a":1e99999}',
          '\ufeff{"location":"eastus"}',
          '{"__proto__":{"a":1}}',
          '{"constructor":{"prototype":{"a":1}}}',
          '{"location":"eastus","location":"westus"}',
        )
        .map((s) => Buffer.from(s)),
      weight: 2,
    },
    { arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), weight: 1 },
    {
      arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) =>
        Buffer.from(
          JSON.stringify({
            ...shape.body?.(),
            tags: { [s]: s },
            properties: { ...(shape.body?.().properties as object), [s]: s },
          }),
        ),
      ),
      weight: 2,
    },
    { arbitrary: deepText.map((s) => Buffer.from(s)), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );

const contentTypeArb = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  {
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/xml',
      'application/json; charset=utf-16',
      'application/merge-patch+json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/JSON',
      'application/json;;;',
      '*/*',
      'text/json',
      'application/json, text/plain',
    ),
    weight: 2,
  },
  { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), weight: 1 },
);

const authArb = fc.oneof(
  { arbitrary: fc.constant(`Bearer ${fakeToken()}`), weight: 16 },
  {
    arbitrary: fc
      .dictionary(fc.constantFrom('exp', 'tid', 'upn', 'oid', 'appid', 'idtyp', 'aud', 'nbf', 'name'), jsonish, {
        maxKeys: 4,
      })
      .map((c) => `Bearer ${fakeToken(c)}`),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom(
      '',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      'Bearer a.b',
      'Bearer a.b.c',
      'Bearer ....',
      `bearer ${fakeToken()}`,
      `Bearer ${fakeToken()} extra`,
    ),
    weight: 1,
  },
  { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => `Bearer ${s}`), weight: 1 },
);

const headersArb = fc
  .record(
    {
      'if-match': fc.oneof(
        fc.constantFrom('*', '"x"', 'W/"x"', '', ',,', '"a", *'),
        fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
      ),
      'if-none-match': fc.oneof(fc.constantFrom('*', '"x"', ''), fc.string({ unit: 'grapheme-ascii', maxLength: 20 })),
      'x-ms-client-request-id': fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
      'x-ms-return-client-request-id': fc.constantFrom('true', 'TRUE', 'false', 'yes'),
      'x-ms-correlation-request-id': fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
    },
    { requiredKeys: [] },
  )
  .chain((h) => fc.nat(3).map((n) => (n === 0 ? h : {})));

const requestArb = targetArb.chain(({ shape, path, version }) =>
  fc.record({
    method: fc.oneof(
      { arbitrary: fc.constantFrom(...shape.methods), weight: 12 },
      { arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'), weight: 2 },
    ),
    path: fc.constant(path),
    query: queryArb(version),
    body: bodyArb(shape),
    contentType: contentTypeArb,
    auth: authArb,
    headers: headersArb,
  }),
);

// ---------- invariants ----------

function assertEnvelope(a: Answer, method: string): void {
  assert.ok(a.status < 500, `no 5xx: ${a.status} ${a.text.slice(0, 500)}`);
  assert.ok(a.headers['x-ms-request-id'], `x-ms-request-id on every answer (status ${a.status})`);
  if (a.status < 400 || method === 'HEAD') return;
  let body: any;
  try {
    body = JSON.parse(a.text);
  } catch {
    assert.fail(`a ${a.status} error body is JSON: ${a.text.slice(0, 300)}`);
  }
  assert.equal(typeof body?.error?.code, 'string', `ARM error envelope: ${a.text.slice(0, 300)}`);
  assert.ok(
    body.error.code.length > 0 && /^[A-Za-z][A-Za-z0-9_]*$/.test(body.error.code),
    `a code: ${body.error.code}`,
  );
  assert.equal(typeof body.error.message, 'string', `ARM error envelope: ${a.text.slice(0, 300)}`);
  assert.ok(!/\bat .*\.(ts|js):\d+/.test(a.text), 'no stack trace');
}

describe('fuzzed hostile input (fast-check, seeded)', () => {
  let server: RunningServer;
  const token = `Bearer ${fakeToken()}`;
  const get = async (path: string) => {
    const a = await send(server, 'GET', path, { authorization: token });
    return `${a.status} ${a.text}`;
  };
  /** Everything a write could have touched under the fuzzed scope, as text. */
  const fingerprint = async () =>
    (
      await Promise.all([
        get(withApiVersion(`/subscriptions/${SUB}/resourcegroups`, RG_API_VERSION)),
        get(withApiVersion(`${RG}/providers/Microsoft.MachineLearningServices/workspaces`, STABLE)),
        get(withApiVersion(`${WS}/serverlessEndpoints`, PREVIEW)),
        get(withApiVersion(`${WS}/inferencePools`, PREVIEW)),
        get(withApiVersion(`${WS}/inferencePools/pool-fuzz/groups`, PREVIEW)),
        get(withApiVersion(`${WS}/inferencePools/pool-fuzz/endpoints`, PREVIEW)),
        send(server, 'POST', withApiVersion(`${WS}/serverlessEndpoints/ep-fuzz/listKeys`, STABLE), {
          authorization: token,
        }).then((a) => `${a.status} ${a.text}`),
      ])
    ).join('\n');

  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, SUB, 'rg-fuzz');
    await createWorkspace(server, SUB, 'rg-fuzz', 'ws-fuzz');
    await putAndWait(server, `${WS}/serverlessEndpoints/ep-fuzz`, STABLE, endpointBody());
    await putAndWait(server, `${WS}/inferencePools/pool-fuzz`, PREVIEW, {
      location: 'eastus',
      sku: { name: 'S1', capacity: 1 },
      properties: {},
    });
    await putAndWait(server, `${WS}/inferencePools/pool-fuzz/groups/g1`, PREVIEW, GROUP_BODY());
  });
  after(async () => {
    await server.close();
    agent.destroy();
  });

  test('management plane: no 5xx, ARM envelopes, rejected requests change nothing', async (t) => {
    let current = await fingerprint();
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const headers: Record<string, string> = { ...r.headers };
        if (r.auth) headers.authorization = r.auth;
        if (r.body !== undefined) headers['content-type'] = r.contentType;
        const path = onTheWire(r.query ? `${r.path}?${r.query}` : r.path);
        // Deleting the fixture's group or workspace would end the run's coverage: those two are never deleted.
        const method = r.method === 'DELETE' && /\/(rg-fuzz|ws-fuzz)\/?$/i.test(r.path) ? 'GET' : r.method;
        const a = await send(server, method, path, headers, r.body);
        seen.set(a.status, (seen.get(a.status) ?? 0) + 1);
        assertEnvelope(a, method);
        const after = await fingerprint();
        if (a.status >= 400)
          assert.equal(
            after,
            current,
            `a rejected ${method} ${path.slice(0, 200)} (${a.status} ${a.text.slice(0, 200)}) changed nothing`,
          );
        current = after;
      }),
      { seed: SEED, numRuns: runs(800), endOnFailure: true, includeErrorInReport: true },
    );
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    assert.ok(
      [...seen.keys()].some((s) => s < 300),
      'some requests were accepted (the fuzz reaches the handlers)',
    );
    assert.ok([...seen.keys()].filter((s) => s >= 400).length >= 4, 'and many kinds were refused');
  });

  test('huge bodies and strings: 413 beyond 4 MB, a clear 4xx or success below it', async () => {
    const sizes = fc.oneof(
      fc.integer({ min: 64 * 1024, max: 3 * 1024 * 1024 }),
      fc.integer({ min: 4 * 1024 * 1024 + 1, max: 6 * 1024 * 1024 }),
    );
    await fc.assert(
      fc.asyncProperty(
        sizes,
        fc.constantFrom('tags', 'name', 'properties', 'location', 'modelId'),
        fc.constantFrom(STABLE, PREVIEW),
        async (size, where, version) => {
          const big = 'x'.repeat(size);
          const doc: Record<string, any> = endpointBody();
          if (where === 'tags') doc.tags = { big };
          else if (where === 'location') doc.location = big;
          else if (where === 'modelId') doc.properties.modelSettings.modelId = big;
          else if (where === 'properties') doc.properties.big = big;
          const path =
            where === 'name'
              ? `${WS}/serverlessEndpoints/${'n'.repeat(Math.min(size, 900))}`
              : `${WS}/serverlessEndpoints/ep-huge`;
          const a = await send(
            server,
            'PUT',
            withApiVersion(path, version),
            { authorization: token, 'content-type': 'application/json' },
            Buffer.from(JSON.stringify(doc)),
          );
          assertEnvelope(a, 'PUT');
          if (size > 4 * 1024 * 1024 && where !== 'name') assert.equal(a.status, 413, a.text.slice(0, 200));
        },
      ),
      { seed: SEED, numRuns: runs(12), includeErrorInReport: true },
    );
  });

  test('data plane: random chat and embeddings bodies and headers never get a 5xx; errors are Azure.Core envelopes', async () => {
    // An endpoint of its own: the management fuzz may have deleted or changed the others.
    const { final } = await putAndWait(
      server,
      `${WS}/serverlessEndpoints/dp-fuzz`,
      PREVIEW,
      endpointBody({ authMode: 'KeyAndAAD', contentSafety: { contentSafetyStatus: 'Enabled' } }),
    );
    const uri = new URL(final.properties.inferenceEndpoint.uri);
    const keys = JSON.parse(
      (
        await send(server, 'POST', withApiVersion(`${WS}/serverlessEndpoints/dp-fuzz/listKeys`, STABLE), {
          authorization: token,
        })
      ).text,
    );
    const chatish = fc.record(
      {
        messages: fc.oneof(
          fc.array(
            fc.record(
              {
                role: fc.constantFrom('user', 'system', 'assistant', 'tool', 'bogus'),
                content: fc.oneof(
                  fc.string(),
                  jsonish,
                  fc.array(fc.record({ type: fc.constantFrom('text', 'image_url'), text: fc.string() })),
                ),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
          jsonish,
        ),
        max_tokens: fc.oneof(fc.integer({ min: -5, max: 50 }), jsonish),
        temperature: fc.oneof(fc.double(), jsonish),
        seed: fc.oneof(fc.integer(), jsonish),
        stream: fc.oneof(fc.boolean(), jsonish),
        input: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.string(), jsonish),
        dimensions: fc.oneof(fc.integer({ min: -10, max: 4096 }), jsonish),
        encoding_format: fc.oneof(fc.constantFrom('float', 'base64', 'x'), jsonish),
        stop: fc.oneof(fc.string(), jsonish),
        n: fc.oneof(fc.integer({ min: -1, max: 3 }), jsonish),
        extra: jsonish,
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      { arbitrary: chatish.map((o) => Buffer.from(JSON.stringify(o))), weight: 5 },
      { arbitrary: bodyArb(SHAPES[2]), weight: 2 },
    );
    const route = fc.constantFrom(
      '/chat/completions',
      '/v1/chat/completions',
      '/embeddings',
      '/openai/deployments/d/embeddings',
      '/info',
      '/models/info',
      '/nope',
    );
    const auth = fc.oneof(
      { arbitrary: fc.constant({ 'api-key': keys.primaryKey }), weight: 6 },
      { arbitrary: fc.constant({ authorization: `Bearer ${keys.secondaryKey}` }), weight: 2 },
      {
        arbitrary: fc.constantFrom(
          {},
          { 'api-key': 'wrong' },
          { authorization: `Bearer ${fakeToken({ aud: 'https://ml.azure.com' })}` },
          { authorization: 'Bearer' },
        ),
        weight: 2,
      },
    );
    const extraParams = fc.constantFrom(undefined, 'error', 'drop', 'pass-through', 'bogus');
    await fc.assert(
      fc.asyncProperty(
        route,
        body,
        contentTypeArb,
        auth,
        extraParams,
        fc.constantFrom('POST', 'GET'),
        async (r, b, ct, h, extra, method) => {
          const headers: Record<string, string> = { ...(h as Record<string, string>), 'content-type': ct };
          if (extra) headers['extra-parameters'] = extra;
          const a = await send(server, method, `${uri.pathname}${r}`, headers, method === 'GET' ? undefined : b);
          assert.ok(a.status < 500, `no 5xx: ${a.status} ${a.text.slice(0, 300)}`);
          if (a.status >= 400) {
            const e = JSON.parse(a.text);
            assert.equal(typeof e.error?.code, 'string', a.text.slice(0, 300));
            assert.equal(typeof e.error?.message, 'string', a.text.slice(0, 300));
            assert.ok(!a.text.includes(keys.primaryKey) && !a.text.includes(keys.secondaryKey), 'no key in an error');
          }
        },
      ),
      { seed: SEED, numRuns: runs(250), endOnFailure: true, includeErrorInReport: true },
    );
  });

  test('the token endpoint: random forms never get a 5xx; OAuth errors are JSON', async () => {
    const form = fc.dictionary(
      fc.constantFrom('grant_type', 'client_id', 'client_secret', 'scope', 'resource', 'client_assertion', 'x'),
      fc.oneof(
        fc.string(),
        fc.constantFrom(
          'client_credentials',
          'https://management.azure.com/.default',
          'https://ml.azure.com/.default openid',
        ),
      ),
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(rawName, form, contentTypeArb, async (tenant, f, ct) => {
        const a = await send(
          server,
          'POST',
          onTheWire(`/${tenant}/oauth2/v2.0/token`),
          { 'content-type': ct === 'application/json' ? 'application/x-www-form-urlencoded' : ct },
          Buffer.from(new URLSearchParams(f).toString()),
        );
        assert.ok(a.status < 500, `no 5xx: ${a.status} ${a.text.slice(0, 300)}`);
        if (a.status >= 400)
          assert.ok(
            typeof JSON.parse(a.text).error === 'object' || typeof JSON.parse(a.text).error === 'string',
            a.text.slice(0, 300),
          );
      }),
      { seed: SEED, numRuns: runs(150), endOnFailure: true, includeErrorInReport: true },
    );
  });

  test('the server is still up and serving after all of it', async () => {
    const health = await send(server, 'GET', '/health', {});
    assert.equal(health.status, 200);
    const rg = await send(server, 'GET', withApiVersion(RG, RG_API_VERSION), { authorization: token });
    assert.equal(rg.status, 200, rg.text);
    const list = await send(server, 'GET', withApiVersion(`${WS}/serverlessEndpoints`, PREVIEW), {
      authorization: token,
    });
    assert.equal(list.status, 200, list.text);
    for (const ep of JSON.parse(list.text).value)
      assert.ok(['Succeeded', 'Failed', 'Canceled'].includes(ep.properties.provisioningState), `${ep.name} settled`);
  });
});
