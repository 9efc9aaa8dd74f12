/**
 * Retry-After on every poll answer of a running operation (issue 15 §3): azure-core's Python poller waits 30 s when
 * it is absent, so a held operation (fast profile) or a realistic one would cost a Python user 30 s per poll.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';
import { ACCEPTED_RETRY_AFTER_SECONDS, PROFILES } from '../src/provisioner/profiles.js';

const SUB = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const RG = 'retry-after-rg';
const WS = 'retry-after-ws';
const V = '2025-09-01';

for (const profile of ['fast', 'realistic'] as const) {
  describe(`Retry-After while an operation runs (${profile} profile)`, () => {
    let server: RunningServer;
    const poll = String(PROFILES[profile].pollRetryAfterSeconds);
    before(async () => {
      server = await startTestServer({ profile });
      await createResourceGroup(server, SUB, RG);
      await createWorkspace(server, SUB, RG, WS);
      // Holds every endpoint operation until reset, whatever the profile's own timing.
      const rule = { kind: 'delay', match: { resourceType: 'serverlessEndpoints' } };
      assert.equal((await armFetch(server, 'POST', '/_amlite/rules', { body: rule })).status, 201);
    });
    after(async () => {
      await armFetch(server, 'POST', '/_amlite/reset');
      await server.close();
    });

    test('the Azure-AsyncOperation status answers InProgress with the profile poll interval, never 0', async () => {
      const put = await armFetch(server, 'PUT', withApiVersion(endpointPath(SUB, RG, WS, 'held'), V), {
        body: endpointBody(),
      });
      assert.equal(put.status, 201, put.text);
      const status = await armFetch(server, 'GET', put.headers.get('azure-asyncoperation')!);
      assert.equal(status.body.status, 'InProgress');
      assert.equal(status.headers.get('retry-after'), poll);
      assert.ok(Number(poll) >= 1);
    });

    test('a PATCH 202 keeps the swagger floor; its Location URL answers 202 with the poll interval', async () => {
      const path = endpointPath(SUB, RG, WS, 'patched');
      const put = await armFetch(server, 'PUT', withApiVersion(path, V), { body: endpointBody() });
      assert.equal(put.status, 201, put.text);
      const operationId = new URL(put.headers.get('azure-asyncoperation')!).pathname.split('/').at(-1)!;
      const released = await armFetch(server, 'POST', `/_amlite/operations/${operationId}/release`);
      assert.equal(released.status, 200, released.text);
      const patch = await armFetch(server, 'PATCH', withApiVersion(path, V), { body: { tags: { a: 'b' } } });
      assert.equal(patch.status, 202, patch.text);
      assert.equal(patch.headers.get('retry-after'), String(ACCEPTED_RETRY_AFTER_SECONDS));
      const location = await armFetch(server, 'GET', patch.headers.get('location')!);
      assert.equal(location.status, 202);
      assert.equal(location.headers.get('retry-after'), poll);
    });
  });
}
