// The Store contract, one suite run unchanged against every store: SQLite in memory, SQLite in a file, and
// PostgreSQL (a real server from Debian's package, one fresh database per test). A "peer" is a second connection
// to the same database, as a second amlite process has: the concurrency cases race peers against each other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { OperationRecord, Store, StoredResource, Write } from '../src/store/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { PostgresStore } from '../src/store/postgres.js';
import { LATEST_VERSION, MIGRATIONS } from '../src/store/migrations.js';
import { startPostgres, type RunningPostgres } from './support/postgres.js';
import { describeWithPostgres } from './support/with-postgres.js';

/** One database for one test: the store under test, more connections to it, raw access for schema checks. */
interface Database_ {
  store: Store;
  /** Another store on the same database (for SQLite in memory, the same store: there is no second connection). */
  peer(): Promise<Store>;
  /** Opens the store again on the same database (a restart). */
  reopen(): Promise<Store>;
  /** Applied schema versions, read directly. */
  versions(): Promise<number[]>;
  /** Pretends a newer amlite migrated the database. */
  addVersion(version: number): Promise<void>;
  dispose(): Promise<void>;
}

interface Subject {
  name: string;
  /** An empty database; `isolated` when the test changes the schema (otherwise emptied tables may do). */
  fresh(isolated: boolean): Promise<Database_>;
  /** Only stores with a second connection race for real. */
  separateConnections: boolean;
}

const TYPE_RG = 'Microsoft.Resources/resourceGroups';
const TYPE_WS = 'Microsoft.MachineLearningServices/workspaces';
const TYPE_EP = 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints';

function resource(id: string, type: string, extra: Partial<StoredResource> = {}): StoredResource {
  const key = id.toLowerCase();
  const now = new Date().toISOString();
  return {
    key,
    id,
    parentKey: key.slice(0, key.lastIndexOf('/', key.lastIndexOf('/') - 1)),
    type,
    name: id.slice(id.lastIndexOf('/') + 1),
    body: { location: 'eastus', properties: { n: 1 } },
    systemData: {
      createdBy: 'a',
      createdByType: 'User',
      createdAt: now,
      lastModifiedBy: 'a',
      lastModifiedByType: 'User',
      lastModifiedAt: now,
    },
    internal: {},
    etag: randomUUID(),
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}

/** A resource group and its key, in a subscription of its own. */
function group(name = 'rg') {
  const sub = randomUUID();
  return resource(`/subscriptions/${sub}/resourceGroups/${name}`, TYPE_RG, { parentKey: `/subscriptions/${sub}` });
}

function child(
  parent: StoredResource,
  segment: string,
  name: string,
  type: string,
  extra: Partial<StoredResource> = {},
): StoredResource {
  const id = `${parent.id}/${segment}/${name}`;
  return resource(id, type, { parentKey: parent.key, ...extra });
}

function operation(extra: Partial<OperationRecord> = {}): OperationRecord {
  const start = Date.parse('2030-01-01T00:00:00Z');
  return {
    id: randomUUID(),
    kind: 'create',
    resourceKey: '/subscriptions/s/resourcegroups/rg',
    resourceId: '/subscriptions/s/resourceGroups/rg',
    resourceType: TYPE_RG,
    subscriptionId: 's',
    location: 'eastus',
    apiVersion: '2025-09-01',
    status: 'InProgress',
    startTime: new Date(start).toISOString(),
    dueAt: start + 1000,
    ...extra,
  };
}

const put = (operation: OperationRecord): Write => ({ op: 'putOperation', operation });
const T0 = Date.parse('2030-01-01T00:00:00Z');

// ---------- the subjects ----------

const sqliteMemory: Subject = {
  name: 'SQLite in memory',
  separateConnections: false,
  async fresh() {
    const store = new SqliteStore(':memory:');
    return {
      store,
      peer: async () => store,
      reopen: async () => store,
      versions: async () => [],
      addVersion: async () => {},
      dispose: () => store.close(),
    };
  },
};

const sqliteFile: Subject = {
  name: 'SQLite file',
  separateConnections: true,
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'amlite-contract-'));
    const file = join(dir, 'amlite.db');
    const opened: Store[] = [];
    const open = async () => {
      const s = new SqliteStore(file);
      opened.push(s);
      return s;
    };
    const store = await open();
    const raw = <T>(fn: (db: Database.Database) => T): T => {
      const db = new Database(file);
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    return {
      store,
      peer: open,
      reopen: open,
      versions: async () =>
        raw((db) =>
          db
            .prepare<[], { version: number }>('SELECT version FROM schema_migrations ORDER BY version')
            .all()
            .map((r) => r.version),
        ),
      addVersion: async (v) =>
        raw((db) => {
          db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
            v,
            'from the future',
            new Date().toISOString(),
          );
        }),
      dispose: async () => {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

let server: RunningPostgres | undefined;
/** The suite's database, emptied for each test: CREATE DATABASE costs a few hundred ms on a busy disk. */
let suiteDatabase: string | undefined;
const postgres: Subject = {
  name: 'PostgreSQL',
  separateConnections: true,
  async fresh(isolated) {
    let url: string;
    if (isolated || !suiteDatabase) {
      url = await server!.freshDatabase('amlite_contract');
      if (!isolated) suiteDatabase = url;
    } else {
      url = suiteDatabase;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('TRUNCATE resources, operations');
      await c.end();
    }
    const opened: Store[] = [];
    const open = async () => {
      const s = await PostgresStore.open(url);
      opened.push(s);
      return s;
    };
    const store = await open();
    const raw = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return await fn(c);
      } finally {
        await c.end();
      }
    };
    return {
      store,
      peer: open,
      reopen: open,
      versions: () =>
        raw(async (c) =>
          (await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map(
            (r) => r.version,
          ),
        ),
      addVersion: (v) =>
        raw(async (c) => {
          await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            v,
            'from the future',
            new Date().toISOString(),
          ]);
        }),
      dispose: async () => {
        for (const s of opened) await s.close();
      },
    };
  },
};

