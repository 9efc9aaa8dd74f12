import pg from 'pg';
import {
  DELETING,
  isBeingDeleted,
  type OperationRecord,
  type Page,
  type Store,
  type StoredResource,
  type Write,
} from './types.js';
import type { CounterKey, RuleRecord, StoredText } from './types.js';
import { descendantRange } from '../arm/ids.js';
import { MIGRATIONS_TABLE, pendingMigrations } from './migrations.js';

export interface PostgresOptions {
  /** Connections this process keeps open at most (default 10). */
  maxConnections?: number;
}

/** Serialises schema migrations across processes starting at once (pg_advisory_xact_lock key: "amlite" in ASCII). */
const MIGRATION_LOCK = '107070806123621';
/** A commit that the database aborted to break a deadlock or a serialization conflict is tried again this often. */
const COMMIT_ATTEMPTS = 5;

interface DocRow {
  doc: unknown;
}

/**
 * PostgreSQL behind the Store interface, for several amlite processes on one database. The same tables, columns
 * and indexes as SQLite (documents as JSONB, keys byte-ordered), and the same conditions, checked by the statements
 * themselves inside one transaction per commit (`UPDATE … WHERE etag = $n`, `INSERT … ON CONFLICT DO NOTHING`,
 * `UPDATE operations … WHERE status = 'InProgress'`), so of two processes racing for one condition exactly one wins.
 * Operations are claimed with `FOR UPDATE SKIP LOCKED` and held by leases that their owner renews.
 */
export class PostgresStore implements Store {
  readonly shared = true;
  private closed = false;
  /** The rules read on its way, and the one that follows it for the callers that came meanwhile (see listRules). */
  private rulesReading: Promise<RuleRecord[]> | undefined;
  private rulesNext: Promise<RuleRecord[]> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  /** Connects, and creates or migrates the schema (one process at a time). */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      application_name: 'amlite',
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    // A pooled idle connection that breaks is dropped by the pool and the next query opens another; without a
    // listener the 'error' event would end the process.
    pool.on('error', () => {});
    try {
      await migrate(pool);
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return new PostgresStore(pool, redactUrl(url));
  }

  async get(key: string): Promise<StoredResource | undefined> {
    return this.one<StoredResource>('amlite_get', 'SELECT doc FROM resources WHERE key = $1', [key]);
  }

  async getText(key: string): Promise<string | undefined> {
    const res = await this.pool.query<{ text: string }>({
      name: 'amlite_get_text',
      text: `SELECT ${TEXT_OF_DOC} AS text FROM resources WHERE key = $1`,
      values: [key],
    });
    return res.rows[0]?.text;
  }

  async listChildrenText(parentKey: string, type: string, page: Page): Promise<StoredText[]> {
    const res = await this.pool.query<StoredText>({
      name: 'amlite_children_text',
      text: `SELECT key, ${TEXT_OF_DOC} AS text FROM resources
             WHERE parent_key = $1 AND type = $2 AND key > $3 ORDER BY key LIMIT $4`,
      values: [parentKey, type.toLowerCase(), page.after ?? '', page.limit],
    });
    return res.rows;
  }

  async getByRoute(route: string): Promise<StoredResource | undefined> {
    return this.one<StoredResource>('amlite_by_route', 'SELECT doc FROM resources WHERE route = $1', [route]);
  }

  async listChildren(parentKey: string, type: string, page: Page): Promise<StoredResource[]> {
    return this.all<StoredResource>(
      'amlite_children',
      'SELECT doc FROM resources WHERE parent_key = $1 AND type = $2 AND key > $3 ORDER BY key LIMIT $4',
      [parentKey, type.toLowerCase(), page.after ?? '', page.limit],
    );
  }

  async listBelow(scopeKey: string, type: string, page: Page): Promise<StoredResource[]> {
    const [from, to] = descendantRange(scopeKey);
    return this.all<StoredResource>(
      'amlite_below',
      'SELECT doc FROM resources WHERE type = $1 AND key >= $2 AND key < $3 AND key > $4 ORDER BY key LIMIT $5',
      [type.toLowerCase(), from, to, page.after ?? '', page.limit],
    );
  }

