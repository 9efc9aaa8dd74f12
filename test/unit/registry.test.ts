import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeRegistry } from '../../src/arm/registry.js';
import { resourceGroups } from '../../src/arm/resource-groups.js';
import { machineLearning } from '../../src/providers/machine-learning/index.js';
import { OPERATION_URLS } from '../../src/providers/machine-learning/provider.js';

const registry = new TypeRegistry([machineLearning]);
const find = (type: string) => registry.find(type)!;

test('the registry holds every type once, resource groups first, parents before children', () => {
  assert.equal(registry.all[0], resourceGroups);
  assert.equal(registry.all.length, 1 + machineLearning.types.length);
  for (const [i, t] of registry.all.entries()) {
    if (t.parent) assert.ok(registry.all.indexOf(t.parent) < i, `${t.type} comes after its parent`);
  }
  assert.deepEqual(registry.providerTypes, machineLearning.types);
  assert.deepEqual(registry.namespaces, ['Microsoft.MachineLearningServices']);
});

test('types are found by name in any casing', () => {
  assert.equal(find('MICROSOFT.RESOURCES/RESOURCEGROUPS'), resourceGroups);
  const endpoints = find('microsoft.machinelearningservices/workspaces/serverlessendpoints');
  assert.equal(endpoints.type, 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints');
  assert.equal(registry.find('Microsoft.Nothing/else'), undefined);
});

test('children and lineage: resource groups hold the top-level types; a nested type lists every level', () => {
  const workspaces = find('Microsoft.MachineLearningServices/workspaces');
  const pools = find('Microsoft.MachineLearningServices/workspaces/inferencePools');
  const groups = find('Microsoft.MachineLearningServices/workspaces/inferencePools/groups');
  assert.deepEqual(registry.children(resourceGroups), [workspaces]);
  assert.deepEqual(
    registry.children(pools).map((t) => t.type.split('/').at(-1)),
    ['groups', 'endpoints'],
  );
  assert.deepEqual(registry.lineage(groups), [resourceGroups, workspaces, pools, groups]);
  assert.deepEqual(registry.lineage(resourceGroups), [resourceGroups]);
});

test("each type's operations are polled at its provider's URL shapes; ARM's own at ARM's", () => {
  assert.equal(registry.operationUrlsOf(find('Microsoft.MachineLearningServices/workspaces')), OPERATION_URLS);
  const arm = registry.operationUrlsOf(resourceGroups);
  assert.equal(arm.result, '/subscriptions/{subscriptionId}/operationresults/{operationId}');
  assert.equal(arm.status, undefined);
  assert.equal(arm.timeoutHeader, false);
});
