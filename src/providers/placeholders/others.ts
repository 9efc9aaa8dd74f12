import { fillProperties, host, keysAction, mintedOf, placeholder, placeholderProvider } from './placeholder.js';
import type { StoredResource } from '../../store/types.js';

/** A container registry: its `loginServer`, and `listCredentials` (admin user name and two passwords). */
const registries = placeholder({
  type: 'Microsoft.ContainerRegistry/registries',
  param: 'registryName',
  version: '2023-07-01',
  fill: (r, doc) => fillProperties(doc, { loginServer: `${host(r.name)}.azurecr.io`, creationDate: r.createdAt }),
  actions: [
    keysAction('listCredentials', (r) => {
      const [a, b] = mintedOf(r).keys;
      const password = (k: Buffer) => k.subarray(0, 39).toString('base64').replace(/[+/]/g, 'A').slice(0, 52);
      return {
        username: r.name,
        passwords: [
          { name: 'password', value: password(a) },
          { name: 'password2', value: password(b) },
        ],
      };
    }),
  ],
});

/** A user-assigned identity: the principal and client ids minted at creation, and its tenant. */
const userAssignedIdentities = placeholder({
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  param: 'resourceName',
  version: '2023-01-31',
  fill: (r, doc) => {
    const { guids, tenantId } = mintedOf(r);
    fillProperties(doc, { principalId: guids[0], clientId: guids[1], tenantId });
  },
});
const federatedIdentityCredentials = placeholder({
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
  parent: userAssignedIdentities,
  param: 'federatedIdentityCredentialResourceName',
  version: '2023-01-31',
});

/** Search's keys: 52 letters and digits, as the service words them. */
const searchKey = (k: Buffer) => k.toString('hex').toUpperCase().slice(0, 52);
const adminKeys = (r: StoredResource) => {
  const [a, b] = mintedOf(r).keys;
  return { primaryKey: searchKey(a), secondaryKey: searchKey(b) };
};
const queryKeys = (r: StoredResource) => ({
  value: [{ name: null, key: searchKey(mintedOf(r).keys[0].subarray(26)) }],
});

/** An AI Search service: its endpoint, `listAdminKeys` and `listQueryKeys` (GET, and POST as templates call it). */
const searchServices = placeholder({
  type: 'Microsoft.Search/searchServices',
  param: 'searchServiceName',
  version: '2023-11-01',
  fill: (r, doc) => fillProperties(doc, { endpoint: `https://${host(r.name)}.search.windows.net` }),
  actions: [
    keysAction('listAdminKeys', adminKeys),
    keysAction('listQueryKeys', queryKeys, 'GET'),
    keysAction('listQueryKeys', queryKeys),
  ],
});

const NETWORK = '2024-05-01';
const virtualNetworks = placeholder({
  type: 'Microsoft.Network/virtualNetworks',
  param: 'virtualNetworkName',
  version: NETWORK,
});
const subnets = placeholder({
  type: 'Microsoft.Network/virtualNetworks/subnets',
  parent: virtualNetworks,
  param: 'subnetName',
  version: NETWORK,
});
const privateEndpoints = placeholder({
  type: 'Microsoft.Network/privateEndpoints',
  param: 'privateEndpointName',
  version: NETWORK,
});
const privateDnsZoneGroups = placeholder({
  type: 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
  parent: privateEndpoints,
  param: 'privateDnsZoneGroupName',
  version: NETWORK,
});
const privateDnsZones = placeholder({
  type: 'Microsoft.Network/privateDnsZones',
  param: 'privateZoneName',
  version: '2020-06-01',
});
const virtualNetworkLinks = placeholder({
  type: 'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
  parent: privateDnsZones,
  param: 'virtualNetworkLinkName',
  version: '2020-06-01',
});

/**
 * Role assignments at resource-group scope only: the router serves types at fixed places in the id tree, and an
 * extension resource below another resource (`…/{resource}/providers/Microsoft.Authorization/…`) is not one.
 */
const roleAssignments = placeholder({
  type: 'Microsoft.Authorization/roleAssignments',
  param: 'roleAssignmentName',
  version: '2022-04-01',
});

export const containerRegistry = placeholderProvider('Microsoft.ContainerRegistry', [registries]);
export const managedIdentity = placeholderProvider('Microsoft.ManagedIdentity', [
  userAssignedIdentities,
  federatedIdentityCredentials,
]);
export const search = placeholderProvider('Microsoft.Search', [searchServices]);
export const network = placeholderProvider('Microsoft.Network', [
  virtualNetworks,
  subnets,
  privateEndpoints,
  privateDnsZoneGroups,
  privateDnsZones,
  virtualNetworkLinks,
]);
export const authorization = placeholderProvider('Microsoft.Authorization', [roleAssignments]);