  async commit(writes: Write[]): Promise<boolean> {
    if (writes.length === 0) return true;
    // Only conditions: nothing to note in the change counter.
    const changes = writes.some((w) => w.op !== 'requireParent');
    for (let attempt = 1; ; attempt++) {
      try {
        const sent = await this.commitInOneTrip(writes, changes);
        if (sent !== undefined) return sent;
        return await this.transaction(writes.length > 1 || writes[0].op === 'deleteTree', changes, async (c) => {
          for (let i = 0; i < writes.length;) {
            // A run of conditions (a write's ancestors) is checked in one statement: one round trip, not one each.
            let end = i;
            while (writes[end]?.op === 'requireParent') end++;
            const ok =
              end > i ? await parentsHold(c, writes.slice(i, end) as RequireParent[]) : await apply(c, writes[i]);
            if (!ok) return false;
            i = Math.max(end, i + 1);
          }
          return true;
        });
      } catch (e) {
        if (attempt < COMMIT_ATTEMPTS && isTransient(e)) continue;
        throw e;
      }
    }
  }

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    return this.one<OperationRecord>('amlite_get_operation', 'SELECT doc FROM operations WHERE id = $1', [id]);
  }

  async openOperations(): Promise<OperationRecord[]> {
    return this.all<OperationRecord>(
      'amlite_open_operations',
      "SELECT doc FROM operations WHERE status = 'InProgress' ORDER BY due_at",
      [],
    );
  }

  async recentOperations(limit: number): Promise<OperationRecord[]> {
    return this.all<OperationRecord>(
      'amlite_recent_operations',
      `SELECT doc FROM operations ORDER BY ((doc->>'startTime') COLLATE "C") DESC LIMIT $1`,
      [limit],
    );
  }

  async pruneOperations(beforeIso: string): Promise<number> {
    const res = await this.pool.query({
      name: 'amlite_prune_operations',
      text: `DELETE FROM operations WHERE status <> 'InProgress' AND ((doc->>'endTime') COLLATE "C") < $1`,
      values: [beforeIso],
    });
    if (res.rowCount) await this.pool.query(NOTE_CHANGE);
    return res.rowCount ?? 0;
  }

  async claimOperations(owner: string, nowMs: number, leaseMs: number, limit: number): Promise<OperationRecord[]> {
    const rows = await this.all<OperationRecord>(
      'amlite_claim',
      `
      UPDATE operations o SET owner = $1, lease_until = $3
      FROM (SELECT id FROM operations
            WHERE status = 'InProgress' AND (owner IS NULL AND due_at <= $2 OR owner IS NOT NULL AND lease_until <= $2)
            ORDER BY due_at
            LIMIT $4
            FOR UPDATE SKIP LOCKED) c
      WHERE o.id = c.id
      RETURNING o.doc`,
      [owner, nowMs, nowMs + leaseMs, limit],
    );
    return rows.sort((a, b) => a.dueAt - b.dueAt);
  }

  async claimOperation(
    id: string,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<OperationRecord | undefined> {
    return this.one<OperationRecord>(
      'amlite_claim_one',
      `
      UPDATE operations SET owner = $2, lease_until = $4
      WHERE id = $1 AND status = 'InProgress' AND (owner IS NULL OR lease_until <= $3)
      RETURNING doc`,
      [id, owner, nowMs, nowMs + leaseMs],
    );
  }

  async renewLeases(owner: string, ids: string[], nowMs: number, leaseMs: number): Promise<string[]> {
    if (!ids.length) return [];
    const res = await this.pool.query<{ id: string }>({
      name: 'amlite_renew',
      text: "UPDATE operations SET lease_until = $3 WHERE id = ANY($2::text[]) AND owner = $1 AND status = 'InProgress' RETURNING id",
      values: [owner, ids, nowMs + leaseMs],
    });
    return res.rows.map((r) => r.id);
  }

  async releaseLeases(owner: string, ids: string[]): Promise<void> {
    if (!ids.length || this.closed) return;
    await this.pool.query({
      name: 'amlite_release',
      text: 'UPDATE operations SET lease_until = 0 WHERE id = ANY($2::text[]) AND owner = $1',
      values: [owner, ids],
    });
  }

  async bindTenant(subscriptionId: string, tenantId: string): Promise<string> {
    const sub = subscriptionId.toLowerCase();
    // Two statements, not one: the read's own snapshot (READ COMMITTED) sees a row another process committed while
    // this insert waited on it and then did nothing.
    await this.pool.query({
      name: 'amlite_bind_tenant',
      text: `INSERT INTO tenant_bindings (subscription_id, tenant_id, bound_at) VALUES ($1, $2, $3)
             ON CONFLICT (subscription_id) DO NOTHING`,
      values: [sub, tenantId.toLowerCase(), new Date().toISOString()],
    });
    return (await this.tenantOf(sub))!;
  }

  async tenantOf(subscriptionId: string): Promise<string | undefined> {
    const res = await this.pool.query<{ tenant_id: string }>({
      name: 'amlite_tenant_of',
      text: 'SELECT tenant_id FROM tenant_bindings WHERE subscription_id = $1',
      values: [subscriptionId.toLowerCase()],
    });
    return res.rows[0]?.tenant_id;
  }

  async subscriptionsOf(tenantId: string, page: Page): Promise<string[]> {
    const res = await this.pool.query<{ subscription_id: string }>({
      name: 'amlite_subscriptions_of',
      text: `SELECT subscription_id FROM tenant_bindings WHERE tenant_id = $1 AND subscription_id > $2
             ORDER BY subscription_id LIMIT $3`,
      values: [tenantId.toLowerCase(), page.after?.toLowerCase() ?? '', page.limit],
    });
    return res.rows.map((r) => r.subscription_id);
  }

  /**
   * Every request reads the rules (test control), several times over, so concurrent calls share reads: a call made
   * while a read is on its way waits for the next one, which starts after that read ends. Each caller still gets rows
   * read after it called (nothing committed before the call is missed), in one round trip for all who waited.
   */
  listRules(): Promise<RuleRecord[]> {
    if (!this.rulesReading) {
      const read = this.control<RuleRow>(
        'amlite_list_rules',
        `SELECT ${RULE_COLUMNS} FROM amlite_rules ORDER BY created_at, id`,
        [],
      ).then((rows) => rows.map(ruleOf));
      this.rulesReading = read;
      const done = () => {
        if (this.rulesReading === read) this.rulesReading = undefined;
      };
      read.then(done, done);
      return read;
    }
    this.rulesNext ??= this.rulesReading.then(
      () => this.nextRulesRead(),
      () => this.nextRulesRead(),
    );
    return this.rulesNext;
  }

  private nextRulesRead(): Promise<RuleRecord[]> {
    this.rulesNext = undefined;
    this.rulesReading = undefined;
    return this.listRules();
  }

  async getRule(id: string): Promise<RuleRecord | undefined> {
    const [row] = await this.control<RuleRow>(
      'amlite_get_rule',
      `SELECT ${RULE_COLUMNS} FROM amlite_rules WHERE id = $1`,
      [id.toLowerCase()],
    );
    return row && ruleOf(row);
  }

  async putRule(rule: RuleRecord): Promise<boolean> {
    const { id, createdAt, spec, hits, remaining } = rule;
    const [row] = await this.control<{ version: string }>(
      'amlite_put_rule',
      `
      INSERT INTO amlite_rules (id, created_at, spec, hits, remaining) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, spec = excluded.spec, hits = excluded.hits,
        remaining = excluded.remaining, version = amlite_rules.version + 1
      RETURNING version`,
      [id.toLowerCase(), createdAt, JSON.stringify(spec), hits, remaining ?? null],
    );
    return Number(row.version) === 1;
  }

  async deleteRule(id: string): Promise<boolean> {
    const [row] = await this.control<{ n: string }>(
      'amlite_delete_rule',
      `
      WITH r AS (DELETE FROM amlite_rules WHERE id = $1 RETURNING id),
           c AS (DELETE FROM amlite_counters WHERE rule_id = $1)
      SELECT count(*) AS n FROM r`,
      [id.toLowerCase()],
    );
    return Number(row.n) === 1;
  }

  async deleteRules(): Promise<number> {
    const [row] = await this.control<{ n: string }>(
      'amlite_delete_rules',
      `
      WITH r AS (DELETE FROM amlite_rules RETURNING id), c AS (DELETE FROM amlite_counters)
      SELECT count(*) AS n FROM r`,
      [],
    );
    return Number(row.n);
  }

  async spendRule(id: string): Promise<RuleRecord | undefined> {
    const [row] = await this.control<RuleRow>(
      'amlite_spend_rule',
      `
      UPDATE amlite_rules SET hits = hits + 1, remaining = remaining - 1
      WHERE id = $1 AND (remaining IS NULL OR remaining > 0)
      RETURNING ${RULE_COLUMNS}`,
      [id.toLowerCase()],
    );
    return row && ruleOf(row);
  }

  async addToCounter(c: CounterKey, amount: number): Promise<number> {
    const [row] = await this.control<{ n: string }>(
      'amlite_add_to_counter',
      `
      INSERT INTO amlite_counters (rule_id, bucket, window_start, window_end, n) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (rule_id, bucket, window_start) DO UPDATE SET n = amlite_counters.n + excluded.n
      RETURNING n`,
      [c.ruleId.toLowerCase(), c.bucket, c.windowStart, c.windowEnd, amount],
    );
    return Number(row.n);
  }

  async readCounter(c: CounterKey): Promise<number> {
    const [row] = await this.control<{ n: string }>(
      'amlite_read_counter',
      'SELECT n FROM amlite_counters WHERE rule_id = $1 AND bucket = $2 AND window_start = $3',
      [c.ruleId.toLowerCase(), c.bucket, c.windowStart],
    );
    return row ? Number(row.n) : 0;
  }

  async pruneCounters(nowMs: number): Promise<number> {
    const res = await this.pool.query({
      name: 'amlite_prune_counters',
      text: 'DELETE FROM amlite_counters WHERE window_end <= $1',
      values: [nowMs],
    });
    return res.rowCount ?? 0;
  }

  async changeSeq(): Promise<number> {
    const [row] = await this.control<{ seq: string }>(
      'amlite_change_seq',
      'SELECT last_value AS seq FROM amlite_change_seq',
      [],
    );
    return Number(row.seq);
  }

  /**
   * The whole commit as one simple query: BEGIN, each write as a statement that raises (CONDITION_FAILED) when its
   * condition does not hold, COMMIT, then the change counter. One round trip instead of one per statement plus
   * BEGIN and COMMIT; the statements, their order, locks and snapshots (one per statement, READ COMMITTED) are those
   * of the step-by-step path. Undefined when a condition needs a document only JavaScript can read (a wrapped one):
   * the caller then takes the step-by-step path.
   */
  private async commitInOneTrip(writes: Write[], changes: boolean): Promise<boolean | undefined> {
    const statements: string[] = [];
    for (let i = 0; i < writes.length;) {
      let end = i;
      while (writes[end]?.op === 'requireParent') end++;
      statements.push(
        end > i
          ? parentsStatement(writes.slice(i, end) as RequireParent[])
          : writeStatement(writes[i] as Exclude<Write, RequireParent>),
      );
      i = Math.max(end, i + 1);
    }
    const text = `BEGIN; ${statements.join('; ')}; COMMIT${changes ? `; ${NOTE_CHANGE}` : ''}`;
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query(text);
      return true;
    } catch (e) {
      await c.query('ROLLBACK').catch((err: Error) => {
        broken = err;
      });
      const code = (e as { code?: string }).code;
      if (code === CONDITION_FAILED) return false;
      if (code === NEEDS_SCRIPT) return undefined;
      throw e;
    } finally {
      c.release(broken);
    }
  }

  /** One test-control statement (each is atomic by itself), tried again when the database broke a deadlock. */
  private async control<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.query<R>({ name, text, values })).rows;
      } catch (e) {
        if (attempt < COMMIT_ATTEMPTS && isTransient(e)) continue;
        throw e;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async one<T>(name: string, text: string, values: unknown[]): Promise<T | undefined> {
    const res = await this.pool.query<DocRow>({ name, text, values });
    return res.rows.length ? (fromDoc(res.rows[0].doc) as T) : undefined;
  }

  private async all<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const res = await this.pool.query<DocRow>({ name, text, values });
    return res.rows.map((r) => fromDoc(r.doc) as T);
  }

  /**
   * Runs `fn` on one connection, inside BEGIN … COMMIT when `wrap` (a single statement is atomic by itself); `false`
   * rolls back. When `changes` and it commits, the change counter moves after the commit (in the COMMIT's round
   * trip): no lock is held across commits, so PostgreSQL flushes concurrent commits together (its group commit).
   */
  private async transaction(
    wrap: boolean,
    changes: boolean,
    fn: (c: pg.PoolClient) => Promise<boolean>,
  ): Promise<boolean> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      if (!wrap) {
        const ok = await fn(c);
        if (ok && changes) await c.query(NOTE_CHANGE);
        return ok;
      }
      await c.query('BEGIN');
      const ok = await fn(c);
      await c.query(!ok ? 'ROLLBACK' : changes ? `COMMIT; ${NOTE_CHANGE}` : 'COMMIT');
      return ok;
    } catch (e) {
      if (wrap)
        await c.query('ROLLBACK').catch((err: Error) => {
          broken = err;
        });
      throw e;
    } finally {
      c.release(broken);
    }
  }
}

