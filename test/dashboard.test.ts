// The dashboard: its JSON API (rendered as ARM renders, keys masked, loopback only) over HTTPS, and the page itself in
// Debian's Chromium (playwright-core): resources created through the ARM API appear and change state live, a chat
// request goes out from the page to the endpoint's real data-plane URL. Screenshot: test-artifacts/dashboard.png.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import Fastify from 'fastify';
import { PROFILES } from '../src/provisioner/profiles.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { Store, StoredResource } from '../src/store/types.js';
import { Provisioner } from '../src/provisioner/provisioner.js';
import { Engine } from '../src/arm/engine.js';
import { RESOURCE_TYPES } from '../src/server.js';
import { dashboardRoutes } from '../src/dashboard/routes.js';
import { ensureDashboardBundle } from '../scripts/build-dashboard.js';
import { PROJECT_ROOT } from '../src/dashboard/bundle.js';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  pollUntil,
  rgPath,
  startTestServer,
  waitForTerminal,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';

const CHROMIUM = process.env.AMLITE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const PREVIEW = '2026-03-15-preview';

const poolBody = {
  location: 'eastus',
  sku: { name: 'S1', tier: 'Standard', capacity: 1 },
  properties: { description: 'GPU pool' },
};
const groupBody = {
  location: 'eastus',
  sku: { name: 'Standard_NC24ads_A100_v4', capacity: 2 },
  properties: {
    scaleUnitSize: 1,
    modelConfiguration: { modelId: 'azureml://registries/azureml-meta/models/Llama-3.3-70B-Instruct/versions/1' },
  },
};
const poolEndpointBody = { location: 'eastus', properties: { authMode: 'AAD', groupName: 'a100' } };

async function put(server: RunningServer, path: string, apiVersion: string, body: unknown): Promise<void> {
  const res = await armFetch(server, 'PUT', withApiVersion(path, apiVersion), { body });
  assert.ok(res.status === 200 || res.status === 201, `PUT ${path}: ${describeResponse(res)}`);
}

async function listKeys(server: RunningServer, id: string): Promise<{ primaryKey: string; secondaryKey: string }> {
  const res = await armFetch(server, 'POST', withApiVersion(`${id}/listKeys`, PREVIEW));
  assert.equal(res.status, 200, describeResponse(res));
  return res.body;
}

async function api(server: RunningServer, path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await armFetch(server, 'GET', path, { token: null });
  return { status: res.status, body: res.body, headers: res.headers };
}

