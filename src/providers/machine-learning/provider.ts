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
  /** Every version from 2023-02-01-preview on (API-VERSIONS.md §1). */
  workspaces: {
    '2023-02-01-preview': 'open',
    '2023-04-01-preview': 'open',
    '2023-04-01': 'open',
    '2023-06-01-preview': 'open',
    '2023-08-01-preview': 'open',
    '2023-10-01': 'open',
    '2024-01-01-preview': 'open',
    '2024-04-01-preview': 'open',
    '2024-04-01': 'open',
    '2024-07-01-preview': 'open',
    '2024-10-01': 'open',
    '2024-10-01-preview': 'open',
    '2025-01-01-preview': 'open',
    '2025-04-01-preview': 'open',
    '2025-04-01': 'open',
    '2025-06-01': 'open',
    '2025-07-01-preview': 'open',
    '2025-09-01': 'open',
    '2025-10-01-preview': 'open',
    '2025-12-01': 'open',
    '2026-01-15-preview': 'open',
    '2026-03-01': 'open',
    '2026-03-15-preview': 'open',
    '2026-05-01': 'open',
    '2026-05-15-preview': 'open',
  },
  /**
   * The families of API-VERSIONS.md §2: S2 offerPreview, S3 stable, S4 levelRequired, S4' levelPreview,
   * S5 preview, S6 typespecStable. S1 (2023-08-01-preview) is not served yet.
   */
  serverlessEndpoints: {
    '2024-01-01-preview': 'offerPreview',
    '2024-04-01-preview': 'offerPreview',
    '2024-04-01': 'stable',
    '2024-07-01-preview': 'stable',
    '2024-10-01': 'stable',
    '2024-10-01-preview': 'preview',
    '2025-01-01-preview': 'levelRequired',
    '2025-04-01-preview': 'levelPreview',
    '2025-04-01': 'stable',
    '2025-06-01': 'stable',
    '2025-07-01-preview': 'levelPreview',
    '2025-09-01': 'stable',
    '2025-10-01-preview': 'preview',
    '2025-12-01': 'typespecStable',
    '2026-01-15-preview': 'preview',
    '2026-03-01': 'typespecStable',
    '2026-03-15-preview': 'preview',
    '2026-05-01': 'typespecStable',
    '2026-05-15-preview': 'preview',
  },
  /** Inference pools, their groups and their endpoints: every v2 version (API-VERSIONS.md §5). */
  inferencePools: {
    '2024-10-01-preview': 'preview',
    '2025-01-01-preview': 'preview',
    '2025-04-01-preview': 'preview',
    '2025-07-01-preview': 'preview',
    '2025-10-01-preview': 'preview',
    '2026-01-15-preview': 'preview',
    '2026-03-15-preview': 'preview',
    '2026-05-15-preview': 'preview',
  },
} as const;

/** The type name `Microsoft.MachineLearningServices/<path>`. */
export const typeName = (path: string): string => `${NAMESPACE}/${path}`;