/** One write; false when its condition does not hold (nothing was changed by it). */
async function apply(c: pg.PoolClient, w: Write): Promise<boolean> {
  switch (w.op) {
    case 'insert': {
      const r = w.resource;
      const res = await c.query({
        name: 'amlite_insert',
        text: 'INSERT INTO resources (key, id, parent_key, type, etag, route, doc) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (key) DO NOTHING',
        values: [
          r.key,
          r.id,
          r.parentKey,
          r.type.toLowerCase(),
          r.etag,
          typeof r.internal.route === 'string' ? r.internal.route : null,
          toDoc(r),
        ],
      });
      return res.rowCount === 1;
    }
    case 'update': {
      const r = w.resource;
      const res = await c.query({
        name: 'amlite_update',
        text: 'UPDATE resources SET id = $1, etag = $2, doc = $3::jsonb WHERE key = $4 AND etag = $5',
        values: [r.id, r.etag, toDoc(r), r.key, w.ifEtag],
      });
      return res.rowCount === 1;
    }
    case 'deleteTree': {
      // The resource first, then what is below it in a second statement: its fresh snapshot (READ COMMITTED) sees a
      // child whose commit held the resource's row (requireParent, FOR SHARE) while the first statement waited.
      const [from, to] = descendantRange(w.key);
      await c.query({ name: 'amlite_delete_one', text: 'DELETE FROM resources WHERE key = $1', values: [w.key] });
      await c.query({
        name: 'amlite_delete_below',
        text: 'DELETE FROM resources WHERE key >= $1 AND key < $2',
        values: [from, to],
      });
      return true;
    }
    case 'requireParent':
      return parentsHold(c, [w]);
    case 'putOperation': {
      const o = w.operation;
      if (w.ifInProgress) {
        const res = await c.query({
          name: 'amlite_move_operation',
          text: "UPDATE operations SET status = $2, due_at = $3, doc = $4::jsonb WHERE id = $1 AND status = 'InProgress'",
          values: [o.id, o.status, o.dueAt, toDoc(o)],
        });
        return res.rowCount === 1;
      }
      await c.query({
        name: 'amlite_put_operation',
        text: 'INSERT INTO operations (id, status, due_at, doc) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at, doc = excluded.doc',
        values: [o.id, o.status, o.dueAt, toDoc(o)],
      });
      return true;
    }
  }
}

