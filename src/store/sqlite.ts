import Database from 'better-sqlite3';
import { DELETING, type OperationRecord, type Page, type Store, type StoredResource, type Write } from './types.js';
import type { CounterKey, RuleRecord, StoredText } from './types.js';
import { descendantRange } from '../arm/ids.js';
import { MIGRATIONS_TABLE, pendingMigrations } from './migrations.js';
import { createPrivate, tightenSecrets } from '../file-modes.js';
import { GroupSync } from './group-sync.js';

interface Row {
  doc: string;
}

/**
 * The embedded default store: one SQLite file in WAL mode (or memory), every commit one transaction. It serves one
 * process (`shared` is false), which drives every open operation and takes them all back after a restart.
 * Durability is a group commit (GroupSync): a write resolves once an fsync of the WAL made after it has finished,
 * and concurrent writers share that fsync. Commits queued in the same turn of the event loop also share one
 * transaction, each in a savepoint of its own, so its conditions hold or fail alone. A reader may see a commit up to
 * one fsync before its writer's answer (never after a crash: nothing is acknowledged before its fsync, and a write
 * that depends on it comes later in the WAL).
 */
export class SqliteStore implements Store {
  readonly shared = false;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly commitTx: (writes: Write[]) => boolean;
  private readonly batchTx: (batch: Queued[]) => Outcome[];
  /** Commits waiting for the next batch (file store: see `commitQueued`). */
  private queued: Queued[] = [];
  private readonly control: ReturnType<typeof controlStatements>;
  /** Absent in memory: nothing to make durable. */
  private readonly sync: GroupSync | undefined;

