import type { OperationUrlShapes } from '../../arm/lro/index.js';

/** Azure Machine Learning's resource provider namespace. */
export const NAMESPACE = 'Microsoft.MachineLearningServices';

/** Azure ML's own operation URL shapes (as the service's `location` headers show them). */
const LOCATION = `/subscriptions/{subscriptionId}/providers/${NAMESPACE}/locations/{location}`;
export const OPERATION_URLS: OperationUrlShapes = {
  status: `${LOCATION}/mfeOperationsStatus/{operationId}`,
  result: `${LOCATION}/mfeOperationResults/{operationId}`,
  timeoutHeader: true,
};

/**
 * The api-version table: per type family, every version served and the family of rules it shares (the schemas,
 * open or closed objects, name rules, declared in the type's file). A new version that shares an existing
 * family's rules is one line here.
 */
export const API_VERSIONS = {
  workspaces: {
    '2024-04-01': 'open',
    '2024-10-01': 'open',
    '2025-09-01': 'open',
    '2025-10-01-preview': 'open',
    '2026-03-15-preview': 'open',
  },
  serverlessEndpoints: {
    '2025-09-01': 'stable',
    '2026-03-15-preview': 'preview',
  },
  /** Inference pools, their groups and their endpoints. */
  inferencePools: {
    '2026-03-15-preview': 'preview',
  },
} as const;

/** The type name `Microsoft.MachineLearningServices/<path>`. */
export const typeName = (path: string): string => `${NAMESPACE}/${path}`;
