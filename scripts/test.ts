/**
 * `npm test`: makes (once) the certificate the test servers serve, trusts it through NODE_EXTRA_CA_CERTS (Node reads
 * that only at start, hence this wrapper), and runs every test file with Node's own test runner.
 *
 * The clients the tests drive amlite with (Azure SDKs, openai, Playwright, ...) are not in `npm ci`: they are the test
 * package's (test/package.json), installed into test/node_modules by `npm run setup:test`. Without them this stops at
 * once, naming that command. `tsx scripts/test.ts --check-setup` does only that check (`npm test` runs it before tsc).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadOrCreateCertificate } from '../src/tls.js';
import { ensureDashboardBundle } from './build-dashboard.js';

const root = resolve(import.meta.dirname, '..');
const SETUP_TEST_COMMAND = 'npm run setup:test';

/** The test package's dependencies that test/node_modules lacks, or holds at another version than its lock file. */
function staleTestClients(): string[] {
  const testDir = join(root, 'test');
  const lock = JSON.parse(readFileSync(join(testDir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
  };
  const wanted = Object.keys(lock.packages['']?.dependencies ?? {});
  return wanted.filter((name) => {
    const manifest = join(testDir, 'node_modules', name, 'package.json');
    if (!existsSync(manifest)) return true;
    return JSON.parse(readFileSync(manifest, 'utf8')).version !== lock.packages[`node_modules/${name}`]?.version;
  });
}

const stale = staleTestClients();
if (stale.length) {
  const what = existsSync(join(root, 'test', 'node_modules'))
    ? `test/node_modules lacks (or holds another version of) ${stale.join(', ')}`
    : 'test/node_modules is missing';
  console.error(
    `${what}: the clients the tests and benchmarks use (Azure SDKs, openai, Playwright, ...) are not ` +
      `part of \`npm ci\`. Install them with:\n\n  ${SETUP_TEST_COMMAND}\n`,
  );
  process.exit(1);
}
if (process.argv.includes('--check-setup')) process.exit(0);

const certDir = join(root, '.amlite-test');
const tls = await loadOrCreateCertificate(certDir);
linkTestClients(certDir);
// The dashboard's browser test loads the page's bundle: build it when missing or older than its source.
await ensureDashboardBundle();
const only = process.argv.slice(2);
const files = only.length ? only : ['test', 'test/unit'].flatMap((dir) => testFilesIn(dir));

const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, AMLITE_TEST_CERT_DIR: certDir, NODE_EXTRA_CA_CERTS: tls.certPath },
});
process.exit(run.status ?? 1);

/**
 * Some tests write programs into .amlite-test/ and run them as a user would (README snippets, `amlite connect`
 * recipes): their `import '@azure/identity'` walks up from there, so .amlite-test/node_modules is the test package's.
 */
function linkTestClients(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const link = join(dir, 'node_modules');
  if (existsSync(link)) return;
  if (isSymlink(link)) rmSync(link); // dangling
  symlinkSync(join('..', 'test', 'node_modules'), link, 'junction');
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The test files directly in `dir` (relative to the root), sorted; none when it does not exist. */
function testFilesIn(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));
}