  constructor(file: string) {
    this.location = file;
    if (file !== ':memory:') {
      // Every endpoint key is in here: owner-only. SQLite gives the -wal and -shm files the database file's mode.
      createPrivate(file);
      tightenSecrets([file, `${file}-wal`, `${file}-shm`]);
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // An acknowledged write survives power loss as well as a crash of the process: not through synchronous = FULL
    // (one fsync per commit, on the event loop) but through GroupSync's fsync of the WAL before any answer.
    this.db.pragma('synchronous = NORMAL');
    this.sync = file === ':memory:' ? undefined : new GroupSync(`${file}-wal`);
    this.db.pragma('busy_timeout = 5000');
    // Reads through a memory map instead of a read() per page: a resource's document spills to overflow pages,
    // which SQLite otherwise reads from the file on every lookup (4-5x slower list pages). Same data, same locking.
    this.db.pragma('mmap_size = 268435456');
    migrate(this.db);
    const db = this.db;
    this.stmt = {
      get: db.prepare<[string], Row>('SELECT doc FROM resources WHERE key = ?'),
      // A parent's state without parsing its whole document in JavaScript (a write request checks every ancestor).
      stateOf: db.prepare<[string], { state: unknown }>(
        "SELECT json_extract(doc, '$.body.properties.provisioningState') AS state FROM resources WHERE key = ?",
      ),
      children: db.prepare<[string, string, string, number], Row>(
        'SELECT doc FROM resources WHERE parent_key = ? AND type = ? AND key > ? ORDER BY key LIMIT ?',
      ),
      // Rows changed through this connection, and SQLite's counter of commits by other connections (processes).
      dataVersion: db.prepare<[], { changes: number; others: number }>(
        'SELECT total_changes() AS changes, data_version AS others FROM pragma_data_version',
      ),
      childrenText: db.prepare<[string, string, string, number], { key: string; text: string }>(
        'SELECT key, doc AS text FROM resources WHERE parent_key = ? AND type = ? AND key > ? ORDER BY key LIMIT ?',
      ),
      below: db.prepare<[string, string, string, string, number], Row>(
        'SELECT doc FROM resources WHERE type = ? AND key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?',
      ),
      insert: db.prepare(
        'INSERT INTO resources (key, id, parent_key, type, etag, route, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
      ),
      update: db.prepare('UPDATE resources SET id = ?, etag = ?, doc = ? WHERE key = ? AND etag = ?'),
      deleteOne: db.prepare('DELETE FROM resources WHERE key = ?'),
      deleteBelow: db.prepare('DELETE FROM resources WHERE key >= ? AND key < ?'),
      // The change feed's counter: once per commit that changed something (migration 5 dropped the triggers).
      noteChange: db.prepare('UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1'),
      putOperation: db.prepare(
        'INSERT INTO operations (id, status, due_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at, doc = excluded.doc',
      ),
      moveOperation: db.prepare(
        "UPDATE operations SET status = ?, due_at = ?, doc = ? WHERE id = ? AND status = 'InProgress'",
      ),
      byRoute: db.prepare<[string], Row>('SELECT doc FROM resources WHERE route = ?'),
      getOperation: db.prepare<[string], Row>('SELECT doc FROM operations WHERE id = ?'),
      openOperations: db.prepare<[], Row>("SELECT doc FROM operations WHERE status = 'InProgress' ORDER BY due_at"),
      recentOperations: db.prepare<[number], Row>(
        "SELECT doc FROM operations ORDER BY json_extract(doc, '$.startTime') DESC LIMIT ?",
      ),
      pruneOperations: db.prepare<[string]>(
        "DELETE FROM operations WHERE status <> 'InProgress' AND json_extract(doc, '$.endTime') < ?",
      ),
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
        "UPDATE operations SET lease_until = ? WHERE id = ? AND owner = ? AND status = 'InProgress' RETURNING id",
      ),
      release: db.prepare('UPDATE operations SET lease_until = 0 WHERE id = ? AND owner = ?'),
      bindTenant: db.prepare<
        [string, string, string]
      >(`INSERT INTO tenant_bindings (subscription_id, tenant_id, bound_at)
        VALUES (?, ?, ?) ON CONFLICT (subscription_id) DO NOTHING`),
      tenantOf: db.prepare<[string], { tenant_id: string }>(
        'SELECT tenant_id FROM tenant_bindings WHERE subscription_id = ?',
      ),
      subscriptionsOf: db.prepare<[string, string, number], { subscription_id: string }>(
        `SELECT subscription_id FROM tenant_bindings WHERE tenant_id = ? AND subscription_id > ?
         ORDER BY subscription_id LIMIT ?`,
      ),
    };
    this.control = controlStatements(db);
    this.batchTx = db.transaction((batch: Queued[]) =>
      batch.map((b): Outcome => {
        try {
          return { ok: this.commitTx(b.writes) };
        } catch (e) {
          if (e instanceof ConditionFailed) return { ok: false };
          throw e;
        }
      }),
    );
    this.commitTx = db.transaction((writes: Write[]) => {
      let changed = false;
      for (const w of writes) {
        const result = this.apply(w);
        if (result === false) throw new ConditionFailed();
        changed ||= result === CHANGED;
      }
      if (changed) this.stmt.noteChange.run();
      return true;
    });
  }

  /** One write: false when its condition fails, CHANGED when it changed a row, true when it held and changed none. */
  private apply(w: Write): boolean | typeof CHANGED {
    switch (w.op) {
      case 'insert': {
        const r = w.resource;
        const { changes } = this.stmt.insert.run(
          r.key,
          r.id,
          r.parentKey,
          r.type.toLowerCase(),
          r.etag,
          routeOf(r),
          JSON.stringify(r),
        );
        return changes === 1 && CHANGED;
      }
      case 'update': {
        const r = w.resource;
        return this.stmt.update.run(r.id, r.etag, JSON.stringify(r), r.key, w.ifEtag).changes === 1 && CHANGED;
      }
      case 'deleteTree': {
        const n = this.stmt.deleteOne.run(w.key).changes + this.stmt.deleteBelow.run(...descendantRange(w.key)).changes;
        return n > 0 ? CHANGED : true;
      }
      case 'putOperation': {
        const o = w.operation;
        if (w.ifInProgress)
          return this.stmt.moveOperation.run(o.status, o.dueAt, JSON.stringify(o), o.id).changes === 1 && CHANGED;
        this.stmt.putOperation.run(o.id, o.status, o.dueAt, JSON.stringify(o));
        return CHANGED;
      }
      case 'requireParent': {
        // One process, one transaction: nothing can change the parent between this read and the commit.
        const row = this.stmt.stateOf.get(w.key);
        return row !== undefined && !(w.notDeleting && row.state === DELETING);
      }
    }
  }

