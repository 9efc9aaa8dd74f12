// A throwaway PostgreSQL server for tests and benchmarks: Debian's `postgresql` binaries, initdb in a temporary
// directory, a free loopback port, everything removed by stop(). initdb and postgres refuse to run as root, so as
// root they run as the `postgres` OS user (the package creates it), through setpriv (or runuser) which keep the
// server a direct child we can signal.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export interface RunningPostgres {
  /** A superuser URL of the `postgres` database. */
  url: string;
  port: number;
  /** Creates an empty database and returns its URL (one per test suite keeps suites apart). */
  freshDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** fsync and synchronous commit as a real deployment has them (benchmarks); tests run without (faster). */
  durable?: boolean;
}

/** The directory with initdb and postgres: the newest /usr/lib/postgresql/N/bin, else PATH. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions)
      if (existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')))
        return join(root, v, 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  return undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  if (!findPostgresBin()) {
    return "PostgreSQL is not installed (no initdb/postgres under /usr/lib/postgresql/*/bin or on PATH): install Debian's package with `apt-get install -y postgresql` (.ci/run does)";
  }
  if (process.getuid?.() === 0 && !postgresUser())
    return 'running as root, but there is no `postgres` OS user to run initdb/postgres as (the postgresql package creates it)';
  return undefined;
}

/**
 * For a test file: undefined when PostgreSQL can run here. Otherwise `fail` in CI (CI=true: PostgreSQL tests must not
 * silently vanish there) and `skip` on a developer's machine, each with the reason.
 */
export function postgresUnavailable(): { skip: string } | { fail: string } | undefined {
  const missing = postgresMissing();
  if (!missing) return undefined;
  return isCi() ? { fail: `CI=true and the PostgreSQL tests cannot run: ${missing}` } : { skip: `skipped: ${missing}` };
}

const isCi = () => /^(1|true|yes)$/i.test(process.env.CI ?? '');

function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/** How to run a PostgreSQL binary: as ourselves, or (as root) as the postgres user. */
function command(bin: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [bin, args];
  const user = postgresUser();
  if (!user) throw new Error(postgresMissing());
  if (spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0) {
    return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', bin, ...args]];
  }
  return ['runuser', ['-u', 'postgres', '--', bin, ...args]];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a fresh server; its data directory is removed by stop(). */
export async function startPostgres(options: PostgresOptions = {}): Promise<RunningPostgres> {
  const missing = postgresMissing();
  if (missing) throw new Error(missing);
  const bin = findPostgresBin()!;
  const dir = mkdtempSync(join(tmpdir(), 'amlite-pg-'));
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };

  const [initCmd, initArgs] = command(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const init = spawnSync(initCmd, initArgs, { cwd: dir, env, encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `initdb failed (${init.status ?? init.signal}): ${init.stderr || init.stdout || init.error?.message}`,
    );
  }

  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test process that ends without stop() must not leave a server behind.
    process.once('exit', () => {
      for (const p of running) p.kill('SIGQUIT');
    });
  }

  const settings = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
    '-c',
    'shared_buffers=64MB',
    ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ];
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const [cmd, args] = command(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings]);
    const proc = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    let log = '';
    proc.stdout!.on('data', (c: Buffer) => {
      log += c.toString();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        running.delete(proc);
        resolve();
      }),
    );
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const ready = await waitReady(url, exited);
    if (!ready) {
      lastError = log;
      proc.kill('SIGKILL');
      await exited;
      continue; // most likely the port was taken in between: try another
    }
    return {
      url,
      port,
      freshDatabase: async (prefix = 'amlite_test') => {
        const name = `${prefix}_${randomBytes(6).toString('hex')}`;
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          await admin.query(`CREATE DATABASE ${name}`);
        } finally {
          await admin.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGINT'); // fast shutdown: ends open sessions
          const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start:\n${lastError}`);
}

/** Connects until the server answers (true), or it exits or 30 s pass (false). */
async function waitReady(url: string, exited: Promise<void>): Promise<boolean> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 30_000;
  while (!gone && Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return true;
    } catch {
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}
