import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  actionAsync,
  actionSync,
  createOrReplaceAsync,
  createOrReplaceSync,
  deleteAsync,
  deleteSync,
  updateAsync,
  updateSync,
} from '../../src/arm/operations/templates.js';
import { versionsFrom, type VersionDef } from '../../src/arm/resource-type.js';
import { API_VERSIONS } from '../../src/providers/machine-learning/provider.js';
import { serverlessEndpoints } from '../../src/providers/machine-learning/serverless-endpoints.js';

test('templates: sync ones have no LRO mode; async ones default to PUT AAO, PATCH/DELETE Location', () => {
  assert.equal(createOrReplaceSync().lro, undefined);
  assert.equal(updateSync().lro, undefined);
  assert.equal(deleteSync().lro, undefined);
  assert.equal(createOrReplaceAsync().lro, 'azure-async-operation');
  assert.equal(updateAsync().lro, 'location');
  assert.equal(deleteAsync().lro, 'location');
  assert.equal(deleteAsync().doneStatus, 200);
  assert.equal(deleteAsync({ doneStatus: 204 }).doneStatus, 204);
  assert.deepEqual(createOrReplaceAsync({ serverOwned: ['endpointState'] }).serverOwned, ['endpointState']);
  assert.equal(updateSync({ mergeProperties: true }).mergeProperties, true);
  const handle = async () => ({ status: 200 });
  assert.equal(actionSync({ method: 'POST', path: 'listKeys', handle }).lro, undefined);
  assert.equal(actionAsync({ method: 'POST', path: 'x', handle, complete: (r) => r }).lro, 'location');
});

test('an api-version is a line of data: each version maps to a family of rules', () => {
  const a = { closed: true } as VersionDef;
  const b = { closed: false } as VersionDef;
  const table = { '2025-09-01': 'stable', '2025-12-01': 'stable', '2026-03-15-preview': 'preview' } as const;
  const versions = versionsFrom(table, { stable: a, preview: b });
  assert.equal(versions['2025-12-01'], versions['2025-09-01']);
  assert.equal(versions['2026-03-15-preview'], b);
  // The serverless endpoints serve exactly the versions of the provider's table, with their family's rules.
  assert.deepEqual(Object.keys(serverlessEndpoints.versions), Object.keys(API_VERSIONS.serverlessEndpoints));
  assert.equal(serverlessEndpoints.versions['2025-09-01'].closed, true);
  assert.equal(serverlessEndpoints.versions['2026-03-15-preview'].closed, false);
});
