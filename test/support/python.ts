import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The tests' venv (`npm run setup:python`, from test/python/requirements.txt). */
export const TEST_VENV = join(ROOT, 'test', 'python', '.venv');

/**
 * The first Python that imports every module named: AMLITE_PYTHON, the tests' venv, python3; or why there is none
 * (for a test's `skip`).
 */
export function pythonWith(modules: string[]): { python?: string; reason?: string } {
  const candidates = [process.env.AMLITE_PYTHON, join(TEST_VENV, 'bin', 'python3'), 'python3'].filter(
    (p): p is string => !!p && (p === 'python3' || existsSync(p)),
  );
  const probe = `import importlib.util, sys\nsys.exit(0 if all(importlib.util.find_spec(m) for m in ${JSON.stringify(modules)}) else 3)`;
  for (const python of candidates) {
    if (spawnSync(python, ['-c', probe]).status === 0) return { python };
  }
  return {
    reason: `no Python with ${modules.join(', ')} (tried ${candidates.join(', ')}; run npm run setup:python, or set AMLITE_PYTHON)`,
  };
}
