import Database from 'better-sqlite3';
import type { OperationRecord, Page, Store, StoredResource, Write } from './types.js';
import { descendantRange } from '../arm/ids.js';
import { MIGRATIONS_TABLE, pendingMigrations } from './migrations.js';

interface Row { doc: string }

/**
 * The embedded default store: one SQLite file in WAL mode (or memory), every commit one transaction. It serves one
 * process (`shared` is false), which drives every open operation and takes them all back after a restart.
 */
export class SqliteStore implements Store {
  readonly shared = false;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly commitTx: (writes: Write[]) => boolean;

  constructor(file: string) {
    this.location = file;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: an acknowledged write survives power loss as well as a crash of the process.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // Reads through a memory map instead of a read() per page: a resource's document spills to overflow pages,
    // which SQLite otherwise reads from the file on every lookup (4-5x slower list pages). Same data, same locking.
    this.db.pragma('mmap_size = 268435456');
    migrate(this.db);
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
      putOperation: db.prepare('INSERT INTO operations (id, status, due_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at, doc = excluded.doc'),
      moveOperation: db.prepare("UPDATE operations SET status = ?, due_at = ?, doc = ? WHERE id = ? AND status = 'InProgress'"),
      byRoute: db.prepare<[string], Row>('SELECT doc FROM resources WHERE route = ?'),
      getOperation: db.prepare<[string], Row>('SELECT doc FROM operations WHERE id = ?'),
      openOperations: db.prepare<[], Row>("SELECT doc FROM operations WHERE status = 'InProgress' ORDER BY due_at"),
      recentOperations: db.prepare<[number], Row>("SELECT doc FROM operations ORDER BY json_extract(doc, '$.startTime') DESC LIMIT ?"),
      pruneOperations: db.prepare<[string]>("DELETE FROM operations WHERE status <> 'InProgress' AND json_extract(doc, '$.endTime') < ?"),
      claim: db.prepare<[{ owner: string; until: number; now: number; limit: number }], Row>(`
        UPDATE operations SET owner = @owner, lease_until = @until
        WHERE id IN (SELECT id FROM operations
                     WHERE status = 'InProgress'
                       AND (owner IS NULL AND due_at <= @now OR owner IS NOT NULL AND lease_until <= @now)
                     ORDER BY due_at LIMIT @limit)
        RETURNING doc`),
      claimOne: db.prepare<[string, number, string, number], Row>(`
        UPDATE operations SET owner = ?, lease_until = ?
        WHERE id = ? AND status = 'InProgress' AND (owner IS NULL OR lease_until <= ?)
        RETURNING doc`),
      renew: db.prepare<[number, string, string], { id: string }>(
        "UPDATE operations SET lease_until = ? WHERE id = ? AND owner = ? AND status = 'InProgress' RETURNING id"),
      release: db.prepare('UPDATE operations SET lease_until = 0 WHERE id = ? AND owner = ?'),
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
      case 'putOperation': {
        const o = w.operation;
        if (w.ifInProgress) return this.stmt.moveOperation.run(o.status, o.dueAt, JSON.stringify(o), o.id).changes === 1;
        this.stmt.putOperation.run(o.id, o.status, o.dueAt, JSON.stringify(o));
        return true;
      }
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
    return this.stmt.openOperations.all().map((r) => JSON.parse(r.doc) as OperationRecord);
  }

  async recentOperations(limit: number): Promise<OperationRecord[]> {
    return this.stmt.recentOperations.all(limit).map((r) => JSON.parse(r.doc));
  }

  async pruneOperations(beforeIso: string): Promise<number> {
    return this.stmt.pruneOperations.run(beforeIso).changes;
  }

  async claimOperations(owner: string, nowMs: number, leaseMs: number, limit: number): Promise<OperationRecord[]> {
    return this.stmt.claim.all({ owner, until: nowMs + leaseMs, now: nowMs, limit }).map((r) => JSON.parse(r.doc) as OperationRecord).sort(byDue);
  }

  async claimOperation(id: string, owner: string, nowMs: number, leaseMs: number): Promise<OperationRecord | undefined> {
    const row = this.stmt.claimOne.get(owner, nowMs + leaseMs, id, nowMs);
    return row && JSON.parse(row.doc);
  }

  async renewLeases(owner: string, ids: string[], nowMs: number, leaseMs: number): Promise<string[]> {
    return this.db.transaction(() => ids.filter((id) => this.stmt.renew.get(nowMs + leaseMs, id, owner) !== undefined))();
  }

  async releaseLeases(owner: string, ids: string[]): Promise<void> {
    if (!this.db.open) return;
    this.db.transaction(() => { for (const id of ids) this.stmt.release.run(id, owner); })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Applies the migrations this file lacks, in one immediate transaction (so two processes opening it do not both). */
function migrate(db: Database.Database): void {
  db.exec(MIGRATIONS_TABLE);
  db.transaction(() => {
    const applied = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all().map((r) => r.version);
    for (const m of pendingMigrations(applied)) {
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
}

class ConditionFailed extends Error {}

const routeOf = (r: StoredResource) => (typeof r.internal.route === 'string' ? r.internal.route : null);
const byDue = (a: OperationRecord, b: OperationRecord) => a.dueAt - b.dueAt;
