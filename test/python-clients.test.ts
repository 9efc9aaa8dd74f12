/**
 * The Python clients Azure ML users run (issue 15 §3), pinned in test/python/requirements.txt: azure-ai-ml,
 * azure-mgmt-machinelearningservices, azure-mgmt-resource, azure-identity, azure-ai-inference and openai, driven by
 * pytest (test/python/test_clients.py) against a strict-auth amlite started here. Skipped, with the reason, only when
 * no Python has those packages (npm run setup:python installs them).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { certDir, startTestServer, type RunningServer } from './support/harness.js';
import { pythonWith } from './support/python.js';

const ROOT = resolve(import.meta.dirname, '..');
const MODULES = [
  'pytest',
  'azure.ai.ml',
  'azure.mgmt.machinelearningservices',
  'azure.mgmt.resource',
  'azure.identity',
  'azure.ai.inference',
  'openai',
];
/** Generous: the suite takes seconds; pip-installed clients import slowly on a busy machine. */
const PYTEST_TIMEOUT_MS = 300_000;

const { python, reason } = pythonWith(MODULES);
let server: RunningServer | undefined;
before(async () => {
  if (python) server = await startTestServer({ auth: 'strict' });
});
after(() => server?.close());

test('the Python clients drive amlite unchanged (pytest test/python)', { skip: reason ?? false }, async (t) => {
  const cert = join(certDir(), 'cert.pem');
  // Spawned, not spawnSync: the server answering pytest runs in this process.
  const child = spawn(
    python!,
    ['-m', 'pytest', '-q', '-rs', '--durations=5', '-p', 'no:cacheprovider', join(ROOT, 'test/python')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        AMLITE_URL: server!.url,
        AMLITE_TENANT_ID: '00000000-0000-0000-0000-000000000001',
        AMLITE_CLIENT_ID: '0a11ce00-0000-4000-8000-000000000001',
        AMLITE_CLIENT_SECRET: 'any-secret',
        AMLITE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
        REQUESTS_CA_BUNDLE: cert,
        SSL_CERT_FILE: cert,
        PYTHONDONTWRITEBYTECODE: '1',
        // Only pytest's own plugins: schemathesis and hypothesis (same venv) add seconds of imports and nothing here.
        PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1',
      },
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), PYTEST_TIMEOUT_MS);
  const code = await new Promise((r) => child.on('close', r));
  clearTimeout(timer);
  assert.equal(code, 0, out);
  assert.match(out, /\d+ passed/, out);
  // pytest's summary: skip reasons (-rs) and the slowest tests.
  for (const line of out.slice(out.lastIndexOf('slowest')).trim().split('\n')) t.diagnostic(line);
});
