// `amlite connect node|python|curl`: every printed recipe is run as printed, in a clean environment (no trust
// settings inherited from the test runner), against a loose and a strict server.
import { pythonWith } from './support/python.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certDir, freshDataDir, startTestServer, type RunningServer } from './support/harness.js';
import { startAmlite } from '../src/server.js';
import { connectCli, CONNECT_TOOLS } from '../src/cli/connect.js';
import { UsageError } from '../src/control/cli.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RUN_TIMEOUT_MS = 120_000;

/** The environment a user's fresh shell has: nothing of the test runner's trust settings or amlite variables. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|AMLITE_.*|NODE_OPTIONS)$/.test(
        k,
      )
    )
      continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** `export NAME="value"` lines of a recipe. */
function exportsOf(recipe: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of recipe.matchAll(/^export (\w+)="((?:[^"\\]|\\.)*)"$/gm)) env[m[1]] = m[2].replace(/\\(.)/g, '$1');
  return env;
}

/** The program after the `# app.xxx:` line. */
const programOf = (recipe: string, file: string) =>
  recipe.split(new RegExp(`^# ${file.replace('.', '\\.')}:.*$`, 'm'))[1];

/** Runs a program without blocking this process (the servers under test live in it). */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = ROOT,
): Promise<{ code: number | null; out: string; stdout: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out: `${stdout}${stderr}`, stdout });
    });
  });
}

/** The Python with the SDK the recipe's program needs, or python3 (which runs the stdlib fallback). */
const sdkPython = (modules: string[]) => pythonWith(modules).python;

/** A directory with an `amlite` command (this checkout's CLI), as a global install puts on PATH. */
function amliteOnPath(): string {
  const dir = mkdtempSync(join(freshDataDir('amlite-bin-'), 'bin-'));
  const shim = join(dir, 'amlite');
  writeFileSync(
    shim,
    `#!/bin/sh\nexec "${process.execPath}" --import "${join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')}" "${join(ROOT, 'src/main.ts')}" "$@"\n`,
  );
  chmodSync(shim, 0o755);
  return dir;
}

/** Runs the Python recipe: the SDK program when azure-mgmt-resource is importable, else its pieces with the stdlib. */
function runPython(recipe: string, strict: boolean, work: string) {
  const env = cleanEnv(exportsOf(recipe));
  const program = programOf(recipe, 'app.py');
  const python = sdkPython(strict ? ['azure.mgmt.resource', 'azure.identity'] : ['azure.mgmt.resource', 'azure.core']);
  if (python) {
    writeFileSync(join(work, 'app.py'), program);
    return run(python, [join(work, 'app.py')], env, work);
  }
  const values = program
    .split('\n')
    .filter((l) => /^(subscription_id|tenant_id|client_id|client_secret) = /.test(l))
    .join('\n');
  const credentialClass = /^class AmliteCredential:[\s\S]*?(?=^credential = )/m.exec(program)?.[0] ?? '';
  const token = strict
    ? `form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
    "scope": "https://management.azure.com/.default"}).encode()
token = json.load(urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{tenant_id}/oauth2/v2.0/token", data=form),
    context=ctx))["access_token"]`
    : `AccessToken = collections.namedtuple("AccessToken", "token expires_on")
${credentialClass}
token = AmliteCredential().get_token("https://management.azure.com/.default").token`;
  const script = `import base64, collections, json, os, ssl, time, urllib.parse, urllib.request
endpoint = os.environ.get("AMLITE_URL")
${values}
ctx = ssl.create_default_context()  # reads SSL_CERT_FILE
${token}
req = urllib.request.Request(f"{endpoint}/subscriptions/{subscription_id}/resourcegroups/my-rg?api-version=2025-04-01",
    data=json.dumps({"location": "eastus"}).encode(), method="PUT",
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, context=ctx))["id"])
`;
  return run('python3', ['-c', script], env, work);
}

