import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The project root, from src/dashboard/ (tsx) or dist/dashboard/ (built) alike. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where `npm run build:dashboard` writes the page's bundle (app.js, app.css) and where the server reads it. */
export const BUNDLE_DIR = join(PROJECT_ROOT, 'dist', 'dashboard', 'ui');

/** The page's source: the bundle is stale when any of these is newer than it. */
export const UI_SOURCES = [
  join(PROJECT_ROOT, 'src', 'dashboard', 'ui'),
  join(PROJECT_ROOT, 'src', 'dashboard', 'api.ts'),
];
