// Test control's own tables (rules, throttle counters) and the store's change counter, on SQLite and PostgreSQL:
// rule writes and counter increments are single atomic statements, so concurrency never answers 5xx nor loses a
// count; ended counter windows are deleted; the change counter moves with every resource or operation write.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteStore } from '../src/store/sqlite.js';
import { PostgresStore } from '../src/store/postgres.js';
import type { OperationRecord, Store, StoredResource } from '../src/store/types.js';
import { RuleBook, normalizeRule, type Rule } from '../src/control/rules.js';
import {
  armFetch,
  createResourceGroup,
  describeResponse,
  freshDataDir,
  rgPath,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';
import { postgresUnavailable, startPostgres, type RunningPostgres } from './support/postgres.js';

const rule = (input: Partial<Rule> & Pick<Rule, 'kind'>): Rule => normalizeRule({ ...input }, new Date());

function resource(key: string): StoredResource {
  const now = new Date().toISOString();
  const systemData = {
    createdBy: 't',
    createdByType: 'User' as const,
    createdAt: now,
    lastModifiedBy: 't',
    lastModifiedByType: 'User' as const,
    lastModifiedAt: now,
  };
  return {
    key,
    id: key,
    parentKey: key.slice(0, key.lastIndexOf('/')),
    type: 'Microsoft.Resources/resourceGroups',
    name: key.split('/').at(-1)!,
    body: {},
    systemData,
    internal: {},
    etag: randomUUID(),
    createdAt: now,
    updatedAt: now,
  };
}

function operation(id: string): OperationRecord {
  return {
    id,
    kind: 'create',
    resourceKey: '/subscriptions/s/resourcegroups/x',
    resourceId: '/subscriptions/s/resourceGroups/x',
    resourceType: 't',
    subscriptionId: 's',
    location: 'eastus',
    apiVersion: 'v',
    status: 'InProgress',
    startTime: new Date().toISOString(),
    dueAt: Date.now() + 60_000,
  };
}

interface Backend {
  name: string;
  open(): Promise<Store>;
  /** Rows in amlite_counters, read with SQL beside the store. */
  counterRows(): Promise<number>;
  close(): Promise<void>;
}

/** The same behaviour, whichever store: the contract test of test control's tables. */
function contract(backend: () => Backend) {
  let b: Backend;
  let store: Store;
  before(async () => {
    b = backend();
    store = await b.open();
  });
  after(async () => {
    await store?.close();
    await b?.close();
  });

  test('rules: inserted once, replaced in place; listed oldest first; deleted with their counters', async () => {
    const book = new RuleBook(store);
    await book.reset();
    const first = rule({ id: 'First', kind: 'fail', error: { code: 'A' }, count: 2, match: { name: 'x-*' } });
    assert.equal(await book.put(first), true, 'new');
    assert.equal(await book.put({ ...first, description: 'again' }), false, 'replaced');
    const later = new Date(Date.now() + 1000).toISOString();
    const second = { ...rule({ id: 'second', kind: 'throttle', limit: 1 }), createdAt: later };
    assert.equal(await book.put(second), true);
    const listed = await book.list(true);
    assert.deepEqual(
      listed.map((r) => r.id),
      ['First', 'second'],
    );
    assert.equal(listed[0].description, 'again');
    assert.deepEqual([listed[0].hits, listed[0].count], [0, 2]);
    assert.equal((await book.get('FIRST'))?.id, 'First', 'looked up case-insensitively, spelled as written');
    await book.count(second, 'b', 1, 60_000, Date.now());
    assert.equal(await book.delete('SECOND'), true);
    assert.equal(await book.delete('second'), false);
    assert.equal(await b.counterRows(), 0, 'its counters went with it');
    assert.equal(await book.reset(), 1);
    assert.deepEqual(await book.list(true), []);
  });

  test('a count-limited rule is spent exactly count times under concurrency, every hit counted', async () => {
    const book = new RuleBook(store);
    await book.reset();
    await book.put(rule({ id: 'five', kind: 'fail', error: { code: 'A' }, count: 5 }));
    const subject = { plane: 'management' as const, type: 't', name: 'n', method: 'GET', subscription: 's' };
    const taken = await Promise.all(Array.from({ length: 40 }, () => book.take('fail', subject)));
    assert.equal(taken.filter(Boolean).length, 5);
    const after = await book.get('five');
    assert.deepEqual([after?.hits, after?.count], [5, 0]);
  });

  test('200 concurrent increments of one counter: exact totals, each total returned once', async () => {
    const book = new RuleBook(store);
    await book.reset();
    const r = rule({ id: 'throttle', kind: 'throttle', limit: 10 });
    await book.put(r);
    const now = Date.now();
    const used = await Promise.all(Array.from({ length: 200 }, () => book.count(r, 'sub:reads', 1, 3_600_000, now)));
    assert.deepEqual(
      used.map((u) => u.used).sort((x, y) => x - y),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.equal(await book.peek(r, 'sub:reads', 3_600_000, now), 200);
  });

  test('ended windows are deleted: the counters do not grow with time', async () => {
    const book = new RuleBook(store);
    await book.reset();
    const r = rule({ id: 'window', kind: 'throttle', limit: 10, window: 'PT1S' });
    await book.put(r);
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    for (let w = 0; w < 20; w++) {
      for (const bucket of ['a', 'b']) {
        for (let i = 0; i < 3; i++) await book.count(r, bucket, 1, 1000, t0 + w * 1000 + i);
      }
    }
    assert.equal(await b.counterRows(), 2, 'only the current window of each bucket is left');
    assert.equal(await book.peek(r, 'a', 1000, t0), 0, 'the first window is gone');
    assert.equal(await book.peek(r, 'a', 1000, t0 + 19_000), 3);
  });

  test('the change counter moves with every resource and operation write, not with leases or rules', async () => {
    const seq = () => store.changeSeq();
    let last = await seq();
    const moved = async (what: string, write: () => Promise<unknown>, expected = true) => {
      await write();
      const now = await seq();
      assert.equal(now !== last, expected, `${what}: ${last} → ${now}`);
      last = now;
    };
    const key = `/subscriptions/${randomUUID()}/resourcegroups/rg`;
    const op = operation(randomUUID());
    await moved('insert', () => store.commit([{ op: 'insert', resource: resource(key) }]));
    const row = (await store.get(key))!;
    const updated = { ...row, etag: randomUUID() };
    await moved('update', () => store.commit([{ op: 'update', resource: updated, ifEtag: row.etag }]));
    await moved('operation', () => store.commit([{ op: 'putOperation', operation: op }]));
    await moved('lease', () => store.claimOperation(op.id, 'me', Date.now() + 120_000, 30_000), false);
    await moved('rule', () => new RuleBook(store).put(rule({ kind: 'fail', error: { code: 'A' } })), false);
    const done: OperationRecord = { ...op, status: 'Succeeded' };
    await moved('finish', () => store.commit([{ op: 'putOperation', operation: done, ifInProgress: true }]));
    await moved('delete', () => store.commit([{ op: 'deleteTree', key }]));
    const twice = resource(`${key}2`);
    const refused = () =>
      store.commit([
        { op: 'insert', resource: twice },
        { op: 'insert', resource: twice },
      ]);
    await moved('a refused write', refused, false);
  });
}

describe('test-control tables on SQLite', () => {
  const file = join(freshDataDir(), 'amlite.db');
  contract(() => ({
    name: 'sqlite',
    open: async () => new SqliteStore(file),
    counterRows: async () => {
      const db = new Database(file, { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM amlite_counters').get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    close: async () => {},
  }));
});

const unavailable = postgresUnavailable();

const pgSkip = unavailable && 'skip' in unavailable ? unavailable.skip : false;

describe('test-control tables on PostgreSQL', { skip: pgSkip }, () => {
  let server: RunningPostgres | undefined;
  let url = '';
  before(async () => {
    if (unavailable) assert.fail((unavailable as { fail: string }).fail);
    server = await startPostgres();
    url = await server.freshDatabase('control_tables');
  });
  after(async () => server?.stop());

  contract(() => ({
    name: 'postgres',
    open: () => PostgresStore.open(url),
    counterRows: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return Number((await c.query('SELECT count(*) AS n FROM amlite_counters')).rows[0].n);
      } finally {
        await c.end();
      }
    },
    close: async () => {},
  }));

  describe('two servers on one database', () => {
    const SUB = randomUUID();
    let a: RunningServer;
    let b: RunningServer;
    before(async () => {
      const store = await server!.freshDatabase('control_http');
      a = await startTestServer({ inMemory: false, store });
      b = await startTestServer({ inMemory: false, store });
      await createResourceGroup(a, SUB, 'rg');
    });
    after(async () => {
      await a?.close();
      await b?.close();
    });

    test('60 concurrent writes of one rule: no 5xx, exactly one creates it, the rule is whole', async () => {
      const body = (i: number) => ({
        kind: 'fail',
        description: `writer ${i}`,
        match: { method: 'DELETE', name: 'never-*' },
        error: { code: 'X' },
      });
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          armFetch(i % 2 ? a : b, 'PUT', '/_amlite/rules/contended', { body: body(i) }),
        ),
      );
      for (const res of results) assert.ok(res.status === 200 || res.status === 201, describeResponse(res));
      assert.equal(results.filter((r) => r.status === 201).length, 1);
      const stored = (await armFetch(a, 'GET', '/_amlite/rules/contended')).body;
      assert.match(stored.description, /^writer \d+$/);
      assert.equal((await armFetch(b, 'GET', '/_amlite/rules')).body.value.length, 1);
    });

    test('200 contended hits on one throttle counter: no 5xx, exactly the limit let through', async () => {
      await armFetch(a, 'POST', '/_amlite/reset');
      const limit = 37;
      const throttle = { kind: 'throttle', limit, window: 'PT1H', match: { subscription: SUB, method: 'GET' } };
      const added = await armFetch(a, 'POST', '/_amlite/rules', { body: throttle });
      assert.equal(added.status, 201, describeResponse(added));
      const path = withApiVersion(rgPath(SUB, 'rg'), '2025-04-01');
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => armFetch(i % 2 ? a : b, 'GET', path)));
      const statuses = results.map((r) => r.status);
      assert.deepEqual(
        statuses.filter((s) => s >= 500),
        [],
        'no 5xx',
      );
      assert.equal(statuses.filter((s) => s === 200).length, limit, JSON.stringify(statuses));
      assert.equal(statuses.filter((s) => s === 429).length, 200 - limit);
    });
  });
});
