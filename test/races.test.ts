// Races: concurrent conditional writes, concurrent creates of one name, writes while an operation runs, and a random
// storm of writes. One winner where there must be one; 412 / 409 for the rest; never a 5xx; nothing left half-done.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:https';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  fakeToken,
  rgPath,
  startTestServer,
  waitForTerminal,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  TERMINAL_STATES,
  type FetchResult,
  type RunningServer,
} from './support/harness.js';

const STABLE = '2025-09-01';
const PREVIEW = '2026-03-15-preview';

// Many sockets, so the requests really are concurrent on the server.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One request over its own (pooled) socket; the answer in armFetch's shape. */
function send(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<FetchResult> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${fakeToken()}`,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: any;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve({ status: res.statusCode ?? 0, headers: h, body: parsed, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const count = (results: FetchResult[], status: number) => results.filter((r) => r.status === status).length;
const histogram = (results: FetchResult[]) =>
  results.reduce<Record<number, number>>((h, r) => ({ ...h, [r.status]: (h[r.status] ?? 0) + 1 }), {});

function assertNo5xx(results: FetchResult[]): void {
  for (const r of results) assert.ok(r.status < 500, `no 5xx: ${describeResponse(r)}`);
}

describe('races (fast profile)', () => {
  let server: RunningServer;
  const sub = randomUUID();
  const ws = workspacePath(sub, 'rg-race', 'ws-race');
  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, sub, 'rg-race');
    await createWorkspace(server, sub, 'rg-race', 'ws-race');
  });
  after(async () => {
    await server.close();
  });

  test('50 concurrent PATCHes with one If-Match: exactly one wins (200 sync, 202 async), the other 49 get 412', async () => {
    const epPath = endpointPath(sub, 'rg-race', 'ws-race', 'ep-ifmatch');
    const created = await send(server, 'PUT', withApiVersion(epPath, STABLE), endpointBody());
    assert.equal(created.status, 201, describeResponse(created));
    await waitForTerminal(server, epPath, STABLE);
    for (const [path, version, winner] of [
      [ws, STABLE, 200],
      [epPath, STABLE, 202],
    ] as const) {
      const etag = (await send(server, 'GET', withApiVersion(path, version))).headers.get('etag')!;
      assert.ok(etag);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          send(server, 'PATCH', withApiVersion(path, version), { tags: { writer: String(i) } }, { 'if-match': etag }),
        ),
      );
      assertNo5xx(results);
      assert.equal(count(results, winner), 1, `one winner on ${path}: ${JSON.stringify(histogram(results))}`);
      assert.equal(count(results, 412), 49, `the rest 412: ${JSON.stringify(histogram(results))}`);
      for (const r of results.filter((x) => x.status === 412)) assert.equal(r.body.error.code, 'PreconditionFailed');
      const won = results.findIndex((r) => r.status === winner);
      const final =
        version === STABLE && path === epPath
          ? await waitForTerminal(server, path, version)
          : (await send(server, 'GET', withApiVersion(path, version))).body;
      assert.deepEqual(final.tags, { writer: String(won) }, 'the winner is what is stored');
    }
  });

  test('concurrent PUTs of one new name: one 201, the rest 200 or 409 (sync and async types); If-None-Match:* makes the rest 412', async (t) => {
    // A workspace create answers 200 like a replace (its swagger has no 201): there, one create shows as one
    // systemData.createdAt shared by every answer.
    const cases: [string, string, unknown, 200 | 201][] = [
      [rgPath(sub, 'rg-same-name'), RG_API_VERSION, { location: 'eastus' }, 201],
      [workspacePath(sub, 'rg-race', 'ws-same-name'), STABLE, { location: 'eastus', properties: {} }, 200],
      [endpointPath(sub, 'rg-race', 'ws-race', 'ep-same-name'), STABLE, endpointBody(), 201],
    ];
    for (const [path, version, body, createdStatus] of cases) {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => send(server, 'PUT', withApiVersion(path, version), body)),
      );
      t.diagnostic(`${path.split('/').at(-2)}: ${JSON.stringify(histogram(results))}`);
      assertNo5xx(results);
      if (createdStatus === 201) {
        assert.equal(count(results, 201), 1, `one create of ${path}: ${JSON.stringify(histogram(results))}`);
      } else {
        const created = new Set(results.filter((r) => r.status === 200).map((r) => r.body.systemData.createdAt));
        assert.equal(created.size, 1, `one create of ${path}: ${[...created].join(', ')}`);
      }
      for (const r of results) assert.ok([200, 201, 409].includes(r.status), describeResponse(r));
      const final = await waitForTerminal(server, path, version);
      assert.ok(
        !final.properties?.provisioningState || final.properties.provisioningState === 'Succeeded',
        JSON.stringify(final),
      );
    }
    const guarded = endpointPath(sub, 'rg-race', 'ws-race', 'ep-if-none-match');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        send(server, 'PUT', withApiVersion(guarded, STABLE), endpointBody(), { 'if-none-match': '*' }),
      ),
    );
    assertNo5xx(results);
    assert.equal(count(results, 201), 1, JSON.stringify(histogram(results)));
    assert.equal(count(results, 412), 19, JSON.stringify(histogram(results)));
  });

  test('20 concurrent key rotations: every answer is 200 or 409, and the key stored is one that was acknowledged', async (t) => {
    const epPath = endpointPath(sub, 'rg-race', 'ws-race', 'ep-keys');
    assert.equal((await send(server, 'PUT', withApiVersion(epPath, STABLE), endpointBody())).status, 201);
    const final = await waitForTerminal(server, epPath, STABLE);
    const oldKey = (await send(server, 'POST', withApiVersion(`${epPath}/listKeys`, STABLE))).body.primaryKey;
    const values = Array.from({ length: 20 }, () => `k-${randomUUID()}`);
    const results = await Promise.all(
      values.map((keyValue) =>
        send(server, 'POST', withApiVersion(`${epPath}/regenerateKeys`, STABLE), { keyType: 'Primary', keyValue }),
      ),
    );
    t.diagnostic(`regenerateKeys: ${JSON.stringify(histogram(results))}`);
    assertNo5xx(results);
    for (const r of results) assert.ok([200, 409].includes(r.status), describeResponse(r));
    const acknowledged = results.filter((r) => r.status === 200).map((r) => r.body.primaryKey);
    assert.ok(acknowledged.length >= 1);
    const stored = (await send(server, 'POST', withApiVersion(`${epPath}/listKeys`, STABLE))).body.primaryKey;
    assert.ok(acknowledged.includes(stored), 'the stored key is one a client was told about');
    const uri = final.properties.inferenceEndpoint.uri;
    const chat = (key: string) =>
      fetch(`${uri}/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      }).then((r) => r.status);
    assert.equal(await chat(stored), 200);
    for (const k of [oldKey, ...values.filter((v) => v !== stored).slice(0, 5)])
      assert.equal(await chat(k), 401, 'only the stored key works');
  });

  test('a storm of 400 random writes on few names: never a 5xx, only the expected codes, nothing left in progress', async (t) => {
    let seed = Number(process.env.AMLITE_TEST_SEED ?? 7);
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const names = ['storm-a', 'storm-b', 'storm-c'];
    const operations: string[] = [];
    const results: FetchResult[] = [];
    const one = async () => {
      const path = endpointPath(sub, 'rg-race', 'ws-race', pick(names));
      const kind = pick(['put', 'put', 'patch', 'delete', 'get', 'keys'] as const);
      const r =
        kind === 'put'
          ? await send(server, 'PUT', withApiVersion(path, STABLE), endpointBody({}))
          : kind === 'patch'
            ? await send(server, 'PATCH', withApiVersion(path, STABLE), {
                tags: { t: String(Math.floor(rand() * 1000)) },
              })
            : kind === 'delete'
              ? await send(server, 'DELETE', withApiVersion(path, STABLE))
              : kind === 'get'
                ? await send(server, 'GET', withApiVersion(path, STABLE))
                : await send(server, 'POST', withApiVersion(`${path}/regenerateKeys`, STABLE), {
                    keyType: pick(['Primary', 'Secondary']),
                  });
      results.push(r);
      for (const h of ['azure-asyncoperation', 'location']) {
        const url = r.headers.get(h);
        if (url) operations.push(url.replace('/mfeOperationResults/', '/mfeOperationsStatus/'));
      }
    };
    const lanes = Array.from({ length: 16 }, async () => {
      for (let i = 0; i < 25; i++) await one();
    });
    await Promise.all(lanes);
    t.diagnostic(`storm: ${JSON.stringify(histogram(results))}, ${operations.length} operations`);
    assertNo5xx(results);
    const allowed = new Set([200, 201, 202, 204, 404, 409, 412]);
    for (const r of results) assert.ok(allowed.has(r.status), describeResponse(r));
    for (const r of results.filter((x) => x.status === 409))
      assert.ok(['AnotherOperationInProgress', 'Conflict'].includes(r.body.error.code), describeResponse(r));
    for (const url of operations) {
      const status = await armFetch(server, 'GET', url);
      assert.equal(status.status, 200, describeResponse(status));
      assert.ok(TERMINAL_STATES.includes(status.body.status), `operation ${url} ended: ${JSON.stringify(status.body)}`);
    }
    const list = await send(server, 'GET', withApiVersion(`${ws}/serverlessEndpoints`, STABLE));
    for (const ep of list.body.value) assert.equal(ep.properties.provisioningState, 'Succeeded', `${ep.name} settled`);
  });
});

