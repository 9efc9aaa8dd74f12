import Database from 'better-sqlite3';
import type { OperationRecord, Page, Store, StoredResource, Write } from './types.js';
import { descendantRange } from '../arm/ids.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  key TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  parent_key TEXT NOT NULL,
  type TEXT NOT NULL,
  etag TEXT NOT NULL,
  route TEXT,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS resources_by_route ON resources (route) WHERE route IS NOT NULL;
CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (parent_key, type, key);
CREATE INDEX IF NOT EXISTS resources_by_type ON resources (type, key);
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS operations_open ON operations (status) WHERE status = 'InProgress';
CREATE INDEX IF NOT EXISTS operations_recent ON operations (json_extract(doc, '$.startTime') DESC);
`;

interface Row { doc: string }

/** The embedded default store: one SQLite file in WAL mode (or memory), every commit one transaction. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly commitTx: (writes: Write[]) => boolean;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: an acknowledged write survives power loss as well as a crash of the process.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      get: db.prepare<[string], Row>('SELECT doc FROM resources WHERE key = ?'),
      children: db.prepare<[string, string, string, number], Row>(
        'SELECT doc FROM resources WHERE parent_key = ? AND type = ? AND key > ? ORDER BY key LIMIT ?'),
      below: db.prepare<[string, string, string, string, number], Row>(
        'SELECT doc FROM resources WHERE type = ? AND key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?'),
      insert: db.prepare('INSERT INTO resources (key, id, parent_key, type, etag, route, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING'),
      update: db.prepare("UPDATE resources SET id = ?, etag = ?, doc = ? WHERE key = ? AND etag = ?"),
      deleteOne: db.prepare('DELETE FROM resources WHERE key = ?'),
      deleteBelow: db.prepare('DELETE FROM resources WHERE key >= ? AND key < ?'),
      putOperation: db.prepare('INSERT INTO operations (id, status, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, doc = excluded.doc'),
      byRoute: db.prepare<[string], Row>('SELECT doc FROM resources WHERE route = ?'),
      getOperation: db.prepare<[string], Row>('SELECT doc FROM operations WHERE id = ?'),
      openOperations: db.prepare<[], Row>("SELECT doc FROM operations WHERE status = 'InProgress'"),
      recentOperations: db.prepare<[number], Row>("SELECT doc FROM operations ORDER BY json_extract(doc, '$.startTime') DESC LIMIT ?"),
    };
    this.commitTx = db.transaction((writes: Write[]) => {
      for (const w of writes) {
        if (!this.apply(w)) throw new ConditionFailed();
      }
      return true;
    });
  }

  private apply(w: Write): boolean {
    switch (w.op) {
      case 'insert': {
        const r = w.resource;
        return this.stmt.insert.run(r.key, r.id, r.parentKey, r.type.toLowerCase(), r.etag, routeOf(r), JSON.stringify(r)).changes === 1;
      }
      case 'update':
        return this.stmt.update.run(w.resource.id, w.resource.etag, JSON.stringify(w.resource), w.resource.key, w.ifEtag).changes === 1;
      case 'deleteTree': {
        this.stmt.deleteOne.run(w.key);
        this.stmt.deleteBelow.run(...descendantRange(w.key));
        return true;
      }
      case 'putOperation':
        this.stmt.putOperation.run(w.operation.id, w.operation.status, JSON.stringify(w.operation));
        return true;
    }
  }

  async get(key: string): Promise<StoredResource | undefined> {
    const row = this.stmt.get.get(key);
    return row && JSON.parse(row.doc);
  }

  async getByRoute(route: string): Promise<StoredResource | undefined> {
    const row = this.stmt.byRoute.get(route);
    return row && JSON.parse(row.doc);
  }

  async listChildren(parentKey: string, type: string, page: Page): Promise<StoredResource[]> {
    return this.stmt.children.all(parentKey, type.toLowerCase(), page.after ?? '', page.limit).map((r) => JSON.parse(r.doc));
  }

  async listBelow(scopeKey: string, type: string, page: Page): Promise<StoredResource[]> {
    const [from, to] = descendantRange(scopeKey);
    return this.stmt.below.all(type.toLowerCase(), from, to, page.after ?? '', page.limit).map((r) => JSON.parse(r.doc));
  }

  async commit(writes: Write[]): Promise<boolean> {
    try {
      return this.commitTx(writes);
    } catch (e) {
      if (e instanceof ConditionFailed) return false;
      throw e;
    }
  }

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    const row = this.stmt.getOperation.get(id);
    return row && JSON.parse(row.doc);
  }

  async openOperations(): Promise<OperationRecord[]> {
    return this.stmt.openOperations.all().map((r) => JSON.parse(r.doc) as OperationRecord).sort((a, b) => a.dueAt - b.dueAt);
  }

  async recentOperations(limit: number): Promise<OperationRecord[]> {
    return this.stmt.recentOperations.all(limit).map((r) => JSON.parse(r.doc));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

class ConditionFailed extends Error {}

const routeOf = (r: StoredResource) => (typeof r.internal.route === 'string' ? r.internal.route : null);
