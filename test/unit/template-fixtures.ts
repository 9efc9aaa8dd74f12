/** A TemplateContext for the template tests: fixed subscription, resource group and clock. */
import type { Json, JsonObject, TemplateContext } from '../../src/templates/index.js';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const RG = 'rg1';

export function fakeContext(
  references: Record<string, Json> = {},
  resourceGroup: string | undefined = RG,
): TemplateContext {
  return {
    subscriptionId: SUB,
    resourceGroupName: resourceGroup,
    tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    subscription: () => ({ id: `/subscriptions/${SUB}`, subscriptionId: SUB, tenantId: 't', displayName: 'amlite' }),
    resourceGroup: () =>
      resourceGroup === undefined
        ? undefined
        : {
            id: `/subscriptions/${SUB}/resourceGroups/${resourceGroup}`,
            name: resourceGroup,
            location: 'eastus',
            type: 'Microsoft.Resources/resourceGroups',
            tags: {},
            properties: { provisioningState: 'Succeeded' },
          },
    tenant: () => ({ tenantId: 't', countryCode: 'US', displayName: 'amlite' }),
    deployment: () => ({ name: 'dep1', properties: { template: { contentVersion: '1.0.0.0' } } }),
    environment: () => ({ name: 'AzureCloud', suffixes: { storage: 'core.windows.net' } }) as JsonObject,
    reference: (id, _v, full) => {
      const r = references[id];
      if (r === undefined) return undefined;
      return full ? r : ((r as JsonObject).properties ?? null);
    },
    list: (action, id) =>
      references[id] === undefined ? undefined : { action, keys: [{ value: 'k1' }], primaryKey: 'pk' },
    now: () => new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
    newGuid: () => '11111111-2222-3333-4444-555555555555',
  };
}
