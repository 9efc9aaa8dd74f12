// The real CLI as a child process: operations survive a hard kill and resume after a restart on the same
// data directory; SIGTERM shuts down cleanly.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  armFetch,
  createResourceGroup,
  describeResponse,
  endpointBody,
  endpointPath,
  freshDataDir,
  pollUntil,
  withApiVersion,
  workspacePath,
} from './support/harness.js';
import { killAllCli, startCli, stopCli } from './support/cli.js';

const STABLE = '2025-09-01';

let startupOutput: string | undefined;

/** amlite on `dataDir`, warnings and errors only in its log. */
const start = (dataDir: string, profile: 'fast' | 'realistic') =>
  startCli(['--data-dir', dataDir, '--profile', profile, '--log-level', 'warn']);

describe('the CLI across restarts', () => {
  after(killAllCli);

  test('an operation in progress at SIGKILL completes after a restart on the same data dir', async () => {
    const dataDir = freshDataDir('amlite-restart-');
    const sub = randomUUID();
    const endpoint = endpointPath(sub, 'rg-restart', 'ws-restart', 'ep-restart');

    const first = await start(dataDir, 'realistic');
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

    const killed = await stopCli(first, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');

    const second = await start(dataDir, 'fast');
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

      const group = await armFetch(
        second,
        'HEAD',
        withApiVersion(`/subscriptions/${sub}/resourceGroups/rg-restart`, '2025-04-01'),
      );
      assert.equal(group.status, 204, 'the resource group survived');
    } finally {
      const exit = await stopCli(second, 'SIGTERM');
      assert.equal(exit.code, 0, `exit after SIGTERM:\n${second.output()}`);
    }
  });

  test('SIGTERM exits with code 0', async () => {
    const server = await start(freshDataDir('amlite-sigterm-'), 'fast');
    const health = await armFetch(server, 'GET', '/health', { token: null });
    assert.equal(health.status, 200, describeResponse(health));
    const exit = await stopCli(server, 'SIGTERM');
    assert.equal(exit.code, 0, `code ${exit.code} signal ${exit.signal}:\n${server.output()}`);
    startupOutput = server.output();
  });

  test('stdout carries the documented ready line "amlite listening on <url>"', () => {
    assert.ok(startupOutput, 'the SIGTERM test captured the CLI output');
    // DESIGN.md's command-line contract: scripts wait for exactly this line.
    assert.match(
      startupOutput,
      /^amlite listening on https:\/\/127\.0\.0\.1:\d+$/m,
      `no such line in:\n${startupOutput}`,
    );
  });
});
