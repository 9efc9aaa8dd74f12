/**
 * The fast profile ends a create, update or action in the commit that accepts it (issue 18): the client still gets
 * the accepted answer (201/202, Creating/Updating, the operation URLs) and its first poll finds the operation ended,
 * but the request costs one durable commit, not two. Held (delay rule) and failing (fail rule) operations, and
 * deletes, keep their own behaviour.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';
import type { Write } from '../src/store/types.js';

const SUB = '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e';
const RG = 'fast-rg';
const WS = 'fast-ws';
const V = '2025-09-01';

describe('fast profile: an operation ends in its accepting commit', () => {
  let server: RunningServer;
  /** The commits the server made, each as the list of its writes' kinds. */
  const commits: string[][] = [];
  before(async () => {
    server = await startTestServer({ inMemory: false, profile: 'fast' });
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, WS);
    const commit = server.store.commit.bind(server.store);
    server.store.commit = (writes: Write[]) => {
      commits.push(writes.map((w) => w.op));
      return commit(writes);
    };
  });
  after(() => server.close());

  const operationOf = (put: { headers: Headers }) => armFetch(server, 'GET', put.headers.get('azure-asyncoperation')!);

  test('a create answers Creating, and its operation has Succeeded with no second commit', async () => {
    commits.length = 0;
    const path = withApiVersion(endpointPath(SUB, RG, WS, 'one'), V);
    const put = await armFetch(server, 'PUT', path, { body: endpointBody() });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.body.properties.provisioningState, 'Creating');
    assert.equal((await operationOf(put)).body.status, 'Succeeded');
    assert.equal((await armFetch(server, 'GET', path)).body.properties.provisioningState, 'Succeeded');
    assert.deepEqual(commits, [['requireParent', 'requireParent', 'insert', 'putOperation']]);
    const stored = await server.store.get(put.body.id.toLowerCase());
    assert.equal(stored?.internal.pendingOperation, undefined);
  });

  test('an update (PUT again, and PATCH) ends the same way', async () => {
    const path = withApiVersion(endpointPath(SUB, RG, WS, 'two'), V);
    assert.equal((await armFetch(server, 'PUT', path, { body: endpointBody() })).status, 201);
    commits.length = 0;
    const again = await armFetch(server, 'PUT', path, { body: { ...endpointBody(), tags: { a: '1' } } });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.properties.provisioningState, 'Updating');
    assert.equal((await operationOf(again)).body.status, 'Succeeded');
    const patch = await armFetch(server, 'PATCH', path, { body: { tags: { a: '2' } } });
    assert.equal(patch.status, 202, patch.text);
    assert.equal((await armFetch(server, 'GET', patch.headers.get('location')!)).status, 200);
    assert.equal(commits.length, 2, JSON.stringify(commits));
    const got = await armFetch(server, 'GET', path);
    assert.equal(got.body.properties.provisioningState, 'Succeeded');
    assert.deepEqual(got.body.tags, { a: '2' });
  });

  test('a failure rule fails it in the same commit; a delay rule holds it until released', async () => {
    const fail = { kind: 'fail', mode: 'async', count: 1, match: { name: 'doomed' }, error: { code: 'Nope' } };
    assert.equal((await armFetch(server, 'POST', '/_amlite/rules', { body: fail })).status, 201);
    commits.length = 0;
    const doomed = await armFetch(server, 'PUT', withApiVersion(endpointPath(SUB, RG, WS, 'doomed'), V), {
      body: endpointBody(),
    });
    assert.equal(doomed.status, 201, doomed.text);
    const failed = await operationOf(doomed);
    assert.equal(failed.body.status, 'Failed');
    assert.equal(failed.body.error.code, 'Nope');
    assert.equal(commits.length, 1);

    const hold = { kind: 'delay', count: 1, match: { name: 'held' } };
    assert.equal((await armFetch(server, 'POST', '/_amlite/rules', { body: hold })).status, 201);
    const held = await armFetch(server, 'PUT', withApiVersion(endpointPath(SUB, RG, WS, 'held'), V), {
      body: endpointBody(),
    });
    assert.equal((await operationOf(held)).body.status, 'InProgress');
    const id = new URL(held.headers.get('azure-asyncoperation')!).pathname.split('/').at(-1)!;
    assert.equal((await armFetch(server, 'POST', `/_amlite/operations/${id}/release`)).status, 200);
    for (let i = 0; i < 100 && (await operationOf(held)).body.status === 'InProgress'; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal((await operationOf(held)).body.status, 'Succeeded');
  });

  test('a delete still runs as an operation of its own', async () => {
    const path = withApiVersion(endpointPath(SUB, RG, WS, 'gone'), V);
    assert.equal((await armFetch(server, 'PUT', path, { body: endpointBody() })).status, 201);
    commits.length = 0;
    const del = await armFetch(server, 'DELETE', path);
    assert.equal(del.status, 202, del.text);
    for (let i = 0; i < 100 && (await armFetch(server, 'GET', path)).status !== 404; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal((await armFetch(server, 'GET', path)).status, 404);
    assert.ok(commits.length >= 2, JSON.stringify(commits));
    assert.ok(commits.at(-1)!.includes('deleteTree'));
  });
});