type RequireParent = Extract<Write, { op: 'requireParent' }>;

/**
 * Whether every condition holds: its resource exists and, with `notDeleting`, is not being deleted. The rows stay
 * locked (FOR SHARE, in key order) until the commit ends. Only the provisioning state is read, not the document.
 */
async function parentsHold(c: pg.PoolClient, conditions: RequireParent[]): Promise<boolean> {
  const res = await c.query<{ key: string; state: string | null; wrapped: string | null }>({
    name: 'amlite_require_parents',
    text: `SELECT key, doc->'body'->'properties'->>'provisioningState' AS state, doc->>'${WRAPPED}' AS wrapped
           FROM resources WHERE key = ANY($1::text[]) ORDER BY key FOR SHARE`,
    values: [[...new Set(conditions.map((w) => w.key))]],
  });
  const deleting = new Map(
    res.rows.map((r) => [
      r.key,
      r.wrapped === null ? r.state === DELETING : isBeingDeleted(JSON.parse(r.wrapped) as StoredResource),
    ]),
  );
  return conditions.every((w) => deleting.has(w.key) && !(w.notDeleting && deleting.get(w.key)));
}

/** SQLSTATEs the one-trip commit raises: a write's condition does not hold; a condition needs JavaScript. */
const CONDITION_FAILED = 'AM001';
const NEEDS_SCRIPT = 'AM002';

