// Issue 12, the ARM engine's integrity: names Azure refuses (6), path segments (7), writes under a parent being
// deleted and operations whose resource vanished (11), out-of-range numbers (17). The cross-process race of a child
// PUT with its parent's DELETE on PostgreSQL (5) is in hardening-arm-pg.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  armClient,
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  fakeToken,
  pollUntil,
  rgPath,
  startTestServer,
  waitForTerminal,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';
import { rawRequest } from './support/raw-http.js';

const STABLE = '2025-09-01';
const PREVIEW = '2026-03-15-preview';
const NS = 'Microsoft.MachineLearningServices';
const WS_BODY = { location: 'eastus', properties: {} };

describe('ARM integrity', () => {
  let server: RunningServer;
  const sub = randomUUID();
  const rg = 'rg-integrity';
  const ws = workspacePath(sub, rg, 'ws-integrity');

  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, sub, rg);
    await createWorkspace(server, sub, rg, 'ws-integrity');
  });
  after(async () => server?.close());

  const call = (method: string, path: string, version: string, body?: unknown) =>
    armFetch(server, method, withApiVersion(path, version), body === undefined ? {} : { body });

  /** A request sent byte for byte (fetch would resolve `.` and `..` segments before sending). */
  async function raw(method: string, path: string, body?: unknown) {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const host = new URL(server.url).host;
    const head = [
      `${method} ${path} HTTP/1.1`,
      `Host: ${host}`,
      `Authorization: Bearer ${fakeToken()}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(payload)}`,
      'Connection: close',
    ];
    return rawRequest(server.url, `${head.join('\r\n')}\r\n\r\n${payload}`);
  }

  const assertInvalidName = (res: { status: number; json?: any; body?: any }, what: string) => {
    const body = res.json ?? res.body;
    assert.equal(res.status, 400, `${what}: ${describeResponse({ status: res.status, body })}`);
    assert.equal(body?.error?.code, 'InvalidResourceName', what);
  };

  describe('names Azure refuses (item 6)', () => {
    for (const segment of ['.', '..', '%2E%2E', 'ep.', 'a%20b', 'a%C2%A0b', 'a%E2%80%A8b', 'a%C2%85b']) {
      test(`an endpoint named '${decodeURIComponent(segment)}' is refused in both api-versions`, async () => {
        for (const version of [PREVIEW, STABLE]) {
          const res = await raw('PUT', withApiVersion(`${ws}/serverlessEndpoints/${segment}`, version), endpointBody());
          assertInvalidName(res, `${segment} @ ${version}`);
        }
      });
    }

    test('names ending in . are refused for every type', async () => {
      const pool = `${ws}/inferencePools/pool-ok`;
      for (const path of [
        withApiVersion(rgPath(sub, 'rg-dot.'), RG_API_VERSION),
        withApiVersion(workspacePath(sub, rg, 'ws-dot.'), STABLE),
        withApiVersion(`${ws}/inferencePools/pool.`, PREVIEW),
        withApiVersion(`${pool}/groups/g.`, PREVIEW),
        withApiVersion(`${pool}/endpoints/e.`, PREVIEW),
      ])
        assertInvalidName(await raw('PUT', path, { location: 'eastus', properties: {} }), path);
    });

    test('deleting every listed endpoint by id through the SDK leaves the workspace alone', async () => {
      const ep = endpointPath(sub, rg, 'ws-integrity', 'ep-listed');
      await armFetch(server, 'PUT', withApiVersion(ep, PREVIEW), { body: endpointBody() });
      // The attack: a '..' endpoint that listing then offers for deletion. Its create is refused now.
      const dots = await raw('PUT', withApiVersion(`${ws}/serverlessEndpoints/..`, PREVIEW), endpointBody());
      assertInvalidName(dots, '..');
      const list = await armFetch(server, 'GET', withApiVersion(`${ws}/serverlessEndpoints`, PREVIEW));
      assert.equal(list.status, 200, describeResponse(list));
      const client = armClient(server, sub);
      for (const item of list.body.value) {
        await client.resources.beginDeleteByIdAndWait(item.id, PREVIEW, { updateIntervalInMs: 10 });
      }
      const still = await armFetch(server, 'GET', withApiVersion(ws, STABLE));
      assert.equal(still.status, 200, `the workspace survives: ${describeResponse(still)}`);
    });

    test('inference URIs percent-encode the route (a name with characters a URL must escape)', async () => {
      const name = 'caf\u00e9^1';
      const ep = `${ws}/serverlessEndpoints/${encodeURIComponent(name)}`;
      const res = await call('PUT', ep, PREVIEW, endpointBody());
      assert.equal(res.status, 201, describeResponse(res));
      assert.equal(res.body.name, name);
      const { uri } = res.body.properties.inferenceEndpoint;
      assert.equal(new URL(uri).href, uri, `a valid, fully encoded URI: ${uri}`);
      await waitForTerminal(server, ep, PREVIEW);
      const keys = await call('POST', `${ep}/listKeys`, PREVIEW);
      const chat = await fetch(`${uri}/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': keys.body.primaryKey, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
      });
      assert.equal(chat.status, 200, `the URI serves: ${await chat.clone().text()}`);
    });
  });

  describe('path segments (item 7)', () => {
    test('a subscription id that is not a GUID: 400 InvalidSubscriptionId on every route', async () => {
      for (const [method, path] of [
        ['PUT', withApiVersion(rgPath('not-a-guid', 'rg1'), RG_API_VERSION)],
        ['GET', withApiVersion('/subscriptions/not-a-guid/resourcegroups', RG_API_VERSION)],
        ['GET', withApiVersion(workspacePath('x%00y', 'rg1', 'ws1'), STABLE)],
        ['GET', withApiVersion('/subscriptions/123/resources', RG_API_VERSION)],
      ] as const) {
        const res = await armFetch(server, method, path, method === 'PUT' ? { body: { location: 'eastus' } } : {});
        assert.equal(res.status, 400, `${method} ${path}: ${describeResponse(res)}`);
        assert.equal(res.body.error.code, 'InvalidSubscriptionId', path);
      }
    });

    test('%00 or %2F inside an ancestor name: 400 InvalidResourceName', async () => {
      for (const path of [
        workspacePath(sub, 'x%00y', 'ws-1'),
        workspacePath(sub, 'rg%2FresourceGroups%2Frg2', 'ws-1'),
        endpointPath(sub, rg, 'ws%00x', 'ep-1'),
        `${ws}%2FserverlessEndpoints%2Fep-listed/serverlessEndpoints/ep-2`,
      ]) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await call(method, path, STABLE, method === 'PUT' ? endpointBody() : undefined);
          assert.equal(res.status, 400, `${method} ${path}: ${describeResponse(res)}`);
          assert.equal(res.body.error.code, 'InvalidResourceName', path);
        }
      }
      const list = await call('GET', `${workspacePath(sub, 'x%00y', 'ws-1')}/serverlessEndpoints`, STABLE);
      assert.equal(list.status, 400, describeResponse(list));
    });

    test('a workspace nested in a workspace by %2F is refused, not filed under the other workspace', async () => {
      const outer = rgPath(sub, `${rg}%2Fproviders%2F${NS}%2Fworkspaces%2Fws-integrity`);
      const res = await call('PUT', `${outer}/providers/${NS}/workspaces/ws-inner`, STABLE, WS_BODY);
      assert.equal(res.status, 400, describeResponse(res));
      assert.equal(res.body.error.code, 'InvalidResourceName');
      const list = await call('GET', `/subscriptions/${sub}/providers/${NS}/workspaces`, STABLE);
      assert.deepEqual(
        list.body.value.map((w: { name: string }) => w.name),
        ['ws-integrity'],
      );
    });
  });

  describe('parents being deleted (item 11)', () => {
    async function addRule(rule: unknown): Promise<string> {
      const res = await armFetch(server, 'POST', '/_amlite/rules', { body: rule });
      assert.equal(res.status, 201, describeResponse(res));
      return res.body.id;
    }
    const release = async (opId: string) => {
      const res = await armFetch(server, 'POST', `/_amlite/operations/${opId}/release`);
      assert.equal(res.status, 200, describeResponse(res));
    };
    const opIdOf = (url: string) => new URL(url).pathname.split('/').at(-1)!;

    test('no child can be created under a workspace or resource group that is being deleted (409)', async () => {
      const rule = await addRule({ kind: 'delay', match: { method: 'DELETE' } });
      try {
        await createResourceGroup(server, sub, 'rg-going');
        await createWorkspace(server, sub, 'rg-going', 'ws-going');
        const wsGoing = workspacePath(sub, 'rg-going', 'ws-going');
        const del = await armFetch(server, 'DELETE', withApiVersion(wsGoing, STABLE));
        assert.equal(del.status, 202, describeResponse(del));
        const child = await call('PUT', `${wsGoing}/serverlessEndpoints/ep-late`, STABLE, endpointBody());
        assert.equal(child.status, 409, describeResponse(child));
        assert.equal(child.body.error.code, 'Conflict');
        const pool = await call('PUT', `${wsGoing}/inferencePools/pool-late`, PREVIEW, WS_BODY);
        assert.equal(pool.status, 409, describeResponse(pool));

        const rgDel = await armFetch(server, 'DELETE', withApiVersion(rgPath(sub, 'rg-going'), RG_API_VERSION));
        assert.equal(rgDel.status, 202, describeResponse(rgDel));
        const ws2 = await call('PUT', workspacePath(sub, 'rg-going', 'ws-other'), STABLE, WS_BODY);
        assert.equal(ws2.status, 409, describeResponse(ws2));
        assert.equal(ws2.body.error.code, 'ResourceGroupBeingDeleted');
        const get = await armFetch(server, 'GET', withApiVersion(wsGoing, STABLE));
        assert.equal(get.status, 200, 'reads under a parent being deleted still answer');
        await release(opIdOf(del.headers.get('location')!));
        await release(opIdOf(rgDel.headers.get('location')!));
      } finally {
        await armFetch(server, 'DELETE', `/_amlite/rules/${rule}`);
      }
    });

    test("a create whose resource went with its parent's delete ends Canceled, never Succeeded", async () => {
      await createWorkspace(server, sub, rg, 'ws-vanish');
      const ep = endpointPath(sub, rg, 'ws-vanish', 'ep-vanish');
      const rule = await addRule({ kind: 'delay', match: { resourceType: 'serverlessEndpoints', method: 'PUT' } });
      let statusUrl: string;
      try {
        const put = await armFetch(server, 'PUT', withApiVersion(ep, STABLE), { body: endpointBody() });
        assert.equal(put.status, 201, describeResponse(put));
        statusUrl = put.headers.get('azure-asyncoperation')!;
      } finally {
        await armFetch(server, 'DELETE', `/_amlite/rules/${rule}`);
      }
      const del = await armFetch(server, 'DELETE', withApiVersion(workspacePath(sub, rg, 'ws-vanish'), STABLE));
      assert.equal(del.status, 202, describeResponse(del));
      await pollUntil(
        'the workspace to go',
        async () => (await call('GET', workspacePath(sub, rg, 'ws-vanish'), STABLE)).status === 404 || undefined,
      );
      assert.equal((await armFetch(server, 'GET', withApiVersion(ep, STABLE))).status, 404);
      await release(opIdOf(statusUrl));
      const status = await armFetch(server, 'GET', statusUrl);
      assert.equal(status.status, 200, describeResponse(status));
      assert.equal(status.body.status, 'Canceled', describeResponse(status));
      assert.ok(status.body.error?.code && status.body.error?.message, 'a Canceled status carries an error');
    });
  });

  describe('numbers in range (item 17)', () => {
    const pool = `${ws}/inferencePools/pool-n`;
    before(async () => {
      const res = await call('PUT', pool, PREVIEW, WS_BODY);
      assert.equal(res.status, 201, describeResponse(res));
      await waitForTerminal(server, pool, PREVIEW);
      const group = await armFetch(server, 'PUT', withApiVersion(`${pool}/groups/g1`, PREVIEW), {
        body: { location: 'eastus', sku: { name: 'Standard_NC24ads_A100_v4', capacity: 1 }, properties: {} },
      });
      assert.equal(group.status, 201, describeResponse(group));
      await waitForTerminal(server, `${pool}/groups/g1`, PREVIEW);
    });

    const refused = async (path: string, version: string, body: unknown, field: string, method = 'PUT') => {
      const res = await armFetch(server, method, withApiVersion(path, version), { body });
      assert.equal(res.status, 400, `${field} in ${JSON.stringify(body)}: ${describeResponse(res)}`);
      assert.equal(res.body.error.code, 'InvalidRequestContent', field);
      assert.match(JSON.stringify(res.body.error), new RegExp(field.replace(/\./g, '\\.')), field);
    };

    test('sku.capacity is an int32 and not negative, on every type that has a sku', async () => {
      for (const capacity of [1e15, 2 ** 31, -5, 1.5]) {
        const sku = { name: 'Consumption', capacity };
        const field = 'sku.capacity';
        await refused(endpointPath(sub, rg, 'ws-integrity', 'ep-cap'), STABLE, { ...endpointBody(), sku }, field);
        await refused(`${ws}/inferencePools/pool-cap`, PREVIEW, { ...WS_BODY, sku: { name: 'S1', capacity } }, field);
        const wsCap = workspacePath(sub, rg, 'ws-cap');
        await refused(wsCap, STABLE, { ...WS_BODY, sku: { name: 'Basic', capacity } }, field);
        await refused(`${pool}/groups/g1`, PREVIEW, { sku: { capacity } }, 'sku.capacity', 'PATCH');
      }
    });

    test("a group's capacity is at least its catalog SKU's minimum", async () => {
      const res = await call('PATCH', `${pool}/groups/g1`, PREVIEW, { sku: { capacity: 0 } });
      assert.equal(res.status, 400, describeResponse(res));
      assert.equal(res.body.error.target, 'sku.capacity');
    });

    test('maxConcurrentRequestsPerInstance ≥ 1 and probe thresholds ≥ 1', async () => {
      for (const n of [0, -1, 2 ** 31]) {
        const requestConfiguration = { maxConcurrentRequestsPerInstance: n };
        await refused(
          `${pool}/endpoints/e1`,
          PREVIEW,
          {
            location: 'eastus',
            properties: { authMode: 'AAD', groupName: 'g1', requestConfiguration },
          },
          'maxConcurrentRequestsPerInstance',
        );
        for (const field of ['failureThreshold', 'successThreshold']) {
          await refused(
            `${pool}/groups/g2`,
            PREVIEW,
            {
              location: 'eastus',
              properties: { environmentConfiguration: { livenessProbe: { [field]: n } } },
            },
            field,
          );
        }
      }
    });
  });
});