// ---------- the contract ----------

function contract(subject: Subject): void {
  let db: Database_;
  let store: Store;
  const use = async (isolated = false) => {
    db = await subject.fresh(isolated);
    store = db.store;
  };
  const done = () => db?.dispose();

  describe('schema', () => {
    test('every migration is recorded once, and opening again applies none', async (t) => {
      await use(true);
      t.after(done);
      if (subject === sqliteMemory) return t.skip('an in-memory database cannot be opened again');
      assert.deepEqual(
        await db.versions(),
        MIGRATIONS.map((m) => m.version),
      );
      await db.reopen();
      assert.deepEqual(
        await db.versions(),
        MIGRATIONS.map((m) => m.version),
      );
    });

    test('a database migrated by a newer amlite is refused with a clear message', async (t) => {
      await use(true);
      t.after(done);
      if (subject === sqliteMemory) return t.skip('an in-memory database cannot be opened again');
      await db.addVersion(LATEST_VERSION + 1);
      await assert.rejects(db.reopen(), /schema is at version \d+, newer than this amlite knows/);
    });
  });

  describe('resources', () => {
    test('insert only when absent; get returns the document as written', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      assert.equal(await store.get(rg.key), undefined);
      assert.equal(await store.commit([{ op: 'insert', resource: rg }]), true);
      assert.deepEqual(await store.get(rg.key), rg);
      assert.equal(await store.commit([{ op: 'insert', resource: { ...rg, etag: 'other' } }]), false);
      assert.equal((await store.get(rg.key))!.etag, rg.etag);
    });

    test('update only when the ETag matches', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      await store.commit([{ op: 'insert', resource: rg }]);
      const next = { ...rg, id: rg.id.toUpperCase(), etag: 'e2', body: { location: 'eastus', tags: { a: 'b' } } };
      assert.equal(await store.commit([{ op: 'update', resource: next, ifEtag: 'wrong' }]), false);
      assert.equal((await store.get(rg.key))!.etag, rg.etag);
      assert.equal(await store.commit([{ op: 'update', resource: next, ifEtag: rg.etag }]), true);
      assert.deepEqual(await store.get(rg.key), next);
      const absent = group();
      assert.equal(await store.commit([{ op: 'update', resource: absent, ifEtag: absent.etag }]), false);
      assert.equal(await store.get(absent.key), undefined);
    });

    test('a batch is all or nothing', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      await store.commit([{ op: 'insert', resource: rg }]);
      const ws = child(rg, 'providers/Microsoft.MachineLearningServices/workspaces', 'ws', TYPE_WS);
      const op = operation();
      assert.equal(
        await store.commit([
          { op: 'insert', resource: ws },
          put(op),
          { op: 'update', resource: { ...rg, etag: 'x' }, ifEtag: 'stale' },
        ]),
        false,
      );
      assert.equal(await store.get(ws.key), undefined);
      assert.equal(await store.getOperation(op.id), undefined);
      assert.equal(
        await store.commit([
          { op: 'insert', resource: ws },
          put(op),
          { op: 'update', resource: { ...rg, etag: 'x' }, ifEtag: rg.etag },
        ]),
        true,
      );
      assert.ok(await store.get(ws.key));
      assert.ok(await store.getOperation(op.id));
      assert.equal(await store.commit([]), true);
    });

    test('deleteTree removes the resource and everything below it, not its siblings', async (t) => {
      await use();
      t.after(done);
      const rg = group('rg');
      const sub = rg.parentKey;
      const siblings = ['rg-2', 'rg0', 'rg.x', 'rga'].map((n) =>
        resource(`${sub}/resourceGroups/${n}`, TYPE_RG, { parentKey: sub }),
      );
      const ws = child(rg, 'providers/Microsoft.MachineLearningServices/workspaces', 'ws', TYPE_WS);
      const ep = child(ws, 'serverlessEndpoints', 'ep', TYPE_EP);
      await store.commit([rg, ...siblings, ws, ep].map((r) => ({ op: 'insert', resource: r })));
      assert.equal(await store.commit([{ op: 'deleteTree', key: rg.key }]), true);
      for (const gone of [rg, ws, ep]) assert.equal(await store.get(gone.key), undefined, gone.key);
      for (const kept of siblings) assert.ok(await store.get(kept.key), kept.key);
      assert.equal(await store.commit([{ op: 'deleteTree', key: rg.key }]), true, 'deleting what is gone is fine');
    });

    test('documents round-trip exactly, including NUL, unpaired surrogates and non-ASCII text', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      rg.body = {
        location: 'eastus',
        tags: { nul: 'a\u0000b', lone: 'x\ud800y', pair: '😀', accents: 'Zürich – 東京', quote: '"\\u0000"' },
        properties: { n: 0.1, big: 1e21, neg: -5, deep: { list: [1, 'two', null, true, { x: [] }] }, empty: {} },
      };
      await store.commit([{ op: 'insert', resource: rg }]);
      assert.deepEqual(await store.get(rg.key), rg);
      const plain = group();
      plain.body = { location: 'eastus', tags: { quote: 'a "\\u0000" b' } };
      await store.commit([{ op: 'insert', resource: plain }]);
      assert.deepEqual(await store.get(plain.key), plain);
    });

    test('getByRoute finds an endpoint by its data-plane route; routes are unique', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      const route = `ep-${randomUUID()}`;
      const a = child(rg, 'providers/x/things', 'a', TYPE_EP, { internal: { route } });
      await store.commit([
        { op: 'insert', resource: rg },
        { op: 'insert', resource: a },
      ]);
      assert.equal((await store.getByRoute(route))?.key, a.key);
      assert.equal(await store.getByRoute('nope'), undefined);
      const b = child(rg, 'providers/x/things', 'b', TYPE_EP, { internal: { route } });
      await assert.rejects(store.commit([{ op: 'insert', resource: b }]));
      assert.equal(await store.get(b.key), undefined);
    });

    test('listChildren: one type under one parent, in byte order of the key, paged by key', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      const ws = child(rg, 'providers/Microsoft.MachineLearningServices/workspaces', 'ws', TYPE_WS);
      const names = ['b', 'a-b', 'a.b', 'a_b', 'ab', 'a0', 'A1', 'z', 'é', 'a'];
      const eps = names.map((n) => child(ws, 'serverlessEndpoints', n, TYPE_EP));
      const other = child(ws, 'inferencePools', 'p', 'Microsoft.MachineLearningServices/workspaces/inferencePools');
      await store.commit([rg, ws, ...eps, other].map((r) => ({ op: 'insert', resource: r })));
      const expected = eps.map((e) => e.key).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const all = await store.listChildren(ws.key, TYPE_EP.toUpperCase(), { limit: 100 });
      assert.deepEqual(
        all.map((r) => r.key),
        expected,
      );
      const paged: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listChildren(ws.key, TYPE_EP, { after, limit: 3 });
        paged.push(...page.map((r) => r.key));
        if (page.length < 3) break;
        after = page.at(-1)!.key;
      }
      assert.deepEqual(paged, expected);
      assert.deepEqual(await store.listChildren(rg.key, TYPE_EP, { limit: 100 }), [], 'not grandchildren');
    });

    test('listBelow: one type anywhere below a scope, in key order, paged, not leaking out of the scope', async (t) => {
      await use();
      t.after(done);
      const rg = group('rg');
      const rg2 = resource(`${rg.id}-2`, TYPE_RG, { parentKey: rg.parentKey });
      const wss = ['w2', 'w1', 'w-1', 'w.1'].map((n) =>
        child(rg, 'providers/Microsoft.MachineLearningServices/workspaces', n, TYPE_WS),
      );
      const outside = child(rg2, 'providers/Microsoft.MachineLearningServices/workspaces', 'w0', TYPE_WS);
      await store.commit([rg, rg2, ...wss, outside].map((r) => ({ op: 'insert', resource: r })));
      const expected = wss.map((w) => w.key).sort();
      assert.deepEqual(
        (await store.listBelow(rg.key, TYPE_WS, { limit: 100 })).map((r) => r.key),
        expected,
      );
      assert.deepEqual(
        (await store.listBelow(rg.key, TYPE_WS, { after: expected[1], limit: 100 })).map((r) => r.key),
        expected.slice(2),
      );
      assert.deepEqual(
        (await store.listBelow(rg.parentKey, TYPE_WS, { limit: 100 })).map((r) => r.key),
        [...expected, outside.key].sort(),
      );
      assert.deepEqual((await store.listBelow(rg.parentKey, TYPE_WS, { limit: 2 })).length, 2);
    });
  });

  describe('operations', () => {
    test('putOperation inserts or replaces; openOperations by due time; recentOperations newest first', async (t) => {
      await use();
      t.after(done);
      const a = operation({ startTime: new Date(T0).toISOString(), dueAt: T0 + 3000 });
      const b = operation({ startTime: new Date(T0 + 1000).toISOString(), dueAt: T0 + 2000 });
      const c = operation({
        startTime: new Date(T0 + 2000).toISOString(),
        dueAt: T0 + 2500,
        status: 'Succeeded',
        endTime: new Date(T0 + 2500).toISOString(),
      });
      await store.commit([put(a), put(b), put(c)]);
      assert.deepEqual(await store.getOperation(a.id), a);
      assert.equal(await store.getOperation(randomUUID()), undefined);
      assert.deepEqual(
        (await store.openOperations()).map((o) => o.id),
        [b.id, a.id],
      );
      assert.deepEqual(
        (await store.recentOperations(10)).map((o) => o.id),
        [c.id, b.id, a.id],
      );
      assert.deepEqual(
        (await store.recentOperations(2)).map((o) => o.id),
        [c.id, b.id],
      );
      const failed = { ...a, status: 'Failed' as const, error: { code: 'X', message: 'y' } };
      await store.commit([put(failed)]);
      assert.deepEqual(await store.getOperation(a.id), failed);
      assert.deepEqual(
        (await store.openOperations()).map((o) => o.id),
        [b.id],
      );
    });

    test('pruneOperations deletes finished operations that ended before the cut-off, never running ones', async (t) => {
      await use();
      t.after(done);
      const iso = (ms: number) => new Date(ms).toISOString();
      const old = operation({ startTime: iso(T0), status: 'Succeeded', endTime: iso(T0 + 10) });
      const oldFailed = operation({
        startTime: iso(T0),
        status: 'Failed',
        endTime: iso(T0 + 20),
        error: { code: 'X', message: 'y' },
      });
      const fresh = operation({ startTime: iso(T0 + 5000), status: 'Succeeded', endTime: iso(T0 + 6000) });
      const running = operation({ startTime: iso(T0), dueAt: T0 + 100 });
      await store.commit([put(old), put(oldFailed), put(fresh), put(running)]);
      assert.equal(await store.pruneOperations(iso(T0 + 1000)), 2);
      assert.equal(await store.getOperation(old.id), undefined);
      assert.equal(await store.getOperation(oldFailed.id), undefined);
      assert.deepEqual(await store.getOperation(fresh.id), fresh);
      assert.deepEqual(await store.getOperation(running.id), running);
      assert.equal(await store.pruneOperations(iso(T0 + 1000)), 0);
    });

    test('a conditional putOperation moves an operation out of InProgress once', async (t) => {
      await use();
      t.after(done);
      const op = operation();
      await store.commit([put(op)]);
      const done1 = { ...op, status: 'Succeeded' as const, endTime: new Date().toISOString() };
      assert.equal(await store.commit([{ op: 'putOperation', operation: done1, ifInProgress: true }]), true);
      const done2 = { ...op, status: 'Failed' as const, endTime: new Date().toISOString() };
      assert.equal(await store.commit([{ op: 'putOperation', operation: done2, ifInProgress: true }]), false);
      assert.deepEqual(await store.getOperation(op.id), done1);
      const absent = operation();
      assert.equal(await store.commit([{ op: 'putOperation', operation: absent, ifInProgress: true }]), false);
      assert.equal(await store.getOperation(absent.id), undefined);
      // With the resource write of the same batch: both or neither.
      const rg = group();
      await store.commit([{ op: 'insert', resource: rg }]);
      assert.equal(
        await store.commit([
          { op: 'update', resource: { ...rg, etag: 'e2' }, ifEtag: rg.etag },
          { op: 'putOperation', operation: done2, ifInProgress: true },
        ]),
        false,
      );
      assert.equal((await store.get(rg.key))!.etag, rg.etag);
    });

    test('a conditional putOperation may change an open operation (its due time) and keeps it open', async (t) => {
      await use();
      t.after(done);
      const op = operation({ dueAt: T0 + 20_000 });
      await store.commit([put(op)]);
      assert.equal(
        await store.commit([{ op: 'putOperation', operation: { ...op, dueAt: T0 }, ifInProgress: true }]),
        true,
      );
      assert.equal((await store.getOperation(op.id))!.dueAt, T0);
      assert.deepEqual(
        (await store.claimOperations('w', T0, 1000, 10)).map((o) => o.dueAt),
        [T0],
      );
    });
  });

  describe('leases', () => {
    test('claimOperations takes free open operations, earliest due first, up to the limit', async (t) => {
      await use();
      t.after(done);
      const ops = [3, 1, 2].map((s) => operation({ dueAt: T0 + s * 1000 }));
      const finished = operation({ status: 'Succeeded', dueAt: T0 });
      await store.commit([...ops, finished].map(put));
      const now = T0 + 3000;
      const first = await store.claimOperations('a', now, 5000, 2);
      assert.deepEqual(
        first.map((o) => o.dueAt),
        [T0 + 1000, T0 + 2000],
      );
      const rest = await store.claimOperations('b', now, 5000, 10);
      assert.deepEqual(
        rest.map((o) => o.id),
        [ops[0].id],
        'only what a was not given, and never a finished one',
      );
      assert.deepEqual(await store.claimOperations('c', now, 5000, 10), []);
    });

    test('one nobody has claimed is left to the process that accepted it until it is due', async (t) => {
      await use();
      t.after(done);
      const op = operation({ dueAt: T0 + 20_000 });
      await store.commit([put(op)]);
      assert.deepEqual(await store.claimOperations('other', T0, 5000, 10), [], 'not due: not for the taking');
      assert.deepEqual(
        (await store.claimOperations('other', T0 + 20_000, 5000, 10)).map((o) => o.id),
        [op.id],
        'due: anyone takes it',
      );
      const accepted = operation({ dueAt: T0 + 20_000 });
      await store.commit([put(accepted)]);
      assert.equal(
        (await store.claimOperation(accepted.id, 'accepter', T0, 5000))?.id,
        accepted.id,
        'its accepter claims it by id at once',
      );
    });

    test('a lease keeps other owners out until it ends; then anyone may take it over', async (t) => {
      await use();
      t.after(done);
      const op = operation();
      await store.commit([put(op)]);
      assert.equal((await store.claimOperation(op.id, 'a', T0, 1000))?.id, op.id);
      assert.equal(await store.claimOperation(op.id, 'b', T0 + 999, 1000), undefined);
      assert.deepEqual(await store.claimOperations('b', T0 + 999, 1000, 10), []);
      assert.equal(
        await store.claimOperation(op.id, 'a', T0 + 500, 1000),
        undefined,
        'not even its owner claims a held operation',
      );
      assert.deepEqual(await store.renewLeases('a', [op.id], T0 + 500, 1000), [op.id], 'it renews it (to T0+1500)');
      assert.deepEqual(await store.claimOperations('b', T0 + 1499, 1000, 10), []);
      assert.deepEqual(
        (await store.claimOperations('b', T0 + 1500, 1000, 10)).map((o) => o.id),
        [op.id],
        'taken over when the lease ends',
      );
      assert.equal(await store.claimOperation(op.id, 'a', T0 + 1600, 1000), undefined, 'the former owner is out');
    });

    test('held operations are skipped: a claim takes the free ones', async (t) => {
      await use();
      t.after(done);
      const held = operation({ dueAt: T0 });
      const free = operation({ dueAt: T0 + 5 });
      await store.commit([put(held)]);
      await store.claimOperations('a', T0, 60_000, 10);
      await store.commit([put(free)]);
      assert.deepEqual(
        (await store.claimOperations('a', T0 + 10, 60_000, 10)).map((o) => o.id),
        [free.id],
      );
      assert.deepEqual(await store.claimOperations('a', T0 + 10, 60_000, 10), []);
      assert.deepEqual(await store.claimOperations('b', T0 + 59_999, 60_000, 10), []);
      assert.deepEqual(
        (await store.claimOperations('b', T0 + 60_010, 60_000, 10)).map((o) => o.id),
        [held.id, free.id],
      );
    });

    test('renewLeases extends what the owner still holds and reports what it lost', async (t) => {
      await use();
      t.after(done);
      const [kept, finished, stolen, foreign] = [0, 1, 2, 3].map(() => operation({ dueAt: T0 }));
      await store.commit([kept, finished, stolen, foreign].map(put));
      for (const op of [kept, finished, stolen]) assert.ok(await store.claimOperation(op.id, 'a', T0, 1000));
      assert.ok(await store.claimOperation(foreign.id, 'c', T0, 1000));
      await store.commit([{ op: 'putOperation', operation: { ...finished, status: 'Succeeded' }, ifInProgress: true }]);
      assert.ok(await store.claimOperation(stolen.id, 'b', T0 + 1000, 1000));
      const held = await store.renewLeases(
        'a',
        [kept.id, finished.id, stolen.id, foreign.id, randomUUID()],
        T0 + 900,
        1000,
      );
      assert.deepEqual(held, [kept.id]);
      assert.equal(await store.claimOperation(kept.id, 'b', T0 + 1500, 1000), undefined, 'renewed to T0+1900');
      assert.ok(await store.claimOperation(kept.id, 'b', T0 + 1900, 1000));
      assert.deepEqual(await store.renewLeases('a', [], T0, 1000), []);
    });

    test('releaseLeases ends the lease: another owner takes over at once', async (t) => {
      await use();
      t.after(done);
      const op = operation({ dueAt: T0 + 20_000 });
      await store.commit([put(op)]);
      await store.claimOperation(op.id, 'a', T0, 60_000);
      await store.releaseLeases('b', [op.id]);
      assert.deepEqual(await store.claimOperations('b', T0, 1000, 10), [], 'only the owner releases');
      await store.releaseLeases('a', [op.id]);
      assert.deepEqual(
        (await store.claimOperations('b', T0, 1000, 10)).map((o) => o.id),
        [op.id],
        'not due, but released: free',
      );
      await store.releaseLeases('a', []);
    });

    test('putOperation leaves the lease alone', async (t) => {
      await use();
      t.after(done);
      const op = operation();
      await store.commit([put(op)]);
      await store.claimOperation(op.id, 'a', T0, 10_000);
      await store.commit([put({ ...op, dueAt: T0 + 5 })]);
      await store.commit([{ op: 'putOperation', operation: { ...op, dueAt: T0 + 6 }, ifInProgress: true }]);
      assert.equal(await store.claimOperation(op.id, 'b', T0 + 5000, 1000), undefined);
    });
  });

  describe('group commit and the change counter (migration 5)', () => {
    test('concurrent commits each hold or fail on their own conditions', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      const ws = child(rg, 'providers/Microsoft.MachineLearningServices/workspaces', 'ws', TYPE_WS);
      await store.commit([
        { op: 'insert', resource: rg },
        { op: 'insert', resource: ws },
      ]);
      const eps = Array.from({ length: 8 }, (_, i) => child(ws, 'serverlessEndpoints', `ep${i}`, TYPE_EP));
      await store.commit(eps.map((resource) => ({ op: 'insert', resource }) as Write));
      const orphan = child(group(), 'providers/Microsoft.MachineLearningServices/workspaces', 'gone', TYPE_WS);
      // Started together, so they share fsyncs; two of them must fail alone: a stale ETag, a missing parent.
      const results = await Promise.all([
        ...eps.map((ep, i) =>
          store.commit([
            { op: 'requireParent', key: ws.key, notDeleting: true },
            { op: 'update', resource: { ...ep, etag: `e${i}`, body: { n: i } }, ifEtag: i === 3 ? 'stale' : ep.etag },
          ]),
        ),
        store.commit([
          { op: 'requireParent', key: orphan.parentKey, notDeleting: true },
          { op: 'insert', resource: orphan },
        ]),
      ]);
      assert.deepEqual(results, [true, true, true, false, true, true, true, true, false]);
      for (const [i, ep] of eps.entries()) {
        const stored = (await store.get(ep.key))!;
        assert.equal(stored.etag, i === 3 ? ep.etag : `e${i}`);
      }
      assert.equal(await store.get(orphan.key), undefined);
    });

    test('a commit that throws fails alone; the commits started with it are written', async (t) => {
      await use();
      t.after(done);
      const rg = group();
      await store.commit([{ op: 'insert', resource: rg }]);
      const ws = (name: string) => child(rg, 'providers/Microsoft.MachineLearningServices/workspaces', name, TYPE_WS);
      const [a, bad, b] = [ws('a'), ws('bad'), ws('b')];
      // A BigInt cannot be serialised: the store's write throws a TypeError mid-transaction.
      const results = await Promise.allSettled([
        store.commit([{ op: 'insert', resource: a }]),
        store.commit([{ op: 'insert', resource: { ...bad, body: { n: 1n } as never } }]),
        store.commit([{ op: 'insert', resource: b }]),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal((await store.get(a.key))?.key, a.key);
      assert.equal((await store.get(b.key))?.key, b.key);
      assert.equal(await store.get(bad.key), undefined);
    });

    test('changeSeq moves on every change, seen from another connection, and not on failures', async (t) => {
      await use();
      t.after(done);
      const peer = await db.peer();
      let last = await peer.changeSeq();
      const moves = async (what: string, expected: boolean, fn: () => Promise<unknown>) => {
        await fn();
        const now = await peer.changeSeq();
        assert.equal(now !== last, expected, `${what}: ${last} -> ${now}`);
        last = now;
      };
      const rg = group();
      const op = operation();
      await moves('insert', true, () => store.commit([{ op: 'insert', resource: rg }]));
      await moves('update', true, () =>
        store.commit([{ op: 'update', resource: { ...rg, etag: 'e2' }, ifEtag: rg.etag }]),
      );
      await moves('a failed condition', false, () =>
        store.commit([{ op: 'update', resource: { ...rg, etag: 'e3' }, ifEtag: rg.etag }]),
      );
      await moves('conditions only', false, () =>
        store.commit([{ op: 'requireParent', key: rg.key, notDeleting: false }]),
      );
      await moves('putOperation', true, () => store.commit([put(op)]));
      await moves('an operation leaving InProgress', true, () =>
        store.commit([
          {
            op: 'putOperation',
            operation: { ...op, status: 'Succeeded', endTime: new Date(T0).toISOString() },
            ifInProgress: true,
          },
        ]),
      );
      await moves('pruneOperations', true, () => store.pruneOperations(new Date(T0 + 1).toISOString()));
      await moves('pruning nothing', false, () => store.pruneOperations(new Date(T0 + 1).toISOString()));
      await moves('a claim (lease only)', false, () => store.claimOperations('a', T0, 1000, 10));
      await moves('deleteTree', true, () => store.commit([{ op: 'deleteTree', key: rg.key }]));
    });

    test('subscriptionsOf lists the subscriptions bound to a tenant, in order, paged', async (t) => {
      await use();
      t.after(done);
      const tenant = randomUUID();
      const other = randomUUID();
      const subs = Array.from({ length: 5 }, () => randomUUID()).sort();
      for (const sub of subs) await store.bindTenant(sub.toUpperCase(), tenant.toUpperCase());
      await store.bindTenant(randomUUID(), other);
      await store.bindTenant(subs[0], other); // already bound: stays with `tenant`
      assert.deepEqual(await store.subscriptionsOf(tenant, { limit: 10 }), subs);
      assert.deepEqual(await store.subscriptionsOf(tenant.toUpperCase(), { limit: 2 }), subs.slice(0, 2));
      assert.deepEqual(await store.subscriptionsOf(tenant, { after: subs[1], limit: 10 }), subs.slice(2));
      assert.deepEqual(await store.subscriptionsOf(randomUUID(), { limit: 10 }), []);
    });
  });

  describe('concurrency between connections (processes)', () => {
    const PEERS = 4;
    const ROUNDS = 10;

    test('If-Match: of writers racing with the same ETag, exactly one wins', async (t) => {
      await use();
      t.after(done);
      const peers = await Promise.all(Array.from({ length: PEERS }, () => db.peer()));
      const rg = group();
      await store.commit([{ op: 'insert', resource: rg }]);
      let etag = rg.etag;
      for (let round = 0; round < ROUNDS; round++) {
        const results = await Promise.all(
          peers.map((p, i) =>
            p.commit([{ op: 'update', resource: { ...rg, etag: `r${round}-p${i}`, body: { by: i } }, ifEtag: etag }]),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
        const winner = results.indexOf(true);
        const stored = (await store.get(rg.key))!;
        assert.equal(stored.etag, `r${round}-p${winner}`);
        assert.deepEqual(stored.body, { by: winner });
        etag = stored.etag;
      }
    });

    test('create: of writers inserting one name at once, exactly one creates it', async (t) => {
      await use();
      t.after(done);
      const peers = await Promise.all(Array.from({ length: PEERS }, () => db.peer()));
      for (let round = 0; round < ROUNDS; round++) {
        const rg = group();
        const results = await Promise.all(
          peers.map((p, i) =>
            p.commit([{ op: 'insert', resource: { ...rg, etag: `p${i}` } }, put(operation({ id: `${rg.etag}-${i}` }))]),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
        const winner = results.indexOf(true);
        assert.equal((await store.get(rg.key))!.etag, `p${winner}`);
        for (let i = 0; i < PEERS; i++)
          assert.equal(!!(await store.getOperation(`${rg.etag}-${i}`)), i === winner, 'the losers wrote nothing');
      }
    });

    test('completion: of workers completing one operation at once, exactly one does', async (t) => {
      await use();
      t.after(done);
      const peers = await Promise.all(Array.from({ length: PEERS }, () => db.peer()));
      for (let round = 0; round < ROUNDS; round++) {
        const rg = group();
        const op = operation({ resourceKey: rg.key });
        await store.commit([{ op: 'insert', resource: rg }, put(op)]);
        // Even without the resource's ETag in the batch (the resource is gone), the operation ends once.
        const results = await Promise.all(
          peers.map((p, i) =>
            p.commit(
              i % 2
                ? [
                    { op: 'update', resource: { ...rg, etag: `p${i}` }, ifEtag: rg.etag },
                    {
                      op: 'putOperation',
                      operation: { ...op, status: 'Succeeded', endTime: `p${i}` },
                      ifInProgress: true,
                    },
                  ]
                : [
                    {
                      op: 'putOperation',
                      operation: { ...op, status: 'Succeeded', endTime: `p${i}` },
                      ifInProgress: true,
                    },
                  ],
            ),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
        assert.equal((await store.getOperation(op.id))!.endTime, `p${results.indexOf(true)}`);
      }
    });

    test('claims: workers claiming at once never share an operation', async (t) => {
      await use();
      t.after(done);
      const peers = await Promise.all(Array.from({ length: PEERS }, () => db.peer()));
      const ops = Array.from({ length: 40 }, (_, i) => operation({ dueAt: T0 + i }));
      await store.commit(ops.map(put));
      const ownerOf = new Map<string, string>();
      for (let round = 0; round < 6; round++) {
        const got = await Promise.all(peers.map((p, i) => p.claimOperations(`w${i}`, T0 + 100, 60_000, 3)));
        got.forEach((list, i) => {
          for (const o of list) {
            // An owner may get its own operations again (once the free ones run out); never another's.
            assert.equal(
              ownerOf.get(o.id) ?? `w${i}`,
              `w${i}`,
              `operation ${o.id} claimed by ${ownerOf.get(o.id)} and w${i}`,
            );
            ownerOf.set(o.id, `w${i}`);
          }
        });
      }
      assert.equal(ownerOf.size, 40, 'every operation claimed');
      assert.deepEqual(await store.claimOperations('late', T0 + 100, 60_000, 100), [], 'and every one held');
      // Each winner really holds its operations: nobody else can claim them before the lease ends.
      assert.deepEqual(await peers[0].claimOperations('other', T0 + 59_999, 1000, 100), []);
    });
  });
}

// ---------- running it ----------

describe('store contract: SQLite in memory', () => contract(sqliteMemory));
describe('store contract: SQLite file', () => {
  contract(sqliteFile);

  test('commits still queued for their batch when the store closes are made, and found after reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amlite-close-'));
    try {
      const file = join(dir, 'amlite.db');
      const first = new SqliteStore(file);
      const rgs = Array.from({ length: 5 }, (_, i) => group(`closing-${i}`));
      // commit() queues at once; close() comes before the batch's turn of the event loop.
      const commits = rgs.map((rg) => first.commit([{ op: 'insert', resource: rg }]));
      await first.close();
      assert.deepEqual(await Promise.all(commits), [true, true, true, true, true]);
      const again = new SqliteStore(file);
      for (const rg of rgs) assert.equal((await again.get(rg.key))?.key, rg.key);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file made before migrations were recorded is upgraded in place, operations and all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amlite-legacy-'));
    try {
      const file = join(dir, 'amlite.db');
      const legacy = new Database(file);
      legacy.exec(MIGRATIONS[0].sqlite);
      const op = operation({ dueAt: T0 + 42 });
      legacy
        .prepare('INSERT INTO operations (id, status, doc) VALUES (?, ?, ?)')
        .run(op.id, op.status, JSON.stringify(op));
      legacy.close();
      const store = new SqliteStore(file);
      try {
        assert.deepEqual(await store.getOperation(op.id), op);
        assert.deepEqual(
          (await store.claimOperations('a', T0 + 42, 1000, 10)).map((o) => o.id),
          [op.id],
        );
        const versions = new Database(file)
          .prepare<[], { version: number }>('SELECT version FROM schema_migrations ORDER BY version')
          .all();
        assert.deepEqual(
          versions.map((v) => v.version),
          MIGRATIONS.map((m) => m.version),
        );
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithPostgres('store contract: PostgreSQL', () => {
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  contract(postgres);

  test('lists and lookups are served by the indexes (keyset paging stays flat)', async () => {
    const url = await server!.freshDatabase('amlite_plans');
    const store = await PostgresStore.open(url);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      // A realistic shape: 20 workspaces of 100 endpoints each, and statistics about them.
      const rg = group();
      const wss = Array.from({ length: 20 }, (_, i) =>
        child(rg, 'providers/Microsoft.MachineLearningServices/workspaces', `ws${i}`, TYPE_WS),
      );
      await store.commit([rg, ...wss].map((r) => ({ op: 'insert', resource: r })));
      for (const ws of wss) {
        await store.commit(
          Array.from({ length: 100 }, (_, i) => ({
            op: 'insert',
            resource: child(ws, 'serverlessEndpoints', `ep${i}`, TYPE_EP, {
              internal: { route: `${ws.name}-ep${i}` },
            }),
          })),
        );
      }
      await c.query('ANALYZE');
      // Whatever the planner prefers on a table this small, an ordered index path must exist: with scans of the
      // whole table, bitmaps and sorts priced out, each query is still an index scan and needs no sort.
      await c.query('SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off');
      const plan = async (sql: string, values: unknown[]) => {
        const text = (await c.query(`EXPLAIN ${sql}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
        assert.doesNotMatch(text, /Sort|Seq Scan/, text);
        return text;
      };
      const type = TYPE_EP.toLowerCase();
      assert.match(
        await plan('SELECT doc FROM resources WHERE parent_key = $1 AND type = $2 AND key > $3 ORDER BY key LIMIT $4', [
          wss[3].key,
          type,
          `${wss[3].key}/serverlessendpoints/ep50`,
          101,
        ]),
        /Index Scan using resources_by_parent/,
      );
      assert.match(
        await plan(
          'SELECT doc FROM resources WHERE type = $1 AND key >= $2 AND key < $3 AND key > $4 ORDER BY key LIMIT $5',
          [type, `${rg.key}/`, `${rg.key}0`, `${wss[5].key}/serverlessendpoints/ep7`, 101],
        ),
        /Index Scan using resources_by_type/,
      );
      assert.match(await plan('SELECT doc FROM resources WHERE route = $1', ['r']), /resources_by_route/);
      assert.match(await plan('SELECT doc FROM resources WHERE key = $1', ['k']), /resources_pkey/);
      assert.match(
        await plan(`SELECT doc FROM operations ORDER BY ((doc->>'startTime') COLLATE "C") DESC LIMIT $1`, [10]),
        /operations_recent/,
      );
      assert.match(
        await plan("SELECT id FROM operations WHERE status = 'InProgress' ORDER BY due_at", []),
        /operations_open/,
      );
      const collations = await c.query(
        "SELECT column_name, collation_name FROM information_schema.columns WHERE table_name = 'resources' AND column_name IN ('key', 'parent_key', 'type', 'route') ORDER BY column_name",
      );
      assert.deepEqual(
        collations.rows.map((r) => r.collation_name),
        ['C', 'C', 'C', 'C'],
        'keys compare byte by byte',
      );
    } finally {
      await c.end();
      await store.close();
    }
  });

  test('two processes starting at once on an empty database migrate it once', async () => {
    const url = await server!.freshDatabase('amlite_race');
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(url)));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const versions = (await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map(
        (r) => r.version,
      );
      assert.deepEqual(
        versions,
        MIGRATIONS.map((m) => m.version),
      );
    } finally {
      await c.end();
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('an unreachable database fails to open with the reason', async () => {
    await assert.rejects(
      PostgresStore.open(`postgres://postgres@127.0.0.1:${server!.port}/no_such_database`),
      /no_such_database/,
    );
  });

  test('the URL shown never carries the password', async () => {
    const { redactUrl } = await import('../src/store/postgres.js');
    assert.equal(
      redactUrl('postgres://amlite:s3cret@db.local:5432/amlite?sslmode=require'),
      'postgres://amlite@db.local:5432/amlite?sslmode=require',
    );
  });
});