describe('dashboard JSON API', () => {
  let server: RunningServer;
  const sub = randomUUID();
  const ws = workspacePath(sub, 'rg-api', 'ws-api');
  const ep = endpointPath(sub, 'rg-api', 'ws-api', 'chat-ep');
  const pool = `${ws}/inferencePools/pool1`;

  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, sub, 'rg-api');
    await createWorkspace(server, sub, 'rg-api', 'ws-api');
    await put(server, ep, PREVIEW, endpointBody());
    await put(server, pool, PREVIEW, poolBody);
    await waitForTerminal(server, pool, PREVIEW);
    await put(server, `${pool}/groups/a100`, PREVIEW, groupBody);
    await put(server, `${pool}/endpoints/e1`, PREVIEW, poolEndpointBody);
    for (const id of [ep, `${pool}/groups/a100`, `${pool}/endpoints/e1`]) await waitForTerminal(server, id, PREVIEW);
  });
  after(async () => server?.close());

  test('the tree nests every resource under its parent, each exactly as ARM GET renders it', async () => {
    const { status, body, headers } = await api(server, '/_amlite/api/tree');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(headers.get('cache-control'), 'no-store');
    const subscription = body.subscriptions.find((s: any) => s.subscriptionId === sub);
    assert.ok(subscription, 'the subscription is listed');
    const [rg] = subscription.resourceGroups;
    const [wsNode] = rg.children.workspaces;
    assert.deepEqual(Object.keys(wsNode.children).sort(), [
      'connections',
      'inferencePools',
      'marketplaceSubscriptions',
      'serverlessEndpoints',
    ]);
    const [epNode] = wsNode.children.serverlessEndpoints;
    const [poolNode] = wsNode.children.inferencePools;
    assert.deepEqual(Object.keys(poolNode.children).sort(), ['endpoints', 'groups']);
    const pairs: [any, string, string][] = [
      [rg.resource, rgPath(sub, 'rg-api'), '2025-04-01'],
      [wsNode.resource, ws, PREVIEW],
      [epNode.resource, ep, PREVIEW],
      [poolNode.resource, pool, PREVIEW],
      [poolNode.children.groups[0].resource, `${pool}/groups/a100`, PREVIEW],
      [poolNode.children.endpoints[0].resource, `${pool}/endpoints/e1`, PREVIEW],
    ];
    for (const [shown, id, version] of pairs) {
      const arm = await armFetch(server, 'GET', withApiVersion(id, version));
      assert.equal(arm.status, 200, describeResponse(arm));
      assert.deepEqual(shown, arm.body, `${id} as the dashboard shows it and as ARM GET renders it`);
    }
    assert.equal(epNode.resource.properties.endpointState, 'Online');
  });

  test('keys are masked unless revealed; revealed keys are those of listKeys', async () => {
    const keys = await listKeys(server, ep);
    const masked = await api(server, `/_amlite/api/keys?id=${encodeURIComponent(ep)}`);
    assert.equal(masked.status, 200, JSON.stringify(masked.body));
    assert.equal(masked.body.masked, true);
    for (const k of ['primaryKey', 'secondaryKey'] as const) {
      assert.notEqual(masked.body[k], keys[k]);
      assert.ok(!JSON.stringify(masked.body).includes(keys[k]), 'no full key in the masked answer');
      assert.match(masked.body[k], /^.{4}•+$/u);
      assert.equal(masked.body[k].slice(0, 4), keys[k].slice(0, 4));
    }
    const revealed = await api(server, `/_amlite/api/keys?id=${encodeURIComponent(ep)}&reveal=true`);
    assert.equal(revealed.status, 200);
    assert.equal(revealed.headers.get('cache-control'), 'no-store');
    assert.deepEqual(revealed.body, { id: ep, masked: false, ...keys });

    assert.equal((await api(server, `/_amlite/api/keys?id=${encodeURIComponent(ws)}`)).body.error.code, 'NoKeys');
    assert.equal(
      (await api(server, `/_amlite/api/keys?id=${encodeURIComponent(`${ws}/serverlessEndpoints/nope`)}`)).status,
      404,
    );
    assert.equal((await api(server, '/_amlite/api/keys')).status, 400);
  });

  test('operations: newest first, with timings and outcomes; limit is checked', async () => {
    const { status, body } = await api(server, '/_amlite/api/operations?limit=3');
    assert.equal(status, 200);
    assert.equal(body.value.length, 3);
    const starts = body.value.map((o: any) => Date.parse(o.startTime));
    assert.deepEqual(
      starts,
      [...starts].sort((a: number, b: number) => b - a),
    );
    for (const op of body.value) {
      assert.equal(op.status, 'Succeeded');
      assert.equal(typeof op.durationMs, 'number');
      assert.equal(op.payload, undefined);
    }
    assert.equal((await api(server, '/_amlite/api/operations?limit=0')).status, 400);
    assert.equal((await api(server, '/_amlite/api/operations?limit=abc')).body.error.code, 'InvalidQueryParameter');
  });

  test('events: a server-sent change signal after any write', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/_amlite/api/events`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const until = async (what: RegExp) => {
      while (!what.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${what}`);
        text += new TextDecoder().decode(value);
      }
    };
    await until(/event: ready/);
    await armFetch(server, 'PATCH', withApiVersion(rgPath(sub, 'rg-api'), '2025-04-01'), {
      body: { tags: { seen: 'yes' } },
    });
    await until(/event: change\ndata: \{"version":\d+\}/);
    controller.abort();
  });

  test('the page and its API answer loopback clients under loopback host names only', async () => {
    for (const url of [
      '/_dashboard',
      '/_dashboard/app.js',
      '/_amlite/api/tree',
      '/_amlite/api/events',
      `/_amlite/api/keys?id=${encodeURIComponent(ep)}&reveal=true`,
    ]) {
      const remote = await server.app.inject({ method: 'GET', url, remoteAddress: '192.168.1.20' });
      assert.equal(remote.statusCode, 403, `${url} from a remote address`);
      assert.equal(remote.json().error.code, 'Forbidden');
      assert.ok(!remote.body.includes('primaryKey'));
      const rebound = await server.app.inject({ method: 'GET', url, headers: { host: 'attacker.example:8443' } });
      assert.equal(rebound.statusCode, 403, `${url} under a foreign host name`);
    }
    for (const [remoteAddress, host] of [
      ['127.0.0.1', 'localhost:8443'],
      ['::1', '[::1]:8443'],
      ['::ffff:127.0.0.1', '127.0.0.1:8443'],
      ['127.0.0.2', 'amlite.localhost'],
    ]) {
      const res = await server.app.inject({
        method: 'GET',
        url: '/_amlite/api/tree',
        remoteAddress,
        headers: { host },
      });
      assert.equal(res.statusCode, 200, `${remoteAddress} / ${host}: ${res.body}`);
    }
    // The management plane and the data plane are not restricted by it.
    const arm = await server.app.inject({ method: 'GET', url: '/health', remoteAddress: '192.168.1.20' });
    assert.equal(arm.statusCode, 200);
  });

  test('the page is the built bundle, served from this server with a strict content security policy', async () => {
    const page = await armFetch(server, 'GET', '/_dashboard', { token: null });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.doesNotMatch(page.text, /(src|href)="(https?:)?\/\//, 'nothing loaded from elsewhere');
    for (const asset of ['app.js', 'app.css']) {
      const res = await armFetch(server, 'GET', `/_dashboard/${asset}`, { token: null });
      assert.equal(res.status, 200, asset);
      assert.ok(res.text.length > 500, asset);
    }
    assert.equal((await armFetch(server, 'GET', '/_dashboard/..%2Fpackage.json', { token: null })).status, 404);
    assert.equal((await armFetch(server, 'GET', '/_dashboard/missing.js', { token: null })).status, 404);
  });
});