/** Raises `code` unless `ok` (what makes a one-trip commit's statement fail, and so the whole transaction). */
const REQUIRE_FUNCTION = `
  CREATE OR REPLACE FUNCTION amlite_require(ok boolean, code text) RETURNS boolean LANGUAGE plpgsql AS $$
  BEGIN
    IF ok IS NOT TRUE THEN RAISE EXCEPTION 'amlite commit condition' USING ERRCODE = code; END IF;
    RETURN true;
  END $$`;

const lit = (v: string | number | null) =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : pg.escapeLiteral(v);
const textArray = (xs: string[]) => `ARRAY[${xs.map(lit).join(',')}]::text[]`;
/** A data-modifying statement that must change exactly one row. */
const exactlyOne = (dml: string) =>
  `WITH w AS (${dml} RETURNING 1) SELECT amlite_require(count(*) = 1, '${CONDITION_FAILED}') FROM w`;

/** `apply`'s statement for one write, with its values as literals. */
function writeStatement(w: Exclude<Write, RequireParent>): string {
  switch (w.op) {
    case 'insert': {
      const r = w.resource;
      const route = typeof r.internal.route === 'string' ? r.internal.route : null;
      const values = [r.key, r.id, r.parentKey, r.type.toLowerCase(), r.etag, route].map(lit).join(', ');
      return exactlyOne(
        `INSERT INTO resources (key, id, parent_key, type, etag, route, doc) VALUES (${values}, ${lit(toDoc(r))}::jsonb)
         ON CONFLICT (key) DO NOTHING`,
      );
    }
    case 'update': {
      const r = w.resource;
      return exactlyOne(
        `UPDATE resources SET id = ${lit(r.id)}, etag = ${lit(r.etag)}, doc = ${lit(toDoc(r))}::jsonb
         WHERE key = ${lit(r.key)} AND etag = ${lit(w.ifEtag)}`,
      );
    }
    case 'deleteTree': {
      // Two statements, each with its own snapshot, as in `apply`.
      const [from, to] = descendantRange(w.key);
      return `DELETE FROM resources WHERE key = ${lit(w.key)}; DELETE FROM resources WHERE key >= ${lit(from)} AND key < ${lit(to)}`;
    }
    case 'putOperation': {
      const o = w.operation;
      if (w.ifInProgress)
        return exactlyOne(
          `UPDATE operations SET status = ${lit(o.status)}, due_at = ${lit(o.dueAt)}, doc = ${lit(toDoc(o))}::jsonb
           WHERE id = ${lit(o.id)} AND status = 'InProgress'`,
        );
      return `INSERT INTO operations (id, status, due_at, doc) VALUES (${lit(o.id)}, ${lit(o.status)}, ${lit(o.dueAt)},
        ${lit(toDoc(o))}::jsonb) ON CONFLICT (id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at,
        doc = excluded.doc`;
    }
  }
}

