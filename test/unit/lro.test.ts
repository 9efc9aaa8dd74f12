import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationRecord, StoredResource } from '../../src/store/types.js';
import type { RequestContext } from '../../src/arm/context.js';
import {
  acceptedHeaders,
  commitWithRetry,
  resultResponse,
  routeOf,
  statusBody,
  statusResponse,
  type OperationUrlShapes,
} from '../../src/arm/lro/index.js';
import { PROFILES } from '../../src/provisioner/profiles.js';

const urls: OperationUrlShapes = {
  status: '/subscriptions/{subscriptionId}/providers/P.Q/locations/{location}/status/{operationId}',
  result: '/subscriptions/{subscriptionId}/providers/P.Q/locations/{location}/results/{operationId}',
  timeoutHeader: true,
};
const armUrls: OperationUrlShapes = {
  result: '/subscriptions/{subscriptionId}/operationresults/{operationId}',
  timeoutHeader: false,
};
const ctx = { apiVersion: '2025-09-01', origin: 'https://127.0.0.1:8443' } as RequestContext;
const profile = PROFILES.fast;
const sub = '00000000-0000-0000-0000-000000000001';

function op(over: Partial<OperationRecord> = {}): OperationRecord {
  return {
    id: 'op1',
    kind: 'create',
    resourceKey: 'k',
    resourceId: 'id',
    resourceType: 'P.Q/things',
    subscriptionId: sub,
    location: 'east us',
    apiVersion: '2025-09-01',
    status: 'InProgress',
    startTime: '2026-01-01T00:00:00.000Z',
    dueAt: 0,
    ...over,
  };
}

test('the three LRO modes: Azure-AsyncOperation, Location (with Retry-After), both', () => {
  const base = `https://127.0.0.1:8443/subscriptions/${sub}/providers/P.Q/locations/east%20us`;
  assert.deepEqual(acceptedHeaders(op(), urls, ctx, profile, 'azure-async-operation'), {
    'azure-asyncoperation': `${base}/status/op1?api-version=2025-09-01`,
    'x-ms-async-operation-timeout': 'PT1H',
  });
  assert.deepEqual(acceptedHeaders(op(), urls, ctx, profile, 'location'), {
    location: `${base}/results/op1?api-version=2025-09-01`,
    'retry-after': '10',
    'x-ms-async-operation-timeout': 'PT1H',
  });
  const both = acceptedHeaders(op(), urls, ctx, profile, 'both');
  assert.ok(both['azure-asyncoperation'] && both.location && both['retry-after']);
  // A provider with no status URL answers with Location whatever the mode, and ARM's own sends no timeout.
  const arm = acceptedHeaders(op(), armUrls, ctx, profile, 'azure-async-operation');
  assert.deepEqual(Object.keys(arm), ['location', 'retry-after']);
  assert.equal(
    routeOf(urls.result),
    '/subscriptions/:subscriptionId/providers/P.Q/locations/:location/results/:operationId',
  );
});

test('the status body: percentComplete follows the status; an error is shown', () => {
  assert.equal(statusBody(op(), urls).percentComplete, 0);
  const failed = statusBody(op({ status: 'Failed', endTime: 'x', error: { code: 'Boom', message: 'no' } }), urls);
  assert.deepEqual([failed.percentComplete, failed.endTime, failed.error], [100, 'x', { code: 'Boom', message: 'no' }]);
});

test('final results: running 202, failed 400, delete its done status, action 204, PUT/PATCH the resource', async () => {
  const resource = { etag: '"e"' } as StoredResource;
  const rules = { deleteDoneStatus: 204 as const, render: () => ({ id: 'doc' }) };
  const answer = (o: OperationRecord, found = true) =>
    resultResponse(o, async () => (found ? resource : undefined), rules, urls, ctx, profile);
  assert.equal((await answer(op())).status, 202);
  const error = { code: 'C', message: 'm' };
  assert.deepEqual((await answer(op({ status: 'Failed', error }))).body, { error });
  assert.equal((await answer(op({ status: 'Succeeded', kind: 'delete' }))).status, 204);
  assert.equal((await answer(op({ status: 'Succeeded', kind: 'action' }))).status, 204);
  assert.deepEqual(await answer(op({ status: 'Succeeded', kind: 'update' })), {
    status: 200,
    body: { id: 'doc' },
    headers: { etag: '"e"' },
  });
  assert.equal((await answer(op({ status: 'Succeeded', kind: 'create' }), false)).status, 204);
});

test('commit-with-retry runs again after a lost commit, stops at the limit, and lets a loser stop early', async () => {
  let calls = 0;
  const exhausted = () => new Error('gave up');
  assert.equal(
    await commitWithRetry(async () => (++calls < 3 ? undefined : 'done'), { attempts: 5, exhausted }),
    'done',
  );
  assert.equal(calls, 3);
  await assert.rejects(
    commitWithRetry(async () => undefined, { attempts: 2, exhausted }),
    /gave up/,
  );
  await assert.rejects(
    commitWithRetry(async () => undefined, {
      attempts: 5,
      exhausted: () => new Error('x'),
      onLost: () => {
        throw new Error('412');
      },
    }),
    /412/,
  );
});

test('Retry-After: poll answers while running carry the profile poll interval (never 0); accepted ones >= 10', async () => {
  const rules = { deleteDoneStatus: 204 as const, render: () => ({ id: 'doc' }) };
  for (const p of [PROFILES.fast, PROFILES.realistic]) {
    const poll = String(p.pollRetryAfterSeconds);
    assert.ok(p.pollRetryAfterSeconds >= 1, `${p.name}: a Retry-After of 0 reads as absent (30 s in Python)`);
    // The Azure-AsyncOperation status while running, and no Retry-After once it ended.
    assert.equal(statusResponse(op(), urls, p).headers?.['retry-after'], poll);
    assert.equal(
      statusResponse(op({ status: 'Succeeded', endTime: 'x' }), urls, p).headers?.['retry-after'],
      undefined,
    );
    // The Location URL's 202 while running.
    const running = await resultResponse(op({ kind: 'update' }), async () => undefined, rules, urls, ctx, p);
    assert.deepEqual([running.status, running.headers?.['retry-after']], [202, poll]);
    // Accepted answers: the swagger declares Retry-After 10..600 on them.
    for (const mode of ['location', 'both'] as const) {
      assert.ok(Number(acceptedHeaders(op(), urls, ctx, p, mode)['retry-after']) >= 10, `${p.name} ${mode}`);
    }
  }
  assert.equal(PROFILES.fast.pollRetryAfterSeconds, 1);
  assert.equal(PROFILES.realistic.pollRetryAfterSeconds, 10);
});
