/**
 * The npm package as a user gets it: `npm pack` (its `prepare` builds dist) holds only what runs, and the tarball
 * installed globally into a temporary prefix gives an `amlite` on PATH that works from another folder.
 *
 * The pack runs in a staged copy of the project (so the checkout's own dist is left alone). The install takes the
 * runtime dependencies from npm's cache when it has them (filled by `npm ci`), and does not compile better-sqlite3
 * again: it gets the addon this checkout built, for the same version and the same Node.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const npmCli = /npm-cli\.js$/.test(process.env.npm_execpath ?? '') ? process.env.npm_execpath : undefined;

/** npm under the Node running the tests (npm_execpath when npm started us, else `npm` on PATH). */
function npm(args: string[], opts: SpawnSyncOptions) {
  const run = npmCli
    ? spawnSync(process.execPath, [npmCli, ...args], { encoding: 'utf8', ...opts })
    : spawnSync('npm', args, { encoding: 'utf8', ...opts });
  assert.equal(run.status, 0, `npm ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run;
}

describe('the npm package', { timeout: 300_000 }, () => {
  let tmp: string;
  let tarball: string;
  let files: string[];
  let prefix: string;
  let elsewhere: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'amlite-pack-'));
    const stage = join(tmp, 'stage');
    mkdirSync(stage);
    for (const f of [
      'package.json',
      'package-lock.json',
      'README.md',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'scripts',
    ]) {
      cpSync(join(root, f), join(stage, f), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
    npm(['pack', '--pack-destination', tmp, '--no-audit', '--no-fund'], { cwd: stage });
    tarball = join(
      tmp,
      readdirSync(tmp).find((f) => /^amlite-.*\.tgz$/.test(f))!,
    );
    const list = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    files = list.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));

    prefix = join(tmp, 'prefix');
    // --engine-strict: a runtime dependency that wants a newer Node than the one running fails the install.
    npm(
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--ignore-scripts',
        '--engine-strict',
        '--no-audit',
        '--no-fund',
        tarball,
      ],
      { cwd: tmp },
    );
    const installed = join(prefix, 'lib', 'node_modules', 'amlite');
    provideSqliteAddon(join(installed, 'node_modules', 'better-sqlite3'));
    elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    env = { ...process.env, PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH}`, AMLITE_URL: undefined };
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** Runs the installed `amlite` (through PATH, as a user would) from a folder outside the checkout. */
  const amlite = (...args: string[]) =>
    spawnSync('amlite', args, { cwd: elsewhere, env, encoding: 'utf8', timeout: 30_000 });

  it('holds only what runs: the built dist, the dashboard bundle, README and package.json', () => {
    for (const f of [
      'package.json',
      'README.md',
      'dist/main.js',
      'dist/server.js',
      'dist/dashboard/ui/app.js',
      'dist/dashboard/ui/app.css',
    ])
      assert.ok(files.includes(f), `${f} is in the tarball`);
    const extra = files.filter(
      (f) => !/^dist\/.+\.(js|css)$/.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f),
    );
    assert.deepEqual(extra, [], 'nothing else (no src, test, bench, scripts, source maps)');
  });

  it('installs without the development tools', () => {
    const deps = readdirSync(join(prefix, 'lib', 'node_modules', 'amlite', 'node_modules'));
    for (const dev of ['typescript', 'tsx', 'esbuild', 'node-llama-cpp', '@azure'])
      assert.ok(!deps.includes(dev), `${dev} not installed`);
    assert.ok(deps.includes('fastify') && deps.includes('better-sqlite3'));
  });

  it('`amlite --help`, `amlite token` and `amlite control --help` work from another folder', () => {
    const help = amlite('--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--port/);
    const token = amlite('token');
    assert.equal(token.status, 0, token.stderr);
    const [header, payload] = token.stdout.trim().split('.');
    assert.equal(JSON.parse(Buffer.from(header!, 'base64url').toString()).typ, 'JWT');
    assert.equal(typeof JSON.parse(Buffer.from(payload!, 'base64url').toString()).exp, 'number');
    const control = amlite('control', '--help');
    assert.equal(control.status, 0, control.stderr);
    assert.match(control.stdout, /amlite control/);
  });

  it('starts the server (--port 0 --in-memory), which answers /health', async () => {
    const dataDir = join(tmp, 'data');
    const child = spawn('amlite', ['--port', '0', '--in-memory', '--data-dir', dataDir], {
      cwd: elsewhere,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          const m = /listening on (https:\/\/\S+)/.exec(out);
          if (m) resolveUrl(m[1]!);
        });
        child.stderr.on('data', (d: Buffer) => {
          err += d;
        });
        child.once('exit', (code) => reject(new Error(`amlite exited (${code}) before listening:\n${out}\n${err}`)));
      });
      const ca = readFileSync(join(dataDir, 'cert.pem'));
      const health = await new Promise<{ status: number; body: string }>((done, fail) => {
        request(`${url}/health`, { ca }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            body += d;
          });
          res.on('end', () => done({ status: res.statusCode!, body }));
        })
          .on('error', fail)
          .end();
      });
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.body).status, 'ok');
    } finally {
      child.kill('SIGTERM');
    }
  });
});

/**
 * better-sqlite3's addon as this checkout built it (same version, same Node), so the test does not compile SQLite
 * a second time; a different version is rebuilt as npm would.
 */
function provideSqliteAddon(dir: string) {
  const version = (d: string) => JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).version as string;
  const ours = join(root, 'node_modules', 'better-sqlite3');
  if (version(dir) === version(ours)) {
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    copyFileSync(
      join(ours, 'build', 'Release', 'better_sqlite3.node'),
      join(dir, 'build', 'Release', 'better_sqlite3.node'),
    );
  } else {
    npm(['rebuild', 'better-sqlite3', '--foreground-scripts'], { cwd: join(dir, '..', '..') });
  }
}
