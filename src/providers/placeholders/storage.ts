import { fillProperties, host, keysAction, mintedOf, placeholder, placeholderProvider } from './placeholder.js';

const VERSION = '2023-05-01';

/** A storage account: its service endpoints, and `listKeys` as the storage service words it. */
export const storageAccounts = placeholder({
  type: 'Microsoft.Storage/storageAccounts',
  param: 'accountName',
  version: VERSION,
  fill: (r, doc) => {
    const n = host(r.name);
    const at = (service: string) => `https://${n}.${service}.core.windows.net/`;
    fillProperties(doc, {
      primaryEndpoints: {
        blob: at('blob'),
        file: at('file'),
        queue: at('queue'),
        table: at('table'),
        dfs: at('dfs'),
        web: `https://${n}.z13.web.core.windows.net/`,
      },
      primaryLocation: doc.location,
      statusOfPrimary: 'available',
      creationTime: r.createdAt,
    });
  },
  actions: [
    keysAction('listKeys', (r) => {
      const { keys, createdAt } = mintedOf(r);
      return {
        keys: keys.map((k, i) => ({
          keyName: `key${i + 1}`,
          value: k.toString('base64'),
          permissions: 'FULL',
          creationTime: createdAt,
        })),
      };
    }),
  ],
});

const blobServices = placeholder({
  type: 'Microsoft.Storage/storageAccounts/blobServices',
  parent: storageAccounts,
  param: 'blobServicesName',
  version: VERSION,
});
const containers = placeholder({
  type: 'Microsoft.Storage/storageAccounts/blobServices/containers',
  parent: blobServices,
  param: 'containerName',
  version: VERSION,
});
const fileServices = placeholder({
  type: 'Microsoft.Storage/storageAccounts/fileServices',
  parent: storageAccounts,
  param: 'fileServicesName',
  version: VERSION,
});
const shares = placeholder({
  type: 'Microsoft.Storage/storageAccounts/fileServices/shares',
  parent: fileServices,
  param: 'shareName',
  version: VERSION,
});
const queueServices = placeholder({
  type: 'Microsoft.Storage/storageAccounts/queueServices',
  parent: storageAccounts,
  param: 'queueServiceName',
  version: VERSION,
});
const queues = placeholder({
  type: 'Microsoft.Storage/storageAccounts/queueServices/queues',
  parent: queueServices,
  param: 'queueName',
  version: VERSION,
});
const tableServices = placeholder({
  type: 'Microsoft.Storage/storageAccounts/tableServices',
  parent: storageAccounts,
  param: 'tableServiceName',
  version: VERSION,
});
const tables = placeholder({
  type: 'Microsoft.Storage/storageAccounts/tableServices/tables',
  parent: tableServices,
  param: 'tableName',
  version: VERSION,
});

export const storage = placeholderProvider('Microsoft.Storage', [
  storageAccounts,
  blobServices,
  containers,
  fileServices,
  shares,
  queueServices,
  queues,
  tableServices,
  tables,
]);
