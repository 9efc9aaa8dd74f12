// Issue 14 (the write path's cost): a write to an existing resource no longer reads its ancestors before the commit,
// and the stores check a run of `requireParent` conditions without parsing the parents' documents (PostgreSQL: in one
// statement). What must not change: an existing child under a parent being deleted is still refused with the
// parent's 409 and nothing is written; every condition of a run counts; a parent whose document the PostgreSQL
// store keeps wrapped (it holds a \u0000) is still seen as being deleted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Store } from '../src/store/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { PostgresStore } from '../src/store/postgres.js';
import { startPostgres, type RunningPostgres } from './support/postgres.js';
import { describeWithPostgres } from './support/with-postgres.js';
import { storedResource } from './support/stored-resource.js';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  startTestServer,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';

const STABLE = '2025-09-01';

function conditions(open: () => Promise<Store>): void {
  let store: Store;
  before(async () => {
    store = await open();
  });
  after(async () => store?.close());

  test('every condition of a run counts, and a wrapped parent document being deleted is seen', async () => {
    const sub = `/subscriptions/${randomUUID()}`;
    const rg = storedResource(`${sub}/resourceGroups/rg`, 'Microsoft.Resources/resourceGroups', sub.toLowerCase(), {
      provisioningState: 'Succeeded',
    });
    // A NUL in the document: the PostgreSQL store keeps such a document as a JSON string (JSONB cannot hold it).
    const ws = storedResource(
      `${rg.id}/providers/Microsoft.MachineLearningServices/workspaces/ws`,
      'Microsoft.MachineLearningServices/workspaces',
      rg.key,
      { provisioningState: 'Succeeded', description: 'a\u0000b' },
    );
    assert.equal(await store.commit([{ op: 'insert', resource: rg }]), true);
    assert.equal(await store.commit([{ op: 'insert', resource: ws }]), true);
    let n = 0;
    const child = () =>
      storedResource(`${ws.id}/serverlessEndpoints/ep-${n++}`, `${ws.type}/serverlessEndpoints`, ws.key, {
        provisioningState: 'Succeeded',
      });
    const under = (keys: string[], r = child()) =>
      store.commit([
        ...keys.map((key) => ({ op: 'requireParent' as const, key, notDeleting: true })),
        { op: 'insert', resource: r },
      ]);

    assert.equal(await under([rg.key, ws.key]), true, 'both ancestors there');
    assert.equal(await under([rg.key, ws.key, rg.key]), true, 'a key named twice');
    const missing = child();
    assert.equal(await under([rg.key, `${ws.key}-gone`], missing), false, 'one of the run missing');
    assert.equal(await store.get(missing.key), undefined, 'and nothing written');

    const deleting = {
      ...ws,
      body: { ...ws.body, properties: { ...(ws.body.properties as object), provisioningState: 'Deleting' } },
      etag: randomUUID(),
    };
    assert.equal(await store.commit([{ op: 'update', resource: deleting, ifEtag: ws.etag }]), true);
    const late = child();
    assert.equal(await under([rg.key, ws.key], late), false, 'refused under a (wrapped) parent being deleted');
    assert.equal(await store.get(late.key), undefined);
    assert.equal(
      await store.commit([
        { op: 'requireParent', key: ws.key, notDeleting: false },
        { op: 'insert', resource: child() },
      ]),
      true,
      'without notDeleting, existence is enough',
    );
  });
}

describe('requireParent runs on SQLite', () => conditions(async () => new SqliteStore(':memory:')));

describeWithPostgres('requireParent runs on PostgreSQL', () => {
  let postgres: RunningPostgres;
  after(async () => postgres?.stop());
  conditions(async () => {
    postgres = await startPostgres();
    return PostgresStore.open(await postgres.freshDatabase('amlite_parent_runs'));
  });
});

describe('writes to an existing resource under a parent being deleted', () => {
  let server: RunningServer;
  const sub = randomUUID();
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  test('PUT and PATCH of an existing endpoint answer 409, as a create does, and change nothing', async () => {
    const hold = await armFetch(server, 'POST', '/_amlite/rules', {
      body: { kind: 'delay', match: { method: 'DELETE' } },
    });
    assert.equal(hold.status, 201, describeResponse(hold));
    await createResourceGroup(server, sub, 'rg');
    await createWorkspace(server, sub, 'rg', 'ws-going');
    const ep = withApiVersion(endpointPath(sub, 'rg', 'ws-going', 'ep'), STABLE);
    const created = await armFetch(server, 'PUT', ep, { body: endpointBody() });
    assert.equal(created.status, 201, describeResponse(created));
    const ready = async () => {
      for (;;) {
        const got = await armFetch(server, 'GET', ep);
        if (got.body.properties?.provisioningState !== 'Creating') return got;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const etag = (await ready()).headers.get('etag');

    const del = await armFetch(server, 'DELETE', withApiVersion(workspacePath(sub, 'rg', 'ws-going'), STABLE));
    assert.equal(del.status, 202, describeResponse(del));
    const fresh = await armFetch(server, 'PUT', withApiVersion(endpointPath(sub, 'rg', 'ws-going', 'ep-new'), STABLE), {
      body: endpointBody(),
    });
    assert.equal(fresh.status, 409, describeResponse(fresh));
    const put = await armFetch(server, 'PUT', ep, { body: endpointBody() });
    assert.equal(put.status, 409, describeResponse(put));
    assert.equal(put.body.error.code, fresh.body.error.code, "the parent's answer, as for a create");
    const patch = await armFetch(server, 'PATCH', ep, { body: { tags: { late: 'yes' } } });
    assert.equal(patch.status, 409, describeResponse(patch));
    assert.equal(patch.body.error.code, fresh.body.error.code);
    const after = await armFetch(server, 'GET', ep);
    assert.equal(after.status, 200, 'reads still answer');
    assert.equal(after.headers.get('etag'), etag, 'nothing was written');
    assert.equal(after.body.tags?.late, undefined);
  });
});
