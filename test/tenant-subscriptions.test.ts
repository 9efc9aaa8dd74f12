// Strict mode: GET /subscriptions lists a subscription bound to the caller's tenant (tenant_bindings) even when it
// holds no resource group yet (issue 16's leftover); another tenant never sees it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { armFetch, type RunningServer } from './support/harness.js';
import { startStrict, strictToken } from './support/strict-tokens.js';
import { DEFAULT_SUBSCRIPTION } from '../src/arm/platform.js';

const EMPTY_SUB = '7e1a0c55-0000-4000-8000-0000000000e1';
const OTHER_TENANT = '3f1c1a2b-0000-4000-8000-00000000000c';

describe('strict mode: subscriptions bound to a tenant but holding no resource group', () => {
  let server: RunningServer;
  before(async () => {
    server = await startStrict(undefined, { inMemory: true });
  });
  after(() => server?.close());

  test('are listed for their tenant only', async () => {
    const mine = await strictToken(server);
    const theirs = await strictToken(server, OTHER_TENANT);
    // A read binds the subscription to the caller's tenant and creates nothing.
    const groups = await armFetch(server, 'GET', `/subscriptions/${EMPTY_SUB}/resourcegroups?api-version=2025-04-01`, {
      token: mine,
    });
    assert.equal(groups.status, 200, groups.text);
    assert.deepEqual(groups.body.value, []);

    const list = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01', { token: mine });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.body.value.map((s: { subscriptionId: string }) => s.subscriptionId),
      [DEFAULT_SUBSCRIPTION, EMPTY_SUB].sort(),
    );
    const other = await armFetch(server, 'GET', '/subscriptions?api-version=2022-12-01', { token: theirs });
    assert.deepEqual(
      other.body.value.map((s: { subscriptionId: string }) => s.subscriptionId),
      [DEFAULT_SUBSCRIPTION],
    );
  });
});
