// The clients bench/ drives amlite with. They belong to the test package (test/package.json, installed by
// `npm run setup:test`), not to amlite's own install; bench/ has no node_modules of its own, so it imports them through
// this file, whose imports Node and tsc resolve from test/node_modules.
export { default as autocannon } from 'autocannon';
export { ResourceManagementClient } from '@azure/arm-resources';
export type { TokenCredential } from '@azure/core-auth';
