// Every code block of README.md runs as written (issue 13, items 8 and 9). Each fenced block is one of:
// - runnable: sh/bash (bash -euo pipefail), js (node, NODE_EXTRA_CA_CERTS=.amlite/cert.pem as the README says),
//   python (python3 when the block's imports are available; otherwise skipped, with the reason);
// - json: parsed;
// - marked `<!-- not-run: reason -->` (output samples, installs, a PostgreSQL deployment): reported as skipped.
// An unmarked block that is none of these fails. `<!-- snippet: name=N after=M auth=strict -->` names a block, runs
// it appended to block M, or against a strict-auth server. The blocks run in README order in a temp dir inside the
// checkout (so `import` finds node_modules) whose `.amlite/` is the data dir of a real amlite (in memory, --port 0):
// only its URL is passed, through AMLITE_URL, which the README's blocks read. `amlite` on PATH runs this checkout's
// CLI.
import { pythonWith } from './support/python.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startAmlite } from '../src/server.js';
import { connectCli } from '../src/cli/connect.js';
import { SETTINGS } from '../src/config.js';
import { anchorOf, extractSnippets, pythonImports, type Snippet } from './support/readme-snippets.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SNIPPETS = extractSnippets(README);
const RUN_TIMEOUT_MS = 120_000;
const RUNNABLE: Record<string, 'sh' | 'js' | 'python' | 'json'> = {
  sh: 'sh',
  bash: 'sh',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  python: 'python',
  py: 'python',
  json: 'json',
};
/** What a block's output must show beyond exiting 0. */
const EXPECT: Record<string, RegExp> = {
  connect: /^export NODE_EXTRA_CA_CERTS=/m,
  'node-app': /^Succeeded Online$[\s\S]*^200 /m,
  'node-429': /^after two 429s: \S/m,
  'curl-pool': /"choices":\[/,
  'python-foundry': /^Succeeded Online True$[\s\S]*^Simulated reply from Llama-3\.3-70B-Instruct[\s\S]*'total_tokens'/m,
  // The hub lists its project, the endpoint names its marketplace subscription, the chat answers.
  'curl-foundry': new RegExp(
    [
      /"associatedWorkspaces":\["[^"]*\/my-project"\]/,
      /"marketplaceSubscriptionId":"[^"]*\/llama-3-3-70b"/,
      /"choices":/,
    ]
      .map((r) => r.source)
      .join('[\\s\\S]*'),
  ),
  'curl-control': /^429\n429\n200\n.*"endpointState":"Suspended".*\n409$/m,
  'curl-strict': /"value":\[/,
  'js-strict': /\/resourceGroups\/my-rg$/im,
  'python-loose': /\/resourceGroups\/my-rg$/im,
  'python-strict': /\/resourceGroups\/my-rg$/im,
};

type Servers = Record<'loose' | 'strict', Awaited<ReturnType<typeof startAmlite>>>;

const INHERITED_NOT =
  /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|AMLITE_.*|NODE_OPTIONS)$/;

/** A user's fresh shell: none of the test runner's trust settings or amlite variables. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (INHERITED_NOT.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

type Ran = { code: number | null; out: string };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Ran> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
  });
}

/**
 * A directory with an `amlite` that runs this checkout's CLI, as the global install puts one on PATH: src/main.ts
 * bundled once by esbuild (its packages stay in node_modules), which starts several times faster than tsx would.
 */