/** A store that records which of its methods are called (the real SQLite store underneath). */
function countingStore(inner: Store): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

function resourceGroupRow(sub: string, name: string): StoredResource {
  const now = new Date().toISOString();
  const id = rgPath(sub, name);
  const user = 'User' as const;
  const by = { createdBy: 't', createdByType: user, lastModifiedBy: 't', lastModifiedByType: user };
  return {
    key: id.toLowerCase(),
    id,
    parentKey: `/subscriptions/${sub}`,
    type: 'Microsoft.Resources/resourceGroups',
    name,
    body: { location: 'eastus', properties: { provisioningState: 'Succeeded' } },
    systemData: { ...by, createdAt: now, lastModifiedAt: now },
    internal: {},
    etag: randomUUID(),
    createdAt: now,
    updatedAt: now,
  };
}

describe('dashboard change feed', () => {
  test('each tick reads one change counter, not every resource; a write still sends a change', async () => {
    const { store, calls } = countingStore(new SqliteStore(':memory:'));
    const sub = randomUUID();
    for (let i = 0; i < 2000; i += 500) {
      const rows = Array.from({ length: 500 }, (_, j) => resourceGroupRow(sub, `rg-${i + j}`));
      await store.commit(rows.map((resource) => ({ op: 'insert' as const, resource })));
    }
    const app = Fastify();
    const provisioner = new Provisioner(
      store,
      () => undefined,
      PROFILES.fast,
      () => new Date(),
      app.log,
    );
    const engine = new Engine(store, provisioner, PROFILES.fast);
    const deps = { store, engine, provisioner, types: RESOURCE_TYPES, pollMs: 5 };
    await app.register(async (d) => dashboardRoutes(d, deps));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const controller = new AbortController();
    try {
      const res = await fetch(`${url}/_amlite/api/events`, { signal: controller.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = '';
      const until = async (what: RegExp) => {
        while (!what.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${what}`);
          text += new TextDecoder().decode(value);
        }
      };
      await until(/event: ready/);
      calls.length = 0;
      // Ticks happen every 5 ms: wait (by polling the record, not by a fixed sleep) until 20 of them ran.
      const ticks = () => calls.filter((c) => c === 'changeSeq').length;
      await pollUntil('20 ticks of the change feed', async () => (ticks() >= 20 ? true : undefined));
      const reads = new Set(calls);
      assert.deepEqual([...reads], ['changeSeq'], `each tick calls only changeSeq, not ${[...reads].join(', ')}`);
      await store.commit([{ op: 'insert', resource: resourceGroupRow(sub, 'rg-new') }]);
      await until(/event: change\ndata: \{"version":1\}/);
    } finally {
      controller.abort();
      await app.close();
      await provisioner.stop();
      await store.close();
    }
  });
});

const NO_CHROMIUM = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set AMLITE_CHROMIUM`;

// Node's runner counts a skipped test but not a skipped suite: without Chromium, one visibly skipped test stands in.
if (NO_CHROMIUM) test('dashboard page in Chromium', { skip: NO_CHROMIUM }, () => {});
else
  describe('dashboard page in Chromium', () => {
    let server: RunningServer;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    const sub = '00000000-0000-0000-0000-000000000001';
    const ws = workspacePath(sub, 'rg-demo', 'ws-demo');
    const llama = `${ws}/serverlessEndpoints/llama-chat`;
    const phi = `${ws}/serverlessEndpoints/phi-4-mini`;
    const mistral = `${ws}/serverlessEndpoints/mistral-small`;
    const pool = `${ws}/inferencePools/gpu-pool`;

    const resource = (id: string) => page.locator(`[data-testid=resource][data-key="${id.toLowerCase()}"]`);
    const badge = (id: string, field = 'provisioningState') =>
      page.locator(`[data-field=${field}][data-of="${id.toLowerCase()}"]`);
    const expectState = async (id: string, state: string, field = 'provisioningState') =>
      badge(id, field)
        .and(page.locator(`[data-state="${state}"]`))
        .waitFor({ state: 'visible' });
    const operationOf = (id: string, kind: string) =>
      page.locator(`[data-testid=operation][data-resource="${id.toLowerCase()}"][data-kind=${kind}]`);

    before(async () => {
      await ensureDashboardBundle();
      // This process's "realistic" profile takes seconds, not tens of seconds: long enough to see Creating on the page.
      Object.assign(PROFILES.realistic.delayMs, { create: 2500, update: 1500, delete: 1500, action: 500 });
      server = await startTestServer({ profile: 'realistic' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      });
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 } });
      page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
      });
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('opens empty and connects for live updates', async () => {
      await page.goto(`${server.url}/_dashboard`);
      await page.locator('[data-testid=empty]').waitFor();
      await page.locator('[data-testid=connection][data-state=live]').waitFor();
    });

    test('resources created through the ARM API appear, and their states change live', async () => {
      await createResourceGroup(server, sub, 'rg-demo');
      await createWorkspace(server, sub, 'rg-demo', 'ws-demo');
      await expectState(rgPath(sub, 'rg-demo'), 'Succeeded');
      await expectState(ws, 'Succeeded');

      // Three asynchronous creates at once: each shows Creating, then Succeeded (and Online), without a reload.
      await put(server, llama, PREVIEW, endpointBody());
      await put(
        server,
        phi,
        PREVIEW,
        endpointBody({
          modelSettings: { modelId: 'azureml://registries/azureml/models/Phi-4-mini-instruct/versions/1' },
        }),
      );
      await put(server, pool, PREVIEW, poolBody);
      await expectState(llama, 'Creating');
      await expectState(llama, 'Creating', 'endpointState');
      await expectState(pool, 'Creating');
      await operationOf(llama, 'create').locator('[data-field=status][data-state=InProgress]').waitFor();
      await expectState(llama, 'Succeeded');
      await expectState(llama, 'Online', 'endpointState');
      await expectState(phi, 'Online', 'endpointState');
      await expectState(pool, 'Succeeded');
      const op = operationOf(llama, 'create');
      await op.locator('[data-field=status][data-state=Succeeded]').waitFor();
      assert.match(
        await op.locator('[data-testid=took]').innerText(),
        /^\d+(\.\d)? s$/,
        'the finished operation shows how long it took',
      );

      // The pool's group and endpoint appear nested under it.
      await put(server, `${pool}/groups/a100`, PREVIEW, groupBody);
      await put(server, `${pool}/endpoints/chat`, PREVIEW, poolEndpointBody);
      await expectState(`${pool}/groups/a100`, 'Creating');
      await expectState(`${pool}/endpoints/chat`, 'Succeeded');
      await expectState(`${pool}/groups/a100`, 'Succeeded');
      assert.equal(
        await resource(pool)
          .locator(`[data-key="${`${pool}/endpoints/chat`.toLowerCase()}"]`)
          .count(),
        1,
      );
    });

    test('says "loading" until the first answer arrives, never "no operations" while operations exist', async () => {
      const second = await page.context().newPage();
      let held: Route[] = [];
      let release = false;
      await second.route('**/_amlite/api/operations*', (route) => (release ? route.continue() : void held.push(route)));
      try {
        await second.goto(`${server.url}/_dashboard`);
        await second.locator('[data-testid=operations-loading]').waitFor();
        await pollUntil('the page to ask for the operations', async () => (held.length ? true : undefined));
        const empty = second.locator('[data-testid=operations-empty]');
        assert.equal(await empty.count(), 0, 'no "No operations yet" before the answer');
        release = true;
        for (const route of held) await route.continue();
        held = [];
        await second.locator('[data-testid=operations] [data-testid=operation]').first().waitFor();
        assert.equal(await second.locator('[data-testid=operations-empty]').count(), 0);
        assert.equal(await second.locator('[data-testid=operations-loading]').count(), 0);
      } finally {
        await second.close();
      }
    });

    test('keys are masked until revealed, and follow a regeneration', async () => {
      const keys = await listKeys(server, llama);
      const cell = page.locator(`[data-testid=keys][data-of="${llama.toLowerCase()}"]`);
      const primary = cell.locator('[data-testid=key-primary]');
      assert.equal(await primary.innerText(), `${keys.primaryKey.slice(0, 4)}${'•'.repeat(12)}`);
      assert.ok(!(await page.content()).includes(keys.primaryKey), 'no full key on the page');
      const revealed = page.locator(`[data-testid=keys-revealed][data-of="${llama.toLowerCase()}"]`);
      await cell.locator('[data-testid=reveal]').click();
      await revealed.waitFor();
      assert.equal(await revealed.locator('[data-testid=revealed-primary]').innerText(), keys.primaryKey);
      assert.equal(await revealed.locator('[data-testid=revealed-secondary]').innerText(), keys.secondaryKey);
      assert.equal(await cell.getAttribute('data-masked'), 'false');
      await cell.locator('[data-testid=reveal]').click();
      await revealed.waitFor({ state: 'detached' });
      assert.ok(!(await page.content()).includes(keys.primaryKey), 'hidden again');

      const res = await armFetch(server, 'POST', withApiVersion(`${phi}/regenerateKeys`, PREVIEW), {
        body: { keyType: 'Primary', keyValue: 'ZZZZ-regenerated-key-0123456789' },
      });
      assert.equal(res.status, 200, describeResponse(res));
      await page
        .locator(`[data-testid=keys][data-of="${phi.toLowerCase()}"] [data-testid=key-primary]`)
        .filter({ hasText: /^ZZZZ•+$/ })
        .waitFor();
    });

    test("sends a chat request from the page to the endpoint's data-plane URL", async () => {
      const arm = await armFetch(server, 'GET', withApiVersion(llama, PREVIEW));
      const uri: string = arm.body.properties.inferenceEndpoint.uri;
      await resource(llama).locator('[data-testid=chat-open]').click();
      const chat = page.locator('[data-testid=chat]');
      await chat.locator('[data-testid=chat-input]').fill('Write a haiku about testing against a local emulator.');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/chat/completions')),
        chat.locator('[data-testid=chat-send]').click(),
      ]);
      assert.equal(response.url(), `${uri}/chat/completions`);
      assert.equal(response.status(), 200);
      const sent = response.request().headers();
      assert.ok(sent['api-key'], 'the key went in the api-key header');
      const reply = (await chat.locator('[data-testid=chat-reply]').innerText()).trim();
      const body = await response.json();
      assert.ok(reply.length > 0);
      assert.equal(reply, body.choices[0].message.content.trim());
      await chat.locator('[data-testid=chat-status][data-status="200"]').waitFor();
      assert.ok(!(await page.content()).includes(sent['api-key']), 'the key used for the request is not displayed');
    });

    test('screenshot, then a delete: Deleting, then gone', async () => {
      // One more endpoint being created, so the screenshot shows states in motion.
      await put(
        server,
        mistral,
        PREVIEW,
        endpointBody({
          modelSettings: { modelId: 'azureml://registries/azureml-mistral/models/Mistral-small-2503/versions/1' },
        }),
      );
      await expectState(mistral, 'Creating');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      await expectState(mistral, 'Online', 'endpointState');

      const res = await armFetch(server, 'DELETE', withApiVersion(mistral, PREVIEW));
      assert.equal(res.status, 202, describeResponse(res));
      await expectState(mistral, 'Deleting');
      await resource(mistral).waitFor({ state: 'detached' });
      await operationOf(mistral, 'delete').locator('[data-field=status][data-state=Succeeded]').waitFor();
      await pollUntil('the endpoint to be gone from ARM too', async () =>
        (await armFetch(server, 'GET', withApiVersion(mistral, PREVIEW))).status === 404 ? true : undefined,
      );
    });

    test('no errors in the page', () => {
      assert.deepEqual(pageErrors, []);
    });
  });
