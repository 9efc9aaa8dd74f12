// The start-up banner names the catalog; catalog entries that cannot serve (a missing model file, an upstream that
// does not answer) are warned about at start and answered with a clear 503/502 naming the entry at request time;
// in strict mode the banner's try line gets its token from the issuer, and runs as printed.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli, killAllCli, type CliServer } from './support/cli.js';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  freshDataDir,
  putAndWait,
  withApiVersion,
} from './support/harness.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SUB = '5c1c2d3e-4f50-4617-8293-a4b5c6d7e8f2';
const RG = 'banner-rg';
const WS = 'banner-ws';
/** Generous bound for the start-up upstream check (it waits UPSTREAM_PROBE_TIMEOUT_MS at most). */
const WARNING_WITHIN_MS = 20_000;

after(() => killAllCli());

async function outputMatches(server: CliServer, re: RegExp, withinMs: number): Promise<string> {
  const deadline = Date.now() + withinMs;
  while (!re.test(server.output())) {
    if (Date.now() > deadline) throw new Error(`no ${re} within ${withinMs} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return server.output();
}

describe('catalog in the banner, and entries that cannot serve', () => {
  const dir = freshDataDir('amlite-banner-');
  const catalog = join(dir, 'catalog.json');
  const missing = join(dir, 'no-such-model.gguf');
  writeFileSync(
    catalog,
    JSON.stringify({
      models: [
        { match: '*Phi-4*', backend: 'llama-cpp', modelPath: missing },
        { match: '*upstream*', backend: 'openai-compatible', url: 'http://127.0.0.1:1/v1' },
        { match: '*', backend: 'simulated' },
      ],
    }),
  );
  let server: CliServer;

  test('the banner names each entry (glob → backend); missing file and unreachable upstream are warned about by entry', async () => {
    server = await startCli(['--in-memory', '--data-dir', dir, '--catalog', catalog]);
    const out = await outputMatches(server, /models\[1\].*not reachable/, WARNING_WITHIN_MS);
    assert.match(
      out,
      new RegExp(
        `catalog: .*\\*Phi-4\\* → llama-cpp \\(${missing.replace(/[.]/g, '\\.')}\\), \\*upstream\\* → openai-compatible \\(http://127\\.0\\.0\\.1:1/v1\\), \\* → simulated`,
      ),
    );
    assert.match(
      out,
      /warning: catalog entry models\[0\] '\*Phi-4\*' \(llama-cpp\): its model file .*no-such-model\.gguf does not exist/,
    );
    assert.match(
      out,
      /warning: catalog entry models\[1\] '\*upstream\*' \(openai-compatible\): its upstream http:\/\/127\.0\.0\.1:1\/v1 is not reachable/,
    );
    assert.doesNotMatch(out, /models\[2\]/, 'the simulated entry needs nothing');
  });

  test('at request time: 503 naming the entry and the missing file, 502 naming the entry and the upstream; never 500', async () => {
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, WS);
    const make = async (name: string, modelId: string) => {
      const { final } = await putAndWait(
        server,
        endpointPath(SUB, RG, WS, name),
        '2025-09-01',
        endpointBody({ modelSettings: { modelId } }),
      );
      const keys = await armFetch(
        server,
        'POST',
        withApiVersion(`${endpointPath(SUB, RG, WS, name)}/listKeys`, '2025-09-01'),
      );
      return { uri: final.properties.inferenceEndpoint.uri as string, key: keys.body.primaryKey as string };
    };
    const chat = async (ep: { uri: string; key: string }) => {
      const res = await fetch(`${ep.uri}/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': ep.key, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
    };
    const phi = await chat(await make('phi-ep', 'azureml://registries/azureml/models/Phi-4/versions/1'));
    assert.equal(phi.status, 503, JSON.stringify(phi.body));
    assert.equal(phi.body.error.code, 'ModelUnavailable');
    assert.match(
      phi.body.error.message,
      /models\[0\] '\*Phi-4\*' \(llama-cpp\): its model file .*no-such-model\.gguf does not exist/,
    );
    const up = await chat(await make('up-ep', 'my-upstream-model'));
    assert.equal(up.status, 502, JSON.stringify(up.body));
    assert.match(up.body.error.message, /models\[1\] '\*upstream\*' \(openai-compatible\)/);
    assert.match(up.body.error.message, /127\.0\.0\.1:1/);
    const fine = await chat(await make('sim-ep', 'some-simulated-model'));
    assert.equal(fine.status, 200, describeResponse({ status: fine.status, body: fine.body }));
  });
});

describe('strict mode banner', () => {
  test('the try line gets a token from the issuer and creates a resource group, run as printed', async () => {
    const server = await startCli([
      '--in-memory',
      '--data-dir',
      freshDataDir('amlite-banner-strict-'),
      '--auth',
      'strict',
    ]);
    const line = /^ {2}try: (.*)$/m.exec(server.output())?.[1];
    assert.ok(line, server.output());
    assert.doesNotMatch(line, /amlite token/, 'the unsigned development token is refused in strict mode');
    assert.match(line, /oauth2\/v2\.0\/token/);
    assert.match(server.output(), /catalog: \* → simulated/);
    const out = await new Promise<string>((res) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-c', line], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.on('close', () => res(text));
    });
    assert.match(out, /"name":"my-rg"/, out);
    assert.match(out, /"provisioningState":"Succeeded"/, out);
  });
});