for (const mode of ['loose', 'strict'] as const) {
  describe(`amlite connect, ${mode} auth`, () => {
    let server: RunningServer;
    let work: string;
    const cacert = join(certDir(), 'cert.pem');
    const connect = (tool: string) => connectCli([tool, '--url', server.url, '--cacert', cacert], {});
    before(async () => {
      server =
        mode === 'loose'
          ? await startTestServer()
          : await startAmlite({
              port: 0,
              host: '127.0.0.1',
              dataDir: freshDataDir('amlite-connect-'),
              inMemory: true,
              auth: 'strict',
              logLevel: 'silent',
              certFile: cacert,
              keyFile: join(certDir(), 'key.pem'),
            });
      // Inside the checkout, so that the program finds the Azure SDK packages in node_modules.
      mkdirSync(join(ROOT, '.amlite-test'), { recursive: true });
      work = mkdtempSync(join(ROOT, '.amlite-test', 'connect-'));
    });
    after(() => server?.close());

    test('node: the printed environment and app.mjs create a resource group with @azure/arm-resources', async () => {
      const recipe = await connect('node');
      assert.match(recipe, new RegExp(`auth: ${mode}`));
      const env = exportsOf(recipe);
      assert.equal(env.NODE_EXTRA_CA_CERTS, cacert);
      assert.equal(env.AMLITE_URL, server.url);
      writeFileSync(join(work, 'app.mjs'), programOf(recipe, 'app.mjs'));
      const out = await run(process.execPath, [join(work, 'app.mjs')], cleanEnv(env), work);
      assert.equal(out.code, 0, `${recipe}\n---\n${out.out}`);
      assert.match(out.stdout, /\/subscriptions\/00000000-0000-0000-0000-000000000001\/resourceGroups\/my-rg/i);
    });

    test("python: REQUESTS_CA_BUNDLE / SSL_CERT_FILE (system CAs + amlite's certificate) reach the server", async () => {
      const recipe = await connect('python');
      const env = exportsOf(recipe);
      assert.equal(env.REQUESTS_CA_BUNDLE, env.SSL_CERT_FILE);
      const bundle = readFileSync(env.SSL_CERT_FILE, 'utf8');
      assert.ok(bundle.trimEnd().endsWith(readFileSync(cacert, 'utf8').trim()), "ends with amlite's certificate");
      assert.ok((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length > 10, 'holds the system CAs too');
      assert.match(recipe, /credential_scopes=\["https:\/\/management\.azure\.com\/\.default"\]/);
      assert.match(
        recipe,
        mode === 'strict' ? /authority=endpoint,\s+disable_instance_discovery=True/ : /def get_token\(self, \*scopes/,
      );
      const out = await runPython(recipe, mode === 'strict', work);
      assert.equal(out.code, 0, `${recipe}\n---\n${out.out}`);
      assert.match(out.stdout, /\/resourceGroups\/my-rg/i);
    });

    test('curl: the printed commands run as printed (token, create, list)', async () => {
      const recipe = await connect('curl');
      const env = cleanEnv({ PATH: `${amliteOnPath()}:${process.env.PATH}` });
      const out = await run('bash', ['-euo', 'pipefail', '-c', recipe], env, work);
      assert.equal(out.code, 0, `${recipe}\n---\n${out.out}`);
      assert.match(out.stdout, /"name":"my-rg"/);
      assert.match(out.stdout, /"value":\[/);
    });

    test('terraform: the azapi settings take a token (as azidentity asks it) and reach ARM with SSL_CERT_FILE', async () => {
      const recipe = await connect('terraform');
      const env = cleanEnv({ PATH: process.env.PATH ?? '' });
      const out = await run(
        'bash',
        ['-euo', 'pipefail', '-c', `${recipe}\nenv | grep -E '^(ARM_|SSL_CERT_FILE)'`],
        env,
        work,
      );
      assert.equal(out.code, 0, `${recipe}\n---\n${out.out}`);
      const tf = readFileSync(join(work, 'amlite_provider.tf'), 'utf8');
      const setting = (name: string) => new RegExp(`${name}\\s*=\\s*"([^"]+)"`).exec(tf)?.[1];
      assert.equal(setting('resource_manager_endpoint'), `${server.url}/`);
      assert.match(tf, /disable_instance_discovery = true/);
      // What the provider's Go client does with these settings: a client-secret token from the authority host for
      // the audience's .default scope, then ARM calls at the endpoint, trusting SSL_CERT_FILE.
      const script = `import json, os, ssl, urllib.parse, urllib.request
ctx = ssl.create_default_context()
e = os.environ
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": e["ARM_CLIENT_ID"],
    "client_secret": e["ARM_CLIENT_SECRET"], "scope": e["AUD"] + ".default"}).encode()
tok = json.load(urllib.request.urlopen(urllib.request.Request(e["AUTHORITY"] + e["ARM_TENANT_ID"] +
    "/oauth2/v2.0/token", data=form), context=ctx))["access_token"]
req = urllib.request.Request(e["ARM"] + "subscriptions/" + e["ARM_SUBSCRIPTION_ID"] +
    "/resourcegroups?api-version=2025-04-01", headers={"Authorization": "Bearer " + tok})
print(json.load(urllib.request.urlopen(req, context=ctx))["value"] is not None)
`;
      const vars = Object.fromEntries(
        out.stdout
          .split('\n')
          .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
          .filter((m): m is RegExpExecArray => !!m)
          .map((m) => [m[1], m[2]]),
      );
      const py = await run(
        'python3',
        ['-c', script],
        cleanEnv({
          ...vars,
          AUTHORITY: setting('active_directory_authority_host')!,
          AUD: setting('resource_manager_audience')!,
          ARM: setting('resource_manager_endpoint')!,
        }),
        work,
      );
      assert.equal(py.code, 0, `${recipe}\n---\n${py.out}`);
      assert.match(py.stdout, /True/);
    });
  });
}

describe('amlite connect: help and errors', () => {
  test('--help lists the tools; an unknown tool is a usage error', async () => {
    const help = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'connect', '--help'], process.env);
    assert.equal(help.code, 0, help.out);
    for (const tool of CONNECT_TOOLS) assert.match(help.stdout, new RegExp(`^  ${tool} `, 'm'));
    await assert.rejects(connectCli(['ruby'], {}), UsageError);
    await assert.rejects(connectCli([], {}), UsageError);
  });

  test('an unreachable server names --url / AMLITE_URL; a missing certificate names --data-dir / --cacert', async () => {
    const cacert = join(certDir(), 'cert.pem');
    await assert.rejects(
      connectCli(['node', '--cacert', cacert], { AMLITE_URL: 'https://127.0.0.1:1' }),
      (e: Error) =>
        /cannot reach amlite at https:\/\/127\.0\.0\.1:1/.test(e.message) &&
        /--url/.test(e.message) &&
        /AMLITE_URL/.test(e.message),
    );
    const nowhere = freshDataDir('amlite-nocert-');
    assert.ok(!existsSync(join(nowhere, 'cert.pem')));
    await assert.rejects(
      connectCli(['node', '--data-dir', nowhere], {}),
      (e: Error) => /--data-dir/.test(e.message) && /--cacert/.test(e.message),
    );
  });
});
