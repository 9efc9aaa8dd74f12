import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layers' import rules (ARCHITECTURE.md): src/arm is ARM only — it imports nothing from the providers, test
 * control, auth, the data plane or the dashboard, and names no provider namespace or resource type; the data plane
 * (src/inference) names no resource type and knows nothing of test control.
 */
const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file imports (static, re-exports and dynamic), as a path below src/. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(src, resolve(dirname(file), s)).replaceAll('\\', '/'));
}

/** The text without comments: a rule is about what the code names, not what a comment says. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

function violations(layer: string, forbidden: string[], names: RegExp): string[] {
  const found: string[] = [];
  for (const file of filesUnder(join(src, layer))) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file);
    for (const target of importsOf(file, text)) {
      const bad = forbidden.find((f) => target === f || target.startsWith(`${f}/`));
      if (bad) found.push(`${rel} imports ${target} (${layer} may not import from src/${bad})`);
    }
    const named = names.exec(code(text));
    if (named) found.push(`${rel} names '${named[0]}'`);
  }
  return found;
}

const PROVIDER_NAMES =
  /Microsoft\.MachineLearningServices|serverlessEndpoints|inferencePools|mfeOperation\w*|workspaces/i;
const ARM_MAY_NOT_IMPORT = ['providers', 'resources', 'control', 'auth', 'inference', 'dashboard'];

test('src/arm imports nothing from providers, control, auth, inference or the dashboard; names no provider', () => {
  assert.deepEqual(violations('arm', ARM_MAY_NOT_IMPORT, PROVIDER_NAMES), []);
});

test('src/inference names no resource type and imports nothing from test control or the providers', () => {
  assert.deepEqual(violations('inference', ['control', 'providers', 'resources'], PROVIDER_NAMES), []);
});

test('src/templates (the template language) imports only ARM errors: nothing of the store, the engine or a provider', () => {
  const forbidden = ['providers', 'resources', 'control', 'auth', 'inference', 'dashboard', 'deployments', 'store'];
  assert.deepEqual(violations('templates', forbidden, PROVIDER_NAMES), []);
});

test('src/deployments reaches resources through the type registry and the engine, never a provider directly', () => {
  const forbidden = ['providers', 'resources', 'control', 'auth', 'inference', 'dashboard'];
  assert.deepEqual(violations('deployments', forbidden, PROVIDER_NAMES), []);
});

test('the import check sees static, re-exported and dynamic imports, and a type string in code', () => {
  const file = join(src, 'arm', 'example.ts');
  const text = [
    "import type { X } from '../control/control.js';",
    "export * from '../providers/machine-learning/index.js';",
    "const m = await import('../auth/bearer.js');",
    "import './lro/index.js';",
  ].join('\n');
  assert.deepEqual(importsOf(file, text), [
    'control/control.js',
    'providers/machine-learning/index.js',
    'auth/bearer.js',
    'arm/lro/index.js',
  ]);
  assert.ok(PROVIDER_NAMES.test(code("const t = 'Microsoft.MachineLearningServices/workspaces';")));
  assert.ok(!PROVIDER_NAMES.test(code('/** e.g. Microsoft.MachineLearningServices/workspaces */ const x = 1;')));
});
