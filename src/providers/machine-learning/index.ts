import type { Provider } from '../../arm/registry.js';
import { NAMESPACE, OPERATION_URLS } from './provider.js';
import { workspaces } from './workspaces.js';
import { serverlessEndpoints } from './serverless-endpoints.js';
import { marketplaceSubscriptions } from './marketplace-subscriptions.js';
import { connections } from './connections.js';
import { inferencePools } from './inference-pools/pools.js';
import { inferenceGroups } from './inference-pools/groups.js';
import { inferenceEndpoints } from './inference-pools/endpoints.js';

/** Azure Machine Learning as ARM sees it: its namespace, its operation URLs, its types (parents first). */
export const machineLearning: Provider = {
  namespace: NAMESPACE,
  operationUrls: OPERATION_URLS,
  types: [
    workspaces,
    serverlessEndpoints,
    marketplaceSubscriptions,
    connections,
    inferencePools,
    inferenceGroups,
    inferenceEndpoints,
  ],
};

export { servingTargets } from './data-plane.js';
