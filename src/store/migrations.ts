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
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class SchemaError extends Error {}

/** The migrations a database at `applied` versions still needs; refuses a database made by a newer amlite. */
export function pendingMigrations(applied: number[]): Migration[] {
  const newest = Math.max(0, ...applied);
  if (newest > LATEST_VERSION) {
    throw new SchemaError(`the database's schema is at version ${newest}, newer than this amlite knows (${LATEST_VERSION}): upgrade amlite, or use another database`);
  }
  const done = new Set(applied);
  return MIGRATIONS.filter((m) => !done.has(m.version));
}