async function amliteOnPath(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const bundle = join(dir, 'amlite.mjs');
  await build({
    entryPoints: [join(ROOT, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: bundle,
    logLevel: 'warning',
  });
  writeFileSync(join(dir, 'amlite'), `#!/bin/sh\nexec "${process.execPath}" "${bundle}" "$@"\n`);
  chmodSync(join(dir, 'amlite'), 0o755);
  return dir;
}

/** The code a block runs: the chain of blocks it continues, then its own. */
function programOf(snippet: Snippet): string {
  const parts = [snippet.code];
  for (let s = snippet; s.after;) {
    const prev = SNIPPETS.find((x) => x.name === s.after);
    assert.ok(prev, `README line ${s.line}: after=${s.after} names no snippet`);
    parts.unshift(prev.code);
    s = prev;
  }
  return parts.join('\n');
}

describe('README snippets run as written', () => {
  let servers: Servers;
  let work: string;
  let pathDir: string;
  let pythonBundle: string;

  before(async () => {
    mkdirSync(join(ROOT, '.amlite-test'), { recursive: true });
    work = mkdtempSync(join(ROOT, '.amlite-test', 'readme-'));
    // npm acts on the nearest package.json: this one, so that a block running npm never touches the checkout's.
    writeFileSync(join(work, 'package.json'), '{ "name": "readme-snippets", "private": true }\n');
    const common = { port: 0, host: '127.0.0.1', inMemory: true, logLevel: 'silent' as const };
    const loose = await startAmlite({ ...common, dataDir: join(work, '.amlite'), auth: 'loose' });
    // The same certificate, so that `.amlite/cert.pem` is right for both servers.
    const strict = await startAmlite({
      ...common,
      dataDir: join(work, '.amlite-strict'),
      auth: 'strict',
      certFile: join(work, '.amlite', 'cert.pem'),
      keyFile: join(work, '.amlite', 'key.pem'),
    });
    servers = { loose, strict };
    pathDir = await amliteOnPath(join(work, 'bin'));
    const recipe = await connectCli(['python', '--url', loose.url, '--data-dir', join(work, '.amlite')], {});
    pythonBundle = /^export REQUESTS_CA_BUNDLE="([^"]+)"$/m.exec(recipe)![1];
  });
  after(async () => {
    await servers?.loose.close();
    await servers?.strict.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function runSnippet(snippet: Snippet, code = programOf(snippet)): Promise<Ran> {
    const server = servers[snippet.auth === 'strict' ? 'strict' : 'loose'];
    const env = cleanEnv({ AMLITE_URL: server.url, PATH: `${pathDir}:${process.env.PATH}` });
    const kind = RUNNABLE[snippet.lang];
    const file = join(work, `snippet-${snippet.line}`);
    if (kind === 'sh') return run('bash', ['-euo', 'pipefail', '-c', code], env, work);
    if (kind === 'js') {
      writeFileSync(`${file}.mjs`, code);
      return run(process.execPath, [`${file}.mjs`], { ...env, NODE_EXTRA_CA_CERTS: '.amlite/cert.pem' }, work);
    }
    writeFileSync(`${file}.py`, code);
    const { python } = pythonWith(pythonImports(code));
    const trust = { REQUESTS_CA_BUNDLE: pythonBundle, SSL_CERT_FILE: pythonBundle };
    return run(python!, [`${file}.py`], { ...env, ...trust }, work);
  }

  for (const snippet of SNIPPETS) {
    const lang = snippet.lang || 'untagged';
    const title = `README line ${snippet.line}: ${lang}${snippet.name ? ` (${snippet.name})` : ''}`;
    const kind = RUNNABLE[snippet.lang];
    if (snippet.notRun) {
      test(title, { skip: `not-run: ${snippet.notRun}` }, () => {});
      continue;
    }
    if (kind === 'python') {
      const { reason } = pythonWith(pythonImports(programOf(snippet)));
      if (reason) {
        test(title, { skip: reason }, () => {});
        continue;
      }
    }
    test(title, async () => {
      assert.ok(kind, `an unmarked ${lang} block this test cannot run: mark it <!-- not-run: reason -->`);
      if (kind === 'json') {
        JSON.parse(snippet.code);
        return;
      }
      const result = await runSnippet(snippet);
      assert.equal(result.code, 0, `${programOf(snippet)}\n--- exit ${result.code}, output:\n${result.out}`);
      const expected = snippet.name ? EXPECT[snippet.name] : undefined;
      if (expected) assert.match(result.out, expected);
    });
  }

  // Item 9: the storm the README shows is ridden out by the openai client's default retries; one more 429 is not.
  test("the 429 storm: a count of 3 outlasts the openai client's two default retries (README)", async () => {
    const storm = SNIPPETS.find((s) => s.name === 'node-429');
    assert.ok(storm, 'the README has the node-429 block');
    assert.match(storm.code, /count: 2,/);
    const result = await runSnippet(storm, programOf(storm).replace('count: 2,', 'count: 3,'));
    assert.notEqual(result.code, 0, result.out);
    assert.match(result.out, /429/);
  });
});

describe('README structure', () => {
  test('the Settings table names every flag and environment variable of src/config.ts', () => {
    const settings = README.split(/^## Settings$/m)[1]?.split(/^## /m)[0] ?? '';
    assert.ok(settings, 'a ## Settings section');
    for (const s of SETTINGS) {
      assert.match(settings, new RegExp(`^\\|.*\`${s.flag}[ \`]`, 'm'), `${s.flag} in the Settings table`);
      assert.ok(settings.includes(`\`${s.env}\``), `${s.env} in the Settings table`);
    }
  });

  test('every link to a section of the README or to docs/ resolves', () => {
    const anchors = (text: string) => new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => anchorOf(m[1])));
    const own = anchors(README);
    for (const [, target] of README.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(target)) continue;
      const [file, anchor] = target.split('#');
      if (!file) {
        assert.ok(own.has(anchor), `#${anchor} is a heading of README.md`);
        continue;
      }
      const path = join(ROOT, file);
      assert.ok(existsSync(path), `${file} exists`);
      if (anchor) assert.ok(anchors(readFileSync(path, 'utf8')).has(anchor), `#${anchor} is a heading of ${file}`);
    }
  });
});
