// Group commit under a crash: a child process commits through the Store from many concurrent writers (so their
// commits share fsyncs), prints each write once its commit has resolved (acknowledged), and is SIGKILLed mid-load.
// Reopened, the store holds every acknowledged write: each writer's resource is at its last acknowledged version
// or the one after it (committed, not yet acknowledged when the process died); never older.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite.js';
import { PostgresStore } from '../src/store/postgres.js';
import type { Store } from '../src/store/types.js';
import { describeWithPostgres } from './support/with-postgres.js';
import { startPostgres, type RunningPostgres } from './support/postgres.js';

const WRITERS = 16;
/** Acknowledged writes to see before the kill (the load runs well past it: the kill lands mid-flight). */
const ACKS_BEFORE_KILL = 400;
const src = (p: string) => pathToFileURL(resolve('src/store', p)).href;

/** The child: opens the store, then each writer creates its resource and replaces it with ifEtag in a loop. */
const CHILD = `
const [kind, where] = process.argv.slice(-2);
const store = kind === 'sqlite'
  ? new (await import(${JSON.stringify(src('sqlite.ts'))})).SqliteStore(where)
  : await (await import(${JSON.stringify(src('postgres.ts'))})).PostgresStore.open(where);
const doc = (w, n) => ({ key: '/w/' + w, id: '/w/' + w, parentKey: '/w', type: 't', name: String(w),
  body: { n }, systemData: {}, internal: {}, etag: w + '-' + n, createdAt: '', updatedAt: '' });
process.stdout.write('ready\\n');
await Promise.all(Array.from({ length: ${WRITERS} }, async (_, w) => {
  if (!(await store.commit([{ op: 'insert', resource: doc(w, 0) }]))) throw new Error('insert ' + w);
  process.stdout.write('ack ' + w + ' 0\\n');
  for (let n = 1; ; n++) {
    const ok = await store.commit([{ op: 'update', resource: doc(w, n), ifEtag: w + '-' + (n - 1) },
      { op: 'putOperation', operation: { id: 'op-' + w, status: 'InProgress', dueAt: n } }]);
    if (!ok) throw new Error('update ' + w + ' ' + n);
    process.stdout.write('ack ' + w + ' ' + n + '\\n');
  }
}));
`;

/** Runs the child on the store until ACKS_BEFORE_KILL acknowledgements, kills it; returns the last ack per writer. */
async function loadAndKill(kind: 'sqlite' | 'postgres', where: string): Promise<Map<number, number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, '--', kind, where], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked = new Map<number, number>();
  let count = 0;
  let err = '';
  let rest = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = once(child, 'exit');
  await new Promise<void>((done, fail) => {
    child.on('exit', () => fail(new Error(`the writer exited before the kill: ${err.slice(-2000)}`)));
    child.stdout!.on('data', (c: Buffer) => {
      const lines = (rest + c.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const m = /^ack (\d+) (\d+)$/.exec(line);
        if (!m) continue;
        acked.set(Number(m[1]), Math.max(acked.get(Number(m[1])) ?? -1, Number(m[2])));
        if (++count === ACKS_BEFORE_KILL) {
          child.kill('SIGKILL');
          done();
        }
      }
    });
  });
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');
  return acked;
}

async function verify(store: Store, acked: Map<number, number>): Promise<void> {
  assert.equal(acked.size, WRITERS, 'every writer was acknowledged at least once');
  for (const [w, n] of acked) {
    const stored = await store.get(`/w/${w}`);
    assert.ok(stored, `writer ${w}: its acknowledged resource is gone`);
    const version = (stored.body as { n: number }).n;
    assert.ok(version === n || version === n + 1, `writer ${w}: acknowledged version ${n}, stored ${version}`);
    assert.equal(stored.etag, `${w}-${version}`);
  }
}

test('SQLite file: every write acknowledged before a SIGKILL during concurrent commits is there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amlite-group-commit-'));
  try {
    const file = join(dir, 'amlite.db');
    const acked = await loadAndKill('sqlite', file);
    const raw = new Database(file);
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    raw.close();
    const store = new SqliteStore(file);
    try {
      await verify(store, acked);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describeWithPostgres('PostgreSQL (fsync on)', () => {
  let server: RunningPostgres | undefined;
  before(async () => {
    server = await startPostgres({ durable: true });
  });
  after(() => server?.stop());

  test('every write acknowledged before a SIGKILL of the amlite process is there', async () => {
    const url = await server!.freshDatabase('amlite_group_commit');
    const acked = await loadAndKill('postgres', url);
    const store = await PostgresStore.open(url);
    try {
      await verify(store, acked);
    } finally {
      await store.close();
    }
  });
});