  async get(key: string): Promise<StoredResource | undefined> {
    const row = this.stmt.get.get(key);
    return row && JSON.parse(row.doc);
  }

  async dataVersion(): Promise<string | undefined> {
    // Inside a transaction this connection sees writes that may yet roll back: no version to keep anything by.
    if (this.db.inTransaction) return undefined;
    const v = this.stmt.dataVersion.get()!;
    return `${v.others}:${v.changes}`;
  }

  async getText(key: string): Promise<string | undefined> {
    return this.stmt.get.get(key)?.doc;
  }

  async listChildrenText(parentKey: string, type: string, page: Page): Promise<StoredText[]> {
    return this.stmt.childrenText.all(parentKey, type.toLowerCase(), page.after ?? '', page.limit);
  }

  async getByRoute(route: string): Promise<StoredResource | undefined> {
    const row = this.stmt.byRoute.get(route);
    return row && JSON.parse(row.doc);
  }

  async listChildren(parentKey: string, type: string, page: Page): Promise<StoredResource[]> {
    return this.stmt.children
      .all(parentKey, type.toLowerCase(), page.after ?? '', page.limit)
      .map((r) => JSON.parse(r.doc));
  }

  async listBelow(scopeKey: string, type: string, page: Page): Promise<StoredResource[]> {
    const [from, to] = descendantRange(scopeKey);
    return this.stmt.below
      .all(type.toLowerCase(), from, to, page.after ?? '', page.limit)
      .map((r) => JSON.parse(r.doc));
  }

  async commit(writes: Write[]): Promise<boolean> {
    const outcome = this.sync
      ? await new Promise<Outcome>((done) => {
          if (this.queued.push({ writes, done }) === 1) setImmediate(() => this.commitQueued());
        })
      : this.commitOne(writes);
    // A failed condition answers too (412, 409…): after the commits it saw are durable, like a success.
    await this.durable();
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }

  /** One commit in its own transaction: its conditions hold or fail alone. */
  private commitOne(writes: Write[]): Outcome {
    try {
      return { ok: this.commitTx(writes) };
    } catch (e) {
      return e instanceof ConditionFailed ? { ok: false } : { error: e };
    }
  }

