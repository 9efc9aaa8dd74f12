// The Azure CLI (Debian's azure-cli) driven against amlite the way a user does it: a clean shell, a fresh
// AZURE_CONFIG_DIR, the recipe `amlite connect az` prints. Shared by test/cli-az.test.ts and
// test/deployments-clients.test.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { certDir } from './harness.js';
import { connectCli } from '../../src/cli/connect.js';

/** One az command (the CLI starts slowly on a busy machine); generous, not a timing assertion. */
export const AZ_TIMEOUT_MS = 180_000;

const azVersion = spawnSync('az', ['version', '--output', 'json'], { encoding: 'utf8', timeout: AZ_TIMEOUT_MS });
/** For a test's `skip`: false when `az` runs, else why not. */
export const azSkip: false | string =
  azVersion.status === 0
    ? false
    : 'the Azure CLI (az) is not on PATH: install it (Debian: apt-get install azure-cli; .ci/run does) to run this test';

/** A user's fresh shell: none of the runner's trust settings, an empty CLI profile, no telemetry or surveys. */
export function cleanEnv(configDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (
      !/^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|AMLITE_.*|AZURE_.*)$/.test(k)
    )
      env[k] = v;
  return {
    ...env,
    AZURE_CONFIG_DIR: configDir,
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_SURVEY_MESSAGE: 'false',
    AZURE_CORE_NO_COLOR: 'true',
  };
}

export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), AZ_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out, err });
    });
  });
}

/**
 * Runs the recipe `amlite connect az` prints for `server` in `env` (bash -euo pipefail, as printed) and applies the
 * variables it exports to `env`, as in the user's shell. Returns the recipe.
 */
export async function connectAz(server: { url: string }, env: NodeJS.ProcessEnv): Promise<string> {
  const recipe = await connectCli(['az', '--url', server.url, '--cacert', join(certDir(), 'cert.pem')], {});
  const r = await run('bash', ['-euo', 'pipefail', '-c', recipe], env);
  assert.equal(r.code, 0, `${recipe}\n---\n${r.out}\n${r.err}`);
  for (const m of recipe.matchAll(/^export (\w+)="([^"]*)"$/gm)) env[m[1]] = m[2];
  return recipe;
}
