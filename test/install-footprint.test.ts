/**
 * The default install stays small (issue 13, item 1): `npm ci` installs only what runs and builds amlite; the clients
 * the tests and benchmarks drive it with are test/package.json's (`npm run setup:test`), and every import still finds
 * its package where Node looks for it (walking up from the importing file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

/** What a clean `npm ci` (runtime dependencies and build tools, without `npm run setup:llama`) may take on disk. */
export const DEFAULT_INSTALL_MAX_MB = 150;
/** The only development dependencies of the root package: what builds and typechecks amlite. */
const BUILD_TOOLS = ['@types/better-sqlite3', '@types/node', '@types/pg', 'esbuild', 'preact', 'tsx', 'typescript'];
/** Loaded on demand, installed by `npm run setup:llama` (see src/inference/backends/llama-cpp.ts). */
const OPT_IN = ['node-llama-cpp'];

const root = resolve(import.meta.dirname, '..');
type Lock = { packages: Record<string, { version?: string; optional?: boolean; dev?: boolean }> };
type Manifest = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
const json = <T>(path: string): T => JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
const rootPkg = json<Manifest>('package.json');
const testPkg = json<Manifest>('test/package.json');
const runtime = Object.keys(rootPkg.dependencies ?? {});
const buildTools = Object.keys(rootPkg.devDependencies ?? {});
const testClients = Object.keys(testPkg.dependencies ?? {});

function tsFilesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFilesUnder(path);
    return /\.tsx?$/.test(e.name) ? [path] : [];
  });
}

/** The packages a source file imports by name (static, re-exports, dynamic), as TypeScript's own scanner finds them. */
function packagesImportedBy(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  const specs = importedFiles.map((f) => f.fileName);
  return [
    ...new Set(
      specs
        .filter((s) => !s.startsWith('.') && !s.startsWith('node:'))
        .map((s) => /^(@[\w.-]+\/)?[\w.-]+/.exec(s)?.[0] ?? s),
    ),
  ];
}

/** Each file of `dirs` whose imports name a package outside `allowed`, with those packages. */
function strayImports(dirs: string[], allowed: string[], skip: (file: string) => boolean = () => false): string[] {
  return dirs
    .flatMap(tsFilesUnder)
    .filter((f) => !skip(f))
    .flatMap((file) => {
      const stray = packagesImportedBy(file).filter((p) => !allowed.includes(p));
      return stray.length ? [`${file}: ${stray.join(', ')}`] : [];
    });
}

/** Bytes on disk (as du counts them: a file hard-linked twice once) of a directory, without its nested node_modules. */
function diskBytes(dir: string, seen: Set<string>): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory() && e.name === 'node_modules') continue;
    const st = lstatSync(path);
    const inode = `${st.dev}:${st.ino}`;
    if (!seen.has(inode)) bytes += st.blocks * 512;
    seen.add(inode);
    if (e.isDirectory()) bytes += diskBytes(path, seen);
  }
  return bytes;
}

test('the root package holds only the runtime dependencies and the build tools', () => {
  const extra = buildTools.filter((p) => !BUILD_TOOLS.includes(p));
  assert.deepEqual(extra, [], 'no test or bench client in devDependencies');
  const shared = testClients.filter((p) => runtime.includes(p) || buildTools.includes(p));
  assert.deepEqual(shared, ['@types/node'], 'the test package repeats only @types/node');
});

test('@types/node is one version in both packages (tsc would otherwise load two copies of its globals)', () => {
  const version = (lock: string) => json<Lock>(lock).packages['node_modules/@types/node']?.version;
  assert.ok(version('package-lock.json'));
  assert.equal(version('test/package-lock.json'), version('package-lock.json'));
});

test('every import finds its package: src in the runtime dependencies, test/ and bench/ in test/node_modules', () => {
  const ui = (f: string) => f.startsWith(join('src', 'dashboard', 'ui'));
  assert.deepEqual(strayImports(['src'], [...runtime, ...OPT_IN], ui), [], 'src imports only runtime dependencies');
  assert.deepEqual(strayImports(['src/dashboard/ui', 'scripts'], [...runtime, ...buildTools]), []);
  assert.deepEqual(
    strayImports(['test'], [...runtime, ...buildTools, ...testClients]),
    [],
    'test/ imports only what the root or the test package installs',
  );
  // bench/ has no node_modules of its own: its test-package clients come through test/support/bench-clients.ts.
  assert.deepEqual(strayImports(['bench'], [...runtime, ...buildTools]), [], 'bench/ imports clients via test/support');
});

test(`a clean npm ci installs less than ${DEFAULT_INSTALL_MAX_MB} MB`, (t) => {
  // What the root lock file installs on this platform, measured where it is installed (extras such as
  // `npm run setup:llama`'s packages are not in the lock file, so they are not counted).
  const installed = Object.keys(json<Lock>('package-lock.json').packages).filter(
    (path) => path.startsWith('node_modules/') && existsSync(join(root, path)),
  );
  const seen = new Set<string>();
  const mb = installed.reduce((sum, path) => sum + diskBytes(join(root, path), seen), 0) / 2 ** 20;
  t.diagnostic(`npm ci: ${installed.length} packages, ${mb.toFixed(1)} MB`);
  assert.ok(mb < DEFAULT_INSTALL_MAX_MB, `node_modules holds ${mb.toFixed(1)} MB of the lock file's packages`);
});
