/**
 * `npm run build:dashboard`: bundles the dashboard page (Preact + TypeScript, src/dashboard/ui/) with esbuild into
 * dist/dashboard/ui/app.js and app.css, which the server serves under /_dashboard. Nothing is fetched at run time.
 * Type-checking the page is `tsc -p src/dashboard/ui/tsconfig.json` (part of `npm run typecheck` and `npm test`).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_DIR, PROJECT_ROOT, UI_SOURCES } from '../src/dashboard/bundle.js';

const ENTRY = join(PROJECT_ROOT, 'src', 'dashboard', 'ui', 'main.tsx');

export async function buildDashboard(): Promise<void> {
  await build({
    entryPoints: { app: ENTRY },
    outdir: BUNDLE_DIR,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(PROJECT_ROOT, 'src', 'dashboard', 'ui', 'tsconfig.json'),
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/** Whether the bundle exists and is newer than every source file of the page. */
export function dashboardBundleIsFresh(): boolean {
  let built: number;
  try {
    built = Math.min(statSync(join(BUNDLE_DIR, 'app.js')).mtimeMs, statSync(join(BUNDLE_DIR, 'app.css')).mtimeMs);
  } catch {
    return false;
  }
  const newest = (path: string): number => {
    const s = statSync(path);
    if (!s.isDirectory()) return s.mtimeMs;
    return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
  };
  return UI_SOURCES.every((p) => newest(p) <= built);
}

/** Builds the bundle unless it is already up to date. */
export async function ensureDashboardBundle(): Promise<void> {
  if (!dashboardBundleIsFresh()) await buildDashboard();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  await buildDashboard();
  process.stdout.write(`dashboard bundle: ${BUNDLE_DIR} (${Date.now() - started} ms)\n`);
}
