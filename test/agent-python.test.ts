/**
 * The agent loop of test/python/agent_loop.py, with the openai Python package and pydantic: skipped, with the reason,
 * when no Python has both (AMLITE_PYTHON, test/python/.venv, python3 are tried).
 */
import { pythonWith } from './support/python.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { RunningServer } from './support/harness.js';
import { agentEndpoint, startAgentServer } from './support/agent-harness.js';

const ROOT = resolve(import.meta.dirname, '..');

const { python, reason } = pythonWith(['openai', 'pydantic']);
let server: RunningServer | undefined;
before(async () => {
  if (python) server = await startAgentServer();
});
after(() => server?.close());

test(
  'openai Python agent loop: tools called, results fed back, final answers; pydantic parse',
  { skip: reason ?? false },
  async () => {
    const ep = await agentEndpoint(server!, 'python-agent');
    // Spawned, not spawnSync: the server answering the script runs in this process.
    const child = spawn(python!, [join(ROOT, 'test/python/agent_loop.py')], {
      env: {
        ...process.env,
        AGENT_BASE_URL: ep.uri,
        AGENT_KEY: ep.key,
        SSL_CERT_FILE: process.env.NODE_EXTRA_CA_CERTS ?? '',
      },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0, out);
    assert.match(out, /agent loop ok/);
  },
);