describe('writes while an operation runs (realistic profile)', () => {
  let server: RunningServer;
  const sub = randomUUID();
  before(async () => {
    server = await startTestServer({ profile: 'realistic' });
    await createResourceGroup(server, sub, 'rg-busy');
    const res = await armFetch(server, 'PUT', withApiVersion(workspacePath(sub, 'rg-busy', 'ws-busy'), STABLE), {
      body: { location: 'eastus', properties: {} },
    });
    assert.ok([200, 201].includes(res.status), describeResponse(res));
  });
  after(() => server.close());

  test('PUT, PATCH and DELETE on a Creating endpoint are 409 AnotherOperationInProgress naming the resource', async () => {
    const path = endpointPath(sub, 'rg-busy', 'ws-busy', 'ep-busy');
    const created = await send(server, 'PUT', withApiVersion(path, STABLE), endpointBody());
    assert.equal(created.status, 201);
    assert.equal(created.body.properties.provisioningState, 'Creating');
    const before = (await send(server, 'GET', withApiVersion(path, STABLE))).headers.get('etag');
    const attempts = await Promise.all([
      send(server, 'PUT', withApiVersion(path, STABLE), endpointBody()),
      send(server, 'PATCH', withApiVersion(path, STABLE), { tags: { a: 'b' } }),
      send(server, 'DELETE', withApiVersion(path, STABLE)),
    ]);
    for (const r of attempts) {
      assert.equal(r.status, 409, describeResponse(r));
      assert.equal(r.body.error.code, 'AnotherOperationInProgress');
      assert.equal(r.body.error.target.toLowerCase(), path.toLowerCase());
    }
    assert.equal(
      (await send(server, 'GET', withApiVersion(path, STABLE))).headers.get('etag'),
      before,
      'the refused writes changed nothing',
    );
  });

  test('concurrent PUTs of one new name while creating: one 201, the rest 409', async () => {
    const path = endpointPath(sub, 'rg-busy', 'ws-busy', 'ep-busy-many');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => send(server, 'PUT', withApiVersion(path, PREVIEW), endpointBody())),
    );
    assertNo5xx(results);
    assert.equal(count(results, 201), 1, JSON.stringify(histogram(results)));
    assert.equal(count(results, 409), 19, JSON.stringify(histogram(results)));
  });

  test('a DELETE repeated while deleting answers the same operation; a PUT meanwhile is 409', async () => {
    const rg = rgPath(sub, 'rg-deleting');
    await createResourceGroup(server, sub, 'rg-deleting');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => send(server, 'DELETE', withApiVersion(rg, RG_API_VERSION))),
    );
    assertNo5xx(results);
    for (const r of results) assert.equal(r.status, 202, describeResponse(r));
    assert.equal(new Set(results.map((r) => r.headers.get('location'))).size, 1, 'one operation');
    const put = await send(server, 'PUT', withApiVersion(rg, RG_API_VERSION), { location: 'eastus' });
    assert.equal(put.status, 409, describeResponse(put));
    assert.equal(put.body.error.code, 'AnotherOperationInProgress');
  });
});

process.on('exit', () => agent.destroy());