  /**
   * The commits queued while the event loop served one round of I/O, in one SQLite transaction (each in a savepoint):
   * the pages they share (indexes, the change counter, neighbouring rows) go to the WAL once, not once per commit.
   */
  private commitQueued(): void {
    const batch = this.queued;
    this.queued = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.batchTx(batch);
    } catch {
      // Something other than a condition failed (and rolled the whole batch back): each commit alone, as it would
      // have gone without batching, so the error reaches only its own writer.
      outcomes = batch.map((b) => this.commitOne(b.writes));
    }
    this.sync?.noteWrite();
    batch.forEach((b, i) => b.done(outcomes[i]!));
  }

  /** Waits until every write made so far is on disk (group commit); at once in memory. */
  private async durable(): Promise<void> {
    if (this.sync) await this.sync.durable();
  }

  /** A write outside `commit` that answers a caller: counted for the next fsync, and awaited. */
  private async written<T>(value: T): Promise<T> {
    this.sync?.noteWrite();
    await this.durable();
    return value;
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
    const n = this.db.transaction(() => {
      const { changes } = this.stmt.pruneOperations.run(beforeIso);
      if (changes > 0) this.stmt.noteChange.run();
      return changes;
    })();
    return this.written(n);
  }

  async claimOperations(owner: string, nowMs: number, leaseMs: number, limit: number): Promise<OperationRecord[]> {
    return this.stmt.claim
      .all({ owner, until: nowMs + leaseMs, now: nowMs, limit })
      .map((r) => JSON.parse(r.doc) as OperationRecord)
      .sort(byDue);
  }

  async claimOperation(
    id: string,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<OperationRecord | undefined> {
    const row = this.stmt.claimOne.get(owner, nowMs + leaseMs, id, nowMs);
    return row && JSON.parse(row.doc);
  }

  async renewLeases(owner: string, ids: string[], nowMs: number, leaseMs: number): Promise<string[]> {
    return this.db.transaction(() =>
      ids.filter((id) => this.stmt.renew.get(nowMs + leaseMs, id, owner) !== undefined),
    )();
  }

  async releaseLeases(owner: string, ids: string[]): Promise<void> {
    if (!this.db.open) return;
    this.db.transaction(() => {
      for (const id of ids) this.stmt.release.run(id, owner);
    })();
  }

  async bindTenant(subscriptionId: string, tenantId: string): Promise<string> {
    const sub = subscriptionId.toLowerCase();
    this.stmt.bindTenant.run(sub, tenantId.toLowerCase(), new Date().toISOString());
    return this.written(this.stmt.tenantOf.get(sub)!.tenant_id);
  }

  async subscriptionsOf(tenantId: string, page: Page): Promise<string[]> {
    return this.stmt.subscriptionsOf
      .all(tenantId.toLowerCase(), page.after?.toLowerCase() ?? '', page.limit)
      .map((r) => r.subscription_id);
  }

  async tenantOf(subscriptionId: string): Promise<string | undefined> {
    return this.stmt.tenantOf.get(subscriptionId.toLowerCase())?.tenant_id;
  }

  async listRules(): Promise<RuleRecord[]> {
    return this.control.listRules.all().map(ruleOf);
  }

  async getRule(id: string): Promise<RuleRecord | undefined> {
    const row = this.control.getRule.get(id.toLowerCase());
    return row && ruleOf(row);
  }

  async putRule(rule: RuleRecord): Promise<boolean> {
    const { id, createdAt, spec, hits, remaining } = rule;
    const row = this.control.putRule.get(id.toLowerCase(), createdAt, JSON.stringify(spec), hits, remaining ?? null);
    return this.written(row!.version === 1);
  }

  async deleteRule(id: string): Promise<boolean> {
    const deleted = this.db.transaction(() => {
      this.control.deleteCounters.run(id.toLowerCase());
      return this.control.deleteRule.run(id.toLowerCase()).changes === 1;
    })();
    return this.written(deleted);
  }

  async deleteRules(): Promise<number> {
    const n = this.db.transaction(() => {
      this.control.deleteAllCounters.run();
      return this.control.deleteAllRules.run().changes;
    })();
    return this.written(n);
  }

  async spendRule(id: string): Promise<RuleRecord | undefined> {
    const row = this.control.spendRule.get(id.toLowerCase());
    return this.written(row && ruleOf(row));
  }

  async addToCounter(c: CounterKey, amount: number): Promise<number> {
    return this.written(
      this.control.addToCounter.get(c.ruleId.toLowerCase(), c.bucket, c.windowStart, c.windowEnd, amount)!.n,
    );
  }

  async readCounter(c: CounterKey): Promise<number> {
    return this.control.readCounter.get(c.ruleId.toLowerCase(), c.bucket, c.windowStart)?.n ?? 0;
  }

  async pruneCounters(nowMs: number): Promise<number> {
    return this.control.pruneCounters.run(nowMs).changes;
  }

  async changeSeq(): Promise<number> {
    return this.control.changeSeq.get()!.seq;
  }

  async close(): Promise<void> {
    // Commits queued for this turn's batch are made, and synced, before the file closes.
    if (this.queued.length) this.commitQueued();
    await this.durable();
    await this.sync?.close();
    if (this.db.open) this.db.close();
  }
}

