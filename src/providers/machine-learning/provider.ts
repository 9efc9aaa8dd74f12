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
  /**
   * Every version from 2023-02-01-preview on (API-VERSIONS.md §1). `hub`: the version knows the Hub / Project link
   * (`hubResourceId`, `associatedWorkspaces`); `open`: it does not (2023-02-01-preview, 2023-04-01, 2023-10-01).
   */
  workspaces: {
    '2023-02-01-preview': 'open',
    '2023-04-01-preview': 'hub',
    '2023-04-01': 'noKind',
    '2023-06-01-preview': 'hub',
    '2023-08-01-preview': 'hub',
    '2023-10-01': 'open',
    '2024-01-01-preview': 'hub',
    '2024-04-01-preview': 'hub',
    '2024-04-01': 'hub',
    '2024-07-01-preview': 'hub',
    '2024-10-01': 'hub',
    '2024-10-01-preview': 'hub',
    '2025-01-01-preview': 'hub',
    '2025-04-01-preview': 'hub',
    '2025-04-01': 'hub',
    '2025-06-01': 'hub',
    '2025-07-01-preview': 'hub',
    '2025-09-01': 'hub',
    '2025-10-01-preview': 'hub',
    '2025-12-01': 'hub',
    '2026-01-15-preview': 'hub',
    '2026-03-01': 'hub',
    '2026-03-15-preview': 'hub',
    '2026-05-01': 'hub',
    '2026-05-15-preview': 'hub',
  },
  /**
   * The families of API-VERSIONS.md §2: S1 offerRequired, S2 offerPreview, S3 stable, S4 levelRequired,
   * S4' levelPreview, S5 preview, S6 typespecStable.
   */
  serverlessEndpoints: {
    '2023-08-01-preview': 'offerRequired',
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
  /**
   * Marketplace subscriptions (API-VERSIONS.md §3): the hand-written swaggers close their objects and keep the name
   * pattern; the TypeSpec ones do neither. (The first two previews' status enum adds PendingFulfillmentStart: amlite
   * only ever shows Subscribed.)
   */
  marketplaceSubscriptions: {
    '2024-01-01-preview': 'closed',
    '2024-04-01-preview': 'closed',
    '2024-04-01': 'closed',
    '2024-07-01-preview': 'closed',
    '2024-10-01': 'closed',
    '2024-10-01-preview': 'open',
    '2025-01-01-preview': 'closed',
    '2025-04-01-preview': 'closed',
    '2025-04-01': 'closed',
    '2025-06-01': 'closed',
    '2025-07-01-preview': 'closed',
    '2025-09-01': 'closed',
    '2025-10-01-preview': 'open',
    '2025-12-01': 'open',
    '2026-01-15-preview': 'open',
    '2026-03-01': 'open',
    '2026-03-15-preview': 'open',
    '2026-05-01': 'open',
    '2026-05-15-preview': 'open',
  },
  /**
   * Inference pools, their groups and their endpoints (API-VERSIONS.md §5): `v1` the shape of 2023-08-01-preview …
   * 2024-04-01-preview (pool nodeSkuType and configurations, group priority, endpoint groupId), `preview` every v2.
   */
  inferencePools: {
    '2023-08-01-preview': 'v1',
    '2024-01-01-preview': 'v1',
    '2024-04-01-preview': 'v1',
    '2024-10-01-preview': 'preview',
    '2025-01-01-preview': 'preview',
    '2025-04-01-preview': 'preview',
    '2025-07-01-preview': 'preview',
    '2025-10-01-preview': 'preview',
    '2026-01-15-preview': 'preview',
    '2026-03-15-preview': 'preview',
    '2026-05-15-preview': 'preview',
  },
  /** Workspace connections at every workspace version, per family of their bicep types (connections.ts). */
  connections: {
    '2023-02-01-preview': 'v2302p',
    '2023-04-01-preview': 'v2304p',
    '2023-04-01': 'v2304',
    '2023-06-01-preview': 'v2306p',
    '2023-08-01-preview': 'v2308p',
    '2023-10-01': 'v2310',
    '2024-01-01-preview': 'v2401p',
    '2024-04-01-preview': 'v2404p',
    '2024-04-01': 'stable',
    '2024-07-01-preview': 'current',
    '2024-10-01': 'stable',
    '2024-10-01-preview': 'current',
    '2025-01-01-preview': 'current',
    '2025-04-01-preview': 'current',
    '2025-04-01': 'stable',
    '2025-06-01': 'stable',
    '2025-07-01-preview': 'current',
    '2025-09-01': 'stable',
    '2025-10-01-preview': 'current',
    '2025-12-01': 'current',
    '2026-01-15-preview': 'current',
    '2026-03-01': 'current',
    '2026-03-15-preview': 'current',
    '2026-05-01': 'current',
    '2026-05-15-preview': 'current',
  },
} as const;

/** The type name `Microsoft.MachineLearningServices/<path>`. */
export const typeName = (path: string): string => `${NAMESPACE}/${path}`;
