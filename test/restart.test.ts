// The real CLI as a child process: operations survive a hard kill and resume after a restart on the same
// data directory; SIGTERM shuts down cleanly.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  armFetch,
  certDir,
  createResourceGroup,
  describeResponse,
  endpointBody,
  endpointPath,
  freshDataDir,
  pollUntil,
  withApiVersion,
  workspacePath,
} from './support/harness.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const STARTUP_TIMEOUT_MS = 30_000;
const STABLE = '2025-09-01';

interface CliServer {
  proc: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
let startupOutput: string | undefined;

async function startCli(dataDir: string, profile: 'fast' | 'realistic'): Promise<CliServer> {
  const args = [
    '--import',
    'tsx',
    'src/main.ts',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--profile',
    profile,
    '--cert',
    join(certDir(), 'cert.pem'),
    '--key',
    join(certDir(), 'key.pem'),
    '--log-level',
    'warn',
  ];
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  children.push(proc);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.once('exit', (code, signal) => res({ code, signal }));
  });
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no "amlite listening on" line within ${STARTUP_TIMEOUT_MS} ms:\n${out}`)), STARTUP_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /amlite\b.*?\blistening on (https?:\/\/[^\s]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        res(match[1]!.replace(/\/$/, ''));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`amlite exited (code ${code}, signal ${signal}) before it was ready:\n${out}`));
    });
  });
  return { proc, url, output: () => out, exited };
}

async function stop(server: CliServer, signal: NodeJS.Signals, timeoutMs = 10_000) {
  server.proc.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`amlite did not exit within ${timeoutMs} ms of ${signal}:\n${server.output()}`)), timeoutMs);
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the CLI across restarts', () => {
  after(() => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  test('an operation in progress at SIGKILL completes after a restart on the same data dir', async () => {
    const dataDir = freshDataDir('amlite-restart-');
    const sub = randomUUID();
    const endpoint = endpointPath(sub, 'rg-restart', 'ws-restart', 'ep-restart');

    const first = await startCli(dataDir, 'realistic');
    assert.match(first.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await createResourceGroup(first, sub, 'rg-restart');
    const ws = await armFetch(first, 'PUT', withApiVersion(workspacePath(sub, 'rg-restart', 'ws-restart'), STABLE), {
      body: { location: 'eastus', properties: {} },
    });
    assert.ok([200, 201].includes(ws.status), describeResponse(ws));
    const created = await armFetch(first, 'PUT', withApiVersion(endpoint, STABLE), { body: endpointBody() });
    assert.equal(created.status, 201, describeResponse(created));
    assert.equal(created.body.properties.provisioningState, 'Creating');
    const asyncOp = new URL(created.headers.get('azure-asyncoperation') ?? '');
    const inProgress = await armFetch(first, 'GET', asyncOp.href);
    assert.equal(inProgress.status, 200, describeResponse(inProgress));
    assert.equal(inProgress.body.status, 'InProgress');

    const killed = await stop(first, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');

    const second = await startCli(dataDir, 'fast');
    try {
      const done = await pollUntil('the endpoint to finish after the restart', async () => {
        const res = await armFetch(second, 'GET', withApiVersion(endpoint, STABLE));
        assert.equal(res.status, 200, `the endpoint survived the kill: ${describeResponse(res)}`);
        return res.body.properties.provisioningState === 'Creating' ? undefined : res.body;
      });
      assert.equal(done.properties.provisioningState, 'Succeeded');
      assert.equal(done.properties.endpointState, 'Online');
      assert.equal(done.name, 'ep-restart');

      // The status URL from before the kill, on the new server's address.
      const statusUrl = `${second.url}${asyncOp.pathname}${asyncOp.search}`;
      const status = await pollUntil('the operation status to be terminal', async () => {
        const res = await armFetch(second, 'GET', statusUrl);
        assert.equal(res.status, 200, describeResponse(res));
        return ['Succeeded', 'Failed', 'Canceled'].includes(res.body.status) ? res.body : undefined;
      });
      assert.equal(status.status, 'Succeeded');
      assert.ok(status.endTime, `endTime is set: ${JSON.stringify(status)}`);

      const group = await armFetch(second, 'HEAD', withApiVersion(`/subscriptions/${sub}/resourceGroups/rg-restart`, '2025-04-01'));
      assert.equal(group.status, 204, 'the resource group survived');
    } finally {
      const exit = await stop(second, 'SIGTERM');
      assert.equal(exit.code, 0, `exit after SIGTERM:\n${second.output()}`);
    }
  });

  test('SIGTERM exits with code 0', async () => {
    const server = await startCli(freshDataDir('amlite-sigterm-'), 'fast');
    const health = await armFetch(server, 'GET', '/health', { token: null });
    assert.equal(health.status, 200, describeResponse(health));
    const exit = await stop(server, 'SIGTERM');
    assert.equal(exit.code, 0, `code ${exit.code} signal ${exit.signal}:\n${server.output()}`);
    startupOutput = server.output();
  });

  test('stdout carries the documented ready line "amlite listening on <url>"', () => {
    assert.ok(startupOutput, 'the SIGTERM test captured the CLI output');
    // DESIGN.md's command-line contract: scripts wait for exactly this line.
    assert.match(startupOutput, /^amlite listening on https:\/\/127\.0\.0\.1:\d+$/m, `no such line in:\n${startupOutput}`);
  });
});
