import { fillProperties, host, mintedOf, placeholder, placeholderProvider, propsOf } from './placeholder.js';

const VERSION = '2023-07-01';

const vaultUri = (vaultName: string) => `https://${host(vaultName)}.vault.azure.net/`;

/** A key vault: its `vaultUri`. */
export const vaults = placeholder({
  type: 'Microsoft.KeyVault/vaults',
  param: 'vaultName',
  version: VERSION,
  fill: (r, doc) => fillProperties(doc, { vaultUri: vaultUri(r.name) }),
});

/** A secret: its URIs. Its value is never stored or shown (Azure's management plane never returns it). */
const secrets = placeholder({
  type: 'Microsoft.KeyVault/vaults/secrets',
  parent: vaults,
  param: 'secretName',
  version: VERSION,
  writeOnly: ['properties.value'],
  prepare: (doc) => {
    if (doc.properties) {
      const { value: _, ...rest } = propsOf(doc);
      doc.properties = rest;
    }
  },
  fill: (r, doc) => {
    const vault = r.id.split('/').at(-3)!;
    const secretUri = `${vaultUri(vault)}secrets/${r.name}`;
    // A version id as Key Vault writes them: 32 hex digits.
    const version = mintedOf(r).guids[0].replaceAll('-', '');
    fillProperties(doc, { secretUri, secretUriWithVersion: `${secretUri}/${version}` });
  },
});

const keys = placeholder({
  type: 'Microsoft.KeyVault/vaults/keys',
  parent: vaults,
  param: 'keyName',
  version: VERSION,
  fill: (r, doc) => {
    const keyUri = `${vaultUri(r.id.split('/').at(-3)!)}keys/${r.name}`;
    fillProperties(doc, { keyUri, keyUriWithVersion: `${keyUri}/${mintedOf(r).guids[0].replaceAll('-', '')}` });
  },
});

/** `add` / `replace` / `remove`: stored as sent; the vault's own policies are not changed. */
const accessPolicies = placeholder({
  type: 'Microsoft.KeyVault/vaults/accessPolicies',
  parent: vaults,
  param: 'operationKind',
  version: VERSION,
});

export const keyVault = placeholderProvider('Microsoft.KeyVault', [vaults, secrets, keys, accessPolicies]);