/**
 * `parentsHold` as one statement: the rows locked FOR SHARE in key order; it raises when one is missing or being
 * deleted where that counts, and asks for the step-by-step path when one is wrapped (only JavaScript reads those).
 */
function parentsStatement(conditions: RequireParent[]): string {
  const keys = [...new Set(conditions.map((w) => w.key))];
  const notDeleting = [...new Set(conditions.filter((w) => w.notDeleting).map((w) => w.key))];
  return `WITH p AS (SELECT key, doc->'body'->'properties'->>'provisioningState' AS state, doc ? '${WRAPPED}' AS wrapped
                     FROM resources WHERE key = ANY(${textArray(keys)}) ORDER BY key FOR SHARE)
          SELECT amlite_require(count(*) = ${keys.length}, '${CONDITION_FAILED}'),
                 amlite_require(NOT coalesce(bool_or(wrapped), false), '${NEEDS_SCRIPT}'),
                 amlite_require(NOT coalesce(bool_or(state = '${DELETING}' AND key = ANY(${textArray(notDeleting)})),
                   false), '${CONDITION_FAILED}')
          FROM p`;
}

async function migrate(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await c.query(MIGRATIONS_TABLE);
    const applied = (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
      (r) => r.version,
    );
    for (const m of pendingMigrations(applied)) {
      await c.query(m.postgres);
      await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
    }
    await c.query(REQUIRE_FUNCTION);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

interface RuleRow {
  id: string;
  created_at: string;
  spec: string;
  hits: string;
  remaining: string | null;
}

const RULE_COLUMNS = 'id, created_at, spec, hits, remaining';

function ruleOf(row: RuleRow): RuleRecord {
  const rule: RuleRecord = {
    id: row.id,
    createdAt: row.created_at,
    spec: JSON.parse(row.spec),
    hits: Number(row.hits),
  };
  if (row.remaining !== null) rule.remaining = Number(row.remaining);
  return rule;
}

/** Moves the change counter (changeSeq); run after a commit, never inside one (see migration 5). */
const NOTE_CHANGE = "SELECT nextval('amlite_change_seq')";

/** Deadlocks and serialization failures: the database undid the transaction, and it may simply be tried again. */
function isTransient(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === '40P01' || code === '40001';
}

/**
 * JSONB refuses two things a JSON text can hold: the character U+0000 and unpaired surrogates (both come out of
 * JSON.stringify as \u escapes). A document holding either is kept whole as a JSON string under WRAPPED, so every
 * document round-trips exactly as in SQLite.
 */
const WRAPPED = '~json';
const JSONB_UNSAFE = /\\u(0000|d[89a-f])/i;

function toDoc(value: object): string {
  const text = JSON.stringify(value);
  return JSONB_UNSAFE.test(text) ? JSON.stringify({ [WRAPPED]: text }) : text;
}

/** A document's JSON text, read in SQL (a wrapped one's own text). */
const TEXT_OF_DOC = `coalesce(doc->>'${WRAPPED}', doc::text)`;

function fromDoc(doc: unknown): unknown {
  const wrapped = (doc as Record<string, unknown>)[WRAPPED];
  return typeof wrapped === 'string' ? JSON.parse(wrapped) : doc;
}

/** The connection URL without its password, for logs and the banner. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
