/**
 * ESLint's configuration for the whole project (re-exported by the root eslint.config.js, so its patterns are
 * relative to the project root). It lives here because eslint, typescript-eslint, @eslint/js and globals are
 * test/package.json's development dependencies: imported from this file, they resolve from test/node_modules.
 * `npm run lint` runs it with Prettier's check; `npm run format` applies Prettier, then ESLint's fixes.
 */
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores([
    'dist/',
    '**/node_modules/',
    '.amlite*/',
    'test-artifacts/',
    '.schemathesis*/',
    '.hypothesis/',
    '**/.venv/',
    'bench/results/',
    // The dashboard page's bundle is written to dist/dashboard/ui; never lint a bundle left beside its sources.
    'src/dashboard/ui/**/*.js',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Unused names are errors, except the codebase's deliberate discards, named `_`-something: a field dropped
      // by destructuring (`const { pendingOperation: _, ...internal } = x`), a loop that only drains
      // (`for await (const _ of req)`), a parameter kept for its position.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read the JSON bodies of answers whose shape is what they assert: `any` there is deliberate. src/, bench/
    // and scripts/ keep the rule.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/dashboard/ui/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
