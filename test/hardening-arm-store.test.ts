// Issue 12 items 5 and 11 at the store: the `requireParent` condition holds on both stores only while the parent
// exists and (with notDeleting) is not being deleted; a failed condition writes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Store, StoredResource } from '../src/store/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { PostgresStore } from '../src/store/postgres.js';
import { startPostgres, type RunningPostgres } from './support/postgres.js';
import { describeWithPostgres } from './support/with-postgres.js';
import { storedResource } from './support/stored-resource.js';

const resource = (id: string, type: string, parentKey: string, state = 'Succeeded'): StoredResource =>
  storedResource(id, type, parentKey, { provisioningState: state });

function contract(open: () => Promise<Store>): void {
  let store: Store;
  before(async () => {
    store = await open();
  });
  after(async () => store?.close());

  test('a child commits only under a parent that exists and is not being deleted', async () => {
    const sub = `/subscriptions/${randomUUID()}`;
    const rg = resource(`${sub}/resourceGroups/rg`, 'Microsoft.Resources/resourceGroups', sub.toLowerCase());
    assert.equal(await store.commit([{ op: 'insert', resource: rg }]), true);
    const ws = (name: string) =>
      resource(
        `${rg.id}/providers/Microsoft.MachineLearningServices/workspaces/${name}`,
        'Microsoft.MachineLearningServices/workspaces',
        rg.key,
      );
    const under = (r: StoredResource, notDeleting = true) =>
      store.commit([
        { op: 'requireParent', key: rg.key, notDeleting },
        { op: 'insert', resource: r },
      ]);

    assert.equal(await under(ws('ws1')), true);
    const deleting = { ...rg, body: { ...rg.body, properties: { provisioningState: 'Deleting' } }, etag: randomUUID() };
    assert.equal(await store.commit([{ op: 'update', resource: deleting, ifEtag: rg.etag }]), true);
    assert.equal(await under(ws('ws2')), false, 'refused under a parent being deleted');
    assert.equal(await store.get(ws('ws2').key), undefined, 'and nothing written');
    assert.equal(await under(ws('ws3'), false), true, 'without notDeleting, existence is enough');
    assert.equal(await store.commit([{ op: 'deleteTree', key: rg.key }]), true);
    assert.equal(await under(ws('ws4')), false, 'refused under a parent that is gone');
    assert.equal(await store.get(ws('ws4').key), undefined);
    assert.equal(await store.get(ws('ws1').key), undefined, 'deleteTree took the children');
  });
}

describe('requireParent on SQLite', () => contract(async () => new SqliteStore(':memory:')));

describeWithPostgres('requireParent on PostgreSQL', () => {
  let postgres: RunningPostgres;
  after(async () => postgres?.stop());
  contract(async () => {
    postgres = await startPostgres();
    return PostgresStore.open(await postgres.freshDatabase('amlite_require_parent'));
  });
});
