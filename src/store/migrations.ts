/**
 * The schema of both stores as numbered migrations, applied in order on start and recorded in `schema_migrations`.
 * Each migration has a SQLite and a PostgreSQL form of the same change: same tables, columns, indexes and version
 * numbers, so a database of either kind says which step it is at. Append new migrations; never edit an applied one.
 */

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** Created before any migration runs, in both stores (the SQL is the same). */
export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resources and operations',
    // IF NOT EXISTS: SQLite files made before migrations were recorded already have these tables.
    sqlite: `
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
    `,
    // Keys compare byte by byte (COLLATE "C"), as in SQLite: keyset paging and the descendant ranges
    // ('<key>/' to '<key>0') depend on it, whatever the database's default collation is.
    postgres: `
      CREATE TABLE IF NOT EXISTS resources (
        key TEXT COLLATE "C" PRIMARY KEY,
        id TEXT NOT NULL,
        parent_key TEXT COLLATE "C" NOT NULL,
        type TEXT COLLATE "C" NOT NULL,
        etag TEXT NOT NULL,
        route TEXT COLLATE "C",
        doc JSONB NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS resources_by_route ON resources (route) WHERE route IS NOT NULL;
      CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (parent_key, type, key);
      CREATE INDEX IF NOT EXISTS resources_by_type ON resources (type, key);
      CREATE TABLE IF NOT EXISTS operations (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        doc JSONB NOT NULL
      );
      CREATE INDEX IF NOT EXISTS operations_open ON operations (status) WHERE status = 'InProgress';
      CREATE INDEX IF NOT EXISTS operations_recent ON operations (((doc->>'startTime') COLLATE "C") DESC);
    `,
  },
  {
    version: 2,
    name: 'operation due times and leases',
    // due_at mirrors doc.dueAt; owner + lease_until say which process drives an open operation, and until when.
    sqlite: `
      ALTER TABLE operations ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE operations ADD COLUMN owner TEXT;
      ALTER TABLE operations ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
      UPDATE operations SET due_at = CAST(json_extract(doc, '$.dueAt') AS INTEGER);
      DROP INDEX IF EXISTS operations_open;
      CREATE INDEX operations_open ON operations (due_at) WHERE status = 'InProgress';
    `,
    postgres: `
      ALTER TABLE operations ADD COLUMN due_at BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE operations ADD COLUMN owner TEXT;
      ALTER TABLE operations ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
      UPDATE operations SET due_at = (doc->>'dueAt')::bigint;
      DROP INDEX IF EXISTS operations_open;
      CREATE INDEX operations_open ON operations (due_at) WHERE status = 'InProgress';
    `,
  },
  {
    version: 3,
    name: 'tenant bindings',
    // Strict mode: which tenant a subscription belongs to (the first to use it), shared by every process on the store.
    // Ids are kept in lower case; a row is written once (INSERT … ON CONFLICT DO NOTHING) and never changed.
    sqlite: `
      CREATE TABLE tenant_bindings (
        subscription_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        bound_at TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
    postgres: `
      CREATE TABLE tenant_bindings (
        subscription_id TEXT COLLATE "C" PRIMARY KEY,
        tenant_id TEXT COLLATE "C" NOT NULL,
        bound_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'test-control tables and a change counter',
    // Rules move out of `resources` (where they were documents under /_amlite/rules) into their own table, with
    // their running totals as columns so a hit is one UPDATE; throttle counters are one row per rule, bucket and
    // window, incremented in place and deleted once their window has ended. amlite_changes.seq moves (triggers,
    // in the writer's own transaction) whenever a resource or an operation's status or document changes, so a
    // reader learns whether anything changed from one row. Old counters are dropped: their windows are over.
    sqlite: `
      CREATE TABLE amlite_rules (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        spec TEXT NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0,
        remaining INTEGER,
        version INTEGER NOT NULL DEFAULT 1
      ) WITHOUT ROWID;
      CREATE TABLE amlite_counters (
        rule_id TEXT NOT NULL,
        bucket TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        window_end INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (rule_id, bucket, window_start)
      ) WITHOUT ROWID;
      CREATE INDEX amlite_counters_by_end ON amlite_counters (window_end);
      INSERT OR REPLACE INTO amlite_rules (id, created_at, spec, hits, remaining)
        SELECT lower(json_extract(doc, '$.body.rule.id')), json_extract(doc, '$.body.rule.createdAt'),
               json_extract(doc, '$.body.rule'), coalesce(json_extract(doc, '$.body.rule.hits'), 0),
               json_extract(doc, '$.body.rule.count')
        FROM resources WHERE type = 'amlite/rules' AND json_extract(doc, '$.body.rule.id') IS NOT NULL;
      DELETE FROM resources WHERE key >= '/_amlite/' AND key < '/_amlite0';
      CREATE TABLE amlite_changes (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
      INSERT INTO amlite_changes (id, seq) VALUES (1, 0);
      CREATE TRIGGER amlite_resource_inserted AFTER INSERT ON resources
        BEGIN UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1; END;
      CREATE TRIGGER amlite_resource_updated AFTER UPDATE ON resources
        BEGIN UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1; END;
      CREATE TRIGGER amlite_resource_deleted AFTER DELETE ON resources
        BEGIN UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1; END;
      CREATE TRIGGER amlite_operation_inserted AFTER INSERT ON operations
        BEGIN UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1; END;
      CREATE TRIGGER amlite_operation_updated AFTER UPDATE OF status, doc ON operations
        BEGIN UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1; END;
      CREATE TRIGGER amlite_operation_deleted AFTER DELETE ON operations
        BEGIN UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1; END;
    `,
    // The triggers are deferred to the commit and bump once per transaction, so the counter's row is locked only
    // while a transaction commits, and last: no lock waits beside the writers' own, and no new deadlocks.
    postgres: `
      CREATE TABLE amlite_rules (
        id TEXT COLLATE "C" PRIMARY KEY,
        created_at TEXT COLLATE "C" NOT NULL,
        spec TEXT NOT NULL,
        hits BIGINT NOT NULL DEFAULT 0,
        remaining BIGINT,
        version BIGINT NOT NULL DEFAULT 1
      );
      CREATE TABLE amlite_counters (
        rule_id TEXT COLLATE "C" NOT NULL,
        bucket TEXT COLLATE "C" NOT NULL,
        window_start BIGINT NOT NULL,
        window_end BIGINT NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (rule_id, bucket, window_start)
      );
      CREATE INDEX amlite_counters_by_end ON amlite_counters (window_end);
      INSERT INTO amlite_rules (id, created_at, spec, hits, remaining)
        SELECT lower(doc->'body'->'rule'->>'id'), doc->'body'->'rule'->>'createdAt', (doc->'body'->'rule')::text,
               coalesce((doc->'body'->'rule'->>'hits')::bigint, 0), (doc->'body'->'rule'->>'count')::bigint
        FROM resources WHERE type = 'amlite/rules' AND doc->'body'->'rule'->>'id' IS NOT NULL
        ON CONFLICT (id) DO NOTHING;
      DELETE FROM resources WHERE key >= '/_amlite/' AND key < '/_amlite0';
      CREATE TABLE amlite_changes (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);
      INSERT INTO amlite_changes (id, seq) VALUES (1, 0);
      CREATE FUNCTION amlite_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF coalesce(current_setting('amlite.changed', true), '') <> '1' THEN
          PERFORM set_config('amlite.changed', '1', true);
          UPDATE amlite_changes SET seq = seq + 1 WHERE id = 1;
        END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER amlite_resource_changed AFTER INSERT OR UPDATE OR DELETE ON resources
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION amlite_note_change();
      CREATE CONSTRAINT TRIGGER amlite_operation_written AFTER INSERT OR DELETE ON operations
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION amlite_note_change();
      CREATE CONSTRAINT TRIGGER amlite_operation_changed AFTER UPDATE OF status, doc ON operations
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION amlite_note_change();
    `,
  },
  {
    version: 5,
    name: 'change counter moved by the commit code; bindings by tenant',
    // The triggers cost an UPDATE per row written (four per PUT), and PostgreSQL's held the counter's row locked
    // through every commit's WAL flush, so concurrent commits queued for it one fsync at a time instead of sharing
    // one. Now the store's commit code moves the counter once per commit that changed something: SQLite in the
    // transaction (amlite_changes, as before); PostgreSQL through a sequence advanced just after the commit (never
    // locked; a reader that sees the new value sees the commit). The index lists a tenant's subscriptions.
    sqlite: `
      DROP TRIGGER IF EXISTS amlite_resource_inserted;
      DROP TRIGGER IF EXISTS amlite_resource_updated;
      DROP TRIGGER IF EXISTS amlite_resource_deleted;
      DROP TRIGGER IF EXISTS amlite_operation_inserted;
      DROP TRIGGER IF EXISTS amlite_operation_updated;
      DROP TRIGGER IF EXISTS amlite_operation_deleted;
      CREATE INDEX tenant_bindings_by_tenant ON tenant_bindings (tenant_id, subscription_id);
    `,
    postgres: `
      DROP TRIGGER IF EXISTS amlite_resource_changed ON resources;
      DROP TRIGGER IF EXISTS amlite_operation_written ON operations;
      DROP TRIGGER IF EXISTS amlite_operation_changed ON operations;
      DROP FUNCTION IF EXISTS amlite_note_change();
      CREATE SEQUENCE amlite_change_seq;
      SELECT setval('amlite_change_seq', (SELECT seq FROM amlite_changes WHERE id = 1) + 1);
      CREATE INDEX tenant_bindings_by_tenant ON tenant_bindings (tenant_id, subscription_id);
    `,
  },
  {
    version: 6,
    name: 'resources and operations as rowid tables',
    // A WITHOUT ROWID table keeps each whole row in its primary key's b-tree, which suits rows of a few dozen bytes;
    // a resource's document is one to several KB, so few fit a page and every write rebalances the key's tree. As
    // rowid tables (the key a unique index) a write touches fewer pages and a LIST reads them in order 2-3x faster.
    // PostgreSQL's tables are heaps with their indexes beside them already: nothing to change there.
    sqlite: `
      CREATE TABLE resources_rowid (
        key TEXT NOT NULL UNIQUE,
        id TEXT NOT NULL,
        parent_key TEXT NOT NULL,
        type TEXT NOT NULL,
        etag TEXT NOT NULL,
        route TEXT,
        doc TEXT NOT NULL
      );
      INSERT INTO resources_rowid (key, id, parent_key, type, etag, route, doc)
        SELECT key, id, parent_key, type, etag, route, doc FROM resources ORDER BY key;
      DROP TABLE resources;
      ALTER TABLE resources_rowid RENAME TO resources;
      CREATE UNIQUE INDEX resources_by_route ON resources (route) WHERE route IS NOT NULL;
      CREATE INDEX resources_by_parent ON resources (parent_key, type, key);
      CREATE INDEX resources_by_type ON resources (type, key);
      CREATE TABLE operations_rowid (
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        doc TEXT NOT NULL,
        due_at INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO operations_rowid (id, status, doc, due_at, owner, lease_until)
        SELECT id, status, doc, due_at, owner, lease_until FROM operations;
      DROP TABLE operations;
      ALTER TABLE operations_rowid RENAME TO operations;
      CREATE INDEX operations_open ON operations (due_at) WHERE status = 'InProgress';
      CREATE INDEX operations_recent ON operations (json_extract(doc, '$.startTime') DESC);
    `,
    postgres: `SELECT 1`,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class SchemaError extends Error {}

/** The migrations a database at `applied` versions still needs; refuses a database made by a newer amlite. */
export function pendingMigrations(applied: number[]): Migration[] {
  const newest = Math.max(0, ...applied);
  if (newest > LATEST_VERSION) {
    throw new SchemaError(
      `the database's schema is at version ${newest}, newer than this amlite knows (${LATEST_VERSION}): upgrade amlite, or use another database`,
    );
  }
  const done = new Set(applied);
  return MIGRATIONS.filter((m) => !done.has(m.version));
}