interface RuleRow {
  id: string;
  created_at: string;
  spec: string;
  hits: number;
  remaining: number | null;
}

const RULE_COLUMNS = 'id, created_at, spec, hits, remaining';

/** Test control's statements: every change is one statement, so it is atomic by itself. */
function controlStatements(db: Database.Database) {
  return {
    listRules: db.prepare<[], RuleRow>(`SELECT ${RULE_COLUMNS} FROM amlite_rules ORDER BY created_at, id`),
    getRule: db.prepare<[string], RuleRow>(`SELECT ${RULE_COLUMNS} FROM amlite_rules WHERE id = ?`),
    putRule: db.prepare<[string, string, string, number, number | null], { version: number }>(`
      INSERT INTO amlite_rules (id, created_at, spec, hits, remaining) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, spec = excluded.spec, hits = excluded.hits,
        remaining = excluded.remaining, version = amlite_rules.version + 1
      RETURNING version`),
    deleteRule: db.prepare<[string]>('DELETE FROM amlite_rules WHERE id = ?'),
    deleteCounters: db.prepare<[string]>('DELETE FROM amlite_counters WHERE rule_id = ?'),
    deleteAllRules: db.prepare('DELETE FROM amlite_rules'),
    deleteAllCounters: db.prepare('DELETE FROM amlite_counters'),
    spendRule: db.prepare<[string], RuleRow>(`
      UPDATE amlite_rules SET hits = hits + 1, remaining = remaining - 1
      WHERE id = ? AND (remaining IS NULL OR remaining > 0)
      RETURNING ${RULE_COLUMNS}`),
    addToCounter: db.prepare<[string, string, number, number, number], { n: number }>(`
      INSERT INTO amlite_counters (rule_id, bucket, window_start, window_end, n) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (rule_id, bucket, window_start) DO UPDATE SET n = amlite_counters.n + excluded.n
      RETURNING n`),
    readCounter: db.prepare<[string, string, number], { n: number }>(
      'SELECT n FROM amlite_counters WHERE rule_id = ? AND bucket = ? AND window_start = ?',
    ),
    pruneCounters: db.prepare<[number]>('DELETE FROM amlite_counters WHERE window_end <= ?'),
    changeSeq: db.prepare<[], { seq: number }>('SELECT seq FROM amlite_changes WHERE id = 1'),
  };
}

function ruleOf(row: RuleRow): RuleRecord {
  const rule: RuleRecord = { id: row.id, createdAt: row.created_at, spec: JSON.parse(row.spec), hits: row.hits };
  if (row.remaining !== null) rule.remaining = row.remaining;
  return rule;
}

/** Applies the migrations this file lacks, in one immediate transaction (so two processes opening it do not both). */
function migrate(db: Database.Database): void {
  db.exec(MIGRATIONS_TABLE);
  db.transaction(() => {
    const applied = db
      .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
      .all()
      .map((r) => r.version);
    for (const m of pendingMigrations(applied)) {
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    }
  }).immediate();
}

class ConditionFailed extends Error {}

/** What became of one commit: its conditions held (ok) or not, or it failed. */
type Outcome = { ok: boolean } | { error: unknown };
interface Queued {
  writes: Write[];
  done: (outcome: Outcome) => void;
}

/** What `apply` answers for a write that changed a row (the change counter moves once per such commit). */
const CHANGED = 'changed';

const routeOf = (r: StoredResource) => (typeof r.internal.route === 'string' ? r.internal.route : null);
const byDue = (a: OperationRecord, b: OperationRecord) => a.dueAt - b.dueAt;
