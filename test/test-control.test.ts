import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import {
  armClient,
  armFetch,
  certDir,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  errorOf,
  freshDataDir,
  putAndWait,
  startTestServer,
  startWithWorkspace,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';

const SUB = '7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b';
const RG = 'control-rg';
const WS = 'control-ws';
const V = '2025-09-01';
const id = (name: string) => endpointPath(SUB, RG, WS, name);
const rule = (server: RunningServer, body: unknown) => armFetch(server, 'POST', '/_amlite/rules', { body });

describe('test control through the control API', () => {
  let server: RunningServer;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server.close());
  const reset = async () => assert.equal((await armFetch(server, 'POST', '/_amlite/reset')).status, 200);

  test('an async failure: the official poller surfaces the ARM error, the endpoint is Failed / CreationFailed', async () => {
    await reset();
    const added = await rule(server, {
      kind: 'fail',
      mode: 'async',
      match: { resourceType: 'serverlessEndpoints', name: 'doomed-*', method: 'PUT' },
      error: { code: 'QuotaExceeded', message: 'Not enough quota in eastus.' },
      count: 1,
    });
    assert.equal(added.status, 201);
    const client = armClient(server, SUB);
    await assert.rejects(client.resources.beginCreateOrUpdateByIdAndWait(id('doomed-1'), V, endpointBody()), (e) => {
      // core-lro reports a Failed operation status as "The long-running operation has failed. <code>. <message>".
      assert.match(errorOf(e).message, /QuotaExceeded\. Not enough quota in eastus\./);
      return true;
    });
    const ep = await client.resources.getById(id('doomed-1'), V);
    assert.deepEqual(
      [(ep.properties as any).provisioningState, (ep.properties as any).endpointState],
      ['Failed', 'CreationFailed'],
    );
    const listed = (await armFetch(server, 'GET', '/_amlite/rules')).body.value;
    assert.equal(listed[0].hits, 1);
    assert.equal(listed[0].count, 0, 'spent, still listed');
    const again = await client.resources.beginCreateOrUpdateByIdAndWait(id('doomed-2'), V, endpointBody());
    assert.equal(
      (again.properties as any).provisioningState,
      'Succeeded',
      'count 1: only the first matching create fails',
    );
    // A failed endpoint can be put again, and then succeeds.
    const retried = await client.resources.beginCreateOrUpdateByIdAndWait(id('doomed-1'), V, endpointBody());
    assert.equal((retried.properties as any).provisioningState, 'Succeeded');
  });

  test('a sync failure answers the request with the given status and error, and changes nothing', async () => {
    await reset();
    await putAndWait(server, id('patched'), V, endpointBody());
    await rule(server, {
      kind: 'fail',
      match: { method: 'PATCH' },
      error: { status: 409, code: 'Conflict', message: 'Injected.' },
    });
    const res = await armFetch(server, 'PATCH', withApiVersion(id('patched'), V), { body: { tags: { a: 'b' } } });
    assert.equal(res.status, 409);
    assert.deepEqual(res.body.error, { code: 'Conflict', message: 'Injected.' });
    assert.equal((await armFetch(server, 'GET', withApiVersion(id('patched'), V))).body.tags, undefined);
  });

  test('a delayed operation stays running until released', async () => {
    await reset();
    await rule(server, { kind: 'delay', match: { resourceType: 'serverlessEndpoints', method: 'PUT' } });
    const put = await armFetch(server, 'PUT', withApiVersion(id('held'), V), { body: endpointBody() });
    assert.equal(put.status, 201);
    const status = put.headers.get('azure-asyncoperation')!;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await armFetch(server, 'GET', status)).body.status, 'InProgress');
    assert.equal(
      (await armFetch(server, 'GET', withApiVersion(id('held'), V))).body.properties.provisioningState,
      'Creating',
    );
    const held = (await armFetch(server, 'GET', '/_amlite/operations?status=InProgress')).body.value;
    assert.equal(held.length, 1);
    const released = await armFetch(server, 'POST', `/_amlite/operations/${held[0].id}/release`);
    assert.equal(released.body.status, 'Succeeded');
    assert.equal((await armFetch(server, 'GET', status)).body.status, 'Succeeded');
    assert.equal(
      (await armFetch(server, 'GET', withApiVersion(id('held'), V))).body.properties.endpointState,
      'Online',
    );
  });

  test('a delay with a duration finishes by itself', async () => {
    await reset();
    await rule(server, { kind: 'delay', duration: 'PT0.3S', match: { method: 'PUT', name: 'timed' } });
    const put = await armFetch(server, 'PUT', withApiVersion(id('timed'), V), { body: endpointBody() });
    const status = put.headers.get('azure-asyncoperation')!;
    assert.equal((await armFetch(server, 'GET', status)).body.status, 'InProgress');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await armFetch(server, 'GET', status)).body.status, 'Succeeded');
  });

  test('a management throttle answers 429 with Retry-After and x-ms-ratelimit-remaining headers', async () => {
    await reset();
    await rule(server, { kind: 'throttle', limit: 2, window: 'PT1M', match: { method: 'GET', subscription: SUB } });
    const get = () => armFetch(server, 'GET', withApiVersion(id('patched'), V));
    const first = await get();
    assert.equal(first.headers.get('x-ms-ratelimit-remaining-subscription-reads'), '1');
    assert.equal((await get()).status, 200);
    const third = await get();
    assert.equal(third.status, 429);
    assert.equal(third.body.error.code, 'SubscriptionRequestsThrottled');
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    assert.equal(third.headers.get('x-ms-ratelimit-remaining-subscription-reads'), '0');
    await reset();
    assert.equal((await get()).status, 200, 'reset lifts it');
  });

  test("the openai client's own retry honours an injected 429 Retry-After", async () => {
    await reset();
    const ep = (await putAndWait(server, id('busy'), V, endpointBody())).final;
    const keys = (await armFetch(server, 'POST', withApiVersion(`${id('busy')}/listKeys`, V))).body;
    await rule(server, {
      kind: 'fail',
      count: 1,
      retryAfterSeconds: 1,
      match: { plane: 'data', name: 'busy' },
      error: { status: 429, code: 'TooManyRequests', message: 'Slow down.' },
    });
    const client = new OpenAI({ baseURL: ep.properties.inferenceEndpoint.uri, apiKey: keys.primaryKey, maxRetries: 2 });
    const started = Date.now();
    const reply = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
    });
    assert.equal(reply.choices[0].finish_reason, 'length');
    assert.ok(Date.now() - started >= 900, 'waited the Retry-After second before retrying');
    const [r] = (await armFetch(server, 'GET', '/_amlite/rules')).body.value;
    assert.equal(r.hits, 1);
  });

  test('data-plane token budget: requests beyond tokensPerMinute get 429 RateLimitExceeded', async () => {
    await reset();
    const ep = (await putAndWait(server, id('metered'), V, endpointBody())).final;
    const keys = (await armFetch(server, 'POST', withApiVersion(`${id('metered')}/listKeys`, V))).body;
    await rule(server, { kind: 'throttle', tokensPerMinute: 30, match: { plane: 'data', name: 'metered' } });
    const ask = () =>
      fetch(`${ep.properties.inferenceEndpoint.uri}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': keys.primaryKey },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hello there' }], max_tokens: 20 }),
      });
    const first = await ask();
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-ratelimit-remaining-tokens'), '30');
    const second = await ask();
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('x-ms-error-code'), 'RateLimitExceeded');
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
  });

  test('a suspended endpoint refuses inference with a clear error; back Online it serves', async () => {
    await reset();
    const ep = (await putAndWait(server, id('sleepy'), V, endpointBody())).final;
    const keys = (await armFetch(server, 'POST', withApiVersion(`${id('sleepy')}/listKeys`, V))).body;
    const ask = () => fetch(`${ep.properties.inferenceEndpoint.uri}/info`, { headers: { 'api-key': keys.primaryKey } });
    const suspended = await armFetch(server, 'POST', '/_amlite/state', {
      body: { id: ep.id, endpointState: 'Suspended' },
    });
    assert.equal(suspended.status, 200);
    assert.equal(
      (await armFetch(server, 'GET', withApiVersion(id('sleepy'), V))).body.properties.endpointState,
      'Suspended',
    );
    const refused = await ask();
    assert.equal(refused.status, 409);
    assert.match((await refused.json()).error.message, /Suspended/);
    await armFetch(server, 'POST', '/_amlite/state', { body: { id: ep.id, endpointState: 'Online' } });
    assert.equal((await ask()).status, 200);
  });

  test('bad rules are 400 with a target; the control API needs the same credential as ARM', async () => {
    const bad = await rule(server, { kind: 'fail', match: {} });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.target, 'error');
    const typo = await rule(server, { kind: 'explode' });
    assert.equal(typo.status, 400);
    assert.equal(typo.body.error.target, 'kind');
    assert.equal((await armFetch(server, 'GET', '/_amlite/rules', { token: null })).status, 401);
    const put = await armFetch(server, 'PUT', '/_amlite/rules/my-rule', { body: { kind: 'delay', duration: 'PT1S' } });
    assert.equal(put.status, 201);
    assert.equal((await armFetch(server, 'GET', '/_amlite/rules/my-rule')).body.duration, 'PT1S');
    assert.equal((await armFetch(server, 'DELETE', '/_amlite/rules/my-rule')).status, 200);
    assert.equal((await armFetch(server, 'GET', '/_amlite/rules/my-rule')).status, 404);
  });
});

describe('rules file and CLI', () => {
  test('--rules loads rules at start; `amlite control` lists, adds and resets them', async () => {
    const dir = freshDataDir();
    const rulesFile = join(dir, 'rules.json');
    writeFileSync(
      rulesFile,
      JSON.stringify([
        { id: 'from-file', kind: 'fail', match: { method: 'DELETE' }, error: { status: 403, code: 'Forbidden' } },
      ]),
    );
    const server = await startTestServer({ rules: rulesFile });
    try {
      const run = (...args: string[]) =>
        promisify(execFile)(process.execPath, [
          '--import',
          'tsx',
          'src/main.ts',
          'control',
          '--url',
          server.url,
          '--cacert',
          join(certDir(), 'cert.pem'),
          ...args,
        ]);
      const listed = JSON.parse((await run('rules')).stdout);
      assert.deepEqual(
        listed.value.map((r: { id: string }) => r.id),
        ['from-file'],
      );
      await run('add', JSON.stringify({ id: 'cli-rule', kind: 'delay' }));
      assert.equal(JSON.parse((await run('rules')).stdout).value.length, 2);
      assert.deepEqual(JSON.parse((await run('reset')).stdout), { rulesRemoved: 2, operationsReleased: 0 });
      await assert.rejects(run('remove'), /remove needs a rule id/);
    } finally {
      await server.close();
    }
  });
});

describe('async failures of PATCH and DELETE through the Location flow', () => {
  test('the Location URL answers the injected error; the resource shows Failed (and DeletionFailed)', async () => {
    const server = await startTestServer();
    try {
      await createResourceGroup(server, SUB, RG);
      await createWorkspace(server, SUB, RG, WS);
      await putAndWait(server, id('flaky'), V, endpointBody());
      await rule(server, {
        kind: 'fail',
        mode: 'async',
        match: { method: ['PATCH', 'DELETE'] },
        error: { code: 'InternalServerError', message: 'The backend fell over.' },
      });
      const client = armClient(server, SUB);
      await assert.rejects(
        client.resources.beginUpdateByIdAndWait(id('flaky'), V, { tags: { a: 'b' } }),
        /backend fell over/,
      );
      assert.equal(
        (await armFetch(server, 'GET', withApiVersion(id('flaky'), V))).body.properties.provisioningState,
        'Failed',
      );
      await assert.rejects(client.resources.beginDeleteByIdAndWait(id('flaky'), V), /backend fell over/);
      const after = (await armFetch(server, 'GET', withApiVersion(id('flaky'), V))).body.properties;
      assert.deepEqual([after.provisioningState, after.endpointState], ['Failed', 'DeletionFailed']);
    } finally {
      await server.close();
    }
  });
});

describe('rules live in the store: the same behaviour on PostgreSQL, shared by two servers', () => {
  test('a count-limited failure added through one server is spent once across both; a hold is released through the other', async (t) => {
    const { postgresUnavailable, startPostgres } = await import('./support/postgres.js');
    const unavailable = postgresUnavailable();
    if (unavailable && 'skip' in unavailable) return t.skip(unavailable.skip);
    if (unavailable) assert.fail(unavailable.fail);
    const pg = await startPostgres();
    const store = await pg.freshDatabase('control');
    const a = await startTestServer({ inMemory: false, store });
    const b = await startTestServer({ inMemory: false, store });
    try {
      await createResourceGroup(a, SUB, RG);
      await createWorkspace(a, SUB, RG, WS);
      await rule(a, {
        kind: 'fail',
        count: 1,
        match: { method: 'PATCH' },
        error: { status: 409, code: 'Conflict', message: 'once' },
      });
      await putAndWait(a, id('shared'), V, endpointBody());
      const statuses = [];
      for (const server of [b, a, b])
        statuses.push(
          (await armFetch(server, 'PATCH', withApiVersion(id('shared'), V), { body: { tags: { n: '1' } } })).status,
        );
      assert.deepEqual(statuses, [409, 202, 202], 'spent once, whichever server took it');
      await rule(b, { kind: 'delay', match: { method: 'PUT', name: 'parked' } });
      const put = await armFetch(a, 'PUT', withApiVersion(id('parked'), V), { body: endpointBody() });
      assert.equal(put.status, 201);
      const [held] = (await armFetch(b, 'GET', '/_amlite/operations?status=InProgress')).body.value;
      assert.equal((await armFetch(b, 'POST', `/_amlite/operations/${held.id}/release`)).body.status, 'Succeeded');
      assert.equal(
        (await armFetch(a, 'GET', withApiVersion(id('parked'), V))).body.properties.provisioningState,
        'Succeeded',
      );
    } finally {
      await a.close();
      await b.close();
      await pg.stop();
    }
  });
});
