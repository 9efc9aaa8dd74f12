import { Type } from '@sinclair/typebox';
import { versionsFrom, type ResourceType, type VersionDef } from '../../arm/resource-type.js';
import type { ResourceReader } from '../../arm/context.js';
import type { ManagementHooks } from '../../arm/hooks.js';
import type { StoredResource } from '../../store/types.js';
import { ReadOnly, shapes } from '../../arm/schema.js';
import { errors } from '../../arm/errors.js';
import { keyOf, nameRule, parentKeyOf } from '../../arm/ids.js';
import { provisioningStateOnly } from '../../arm/common-types.js';
import {
  checkExistence,
  createOrReplaceAsync,
  deleteAsync,
  listByParent,
  read,
} from '../../arm/operations/templates.js';
import { API_VERSIONS, typeName } from './provider.js';
import { workspaces } from './workspaces.js';

type Doc = Record<string, unknown>;

/** The registry of Microsoft's own models: they are not sold through Azure Marketplace. */
export const FIRST_PARTY_REGISTRY = 'azureml';

/**
 * The Azure Marketplace publisher of each model vendor's registry (`azureml-<vendor>`), as Azure's offers name them.
 * Another vendor's publisher id is the registry name without its `azureml-` prefix.
 */
const PUBLISHERS: Readonly<Record<string, string>> = {
  'azureml-meta': 'metagenai',
  'azureml-mistral': '000-000',
  'azureml-cohere': 'cohere',
  'azureml-ai21': 'ai21labs',
  'azureml-nixtla': 'nixtla',
  'azureml-core42': 'core42',
  [FIRST_PARTY_REGISTRY]: 'microsoft',
};

/** A catalog model id: `azureml://registries/<registry>/models/<model>[/versions/<version>]`. */
const MODEL_ID = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)(?:\/versions\/[^/]+)?\/?$/i;

interface CatalogModel {
  registry: string;
  model: string;
}

export function parseModelId(modelId: string): CatalogModel | undefined {
  const m = MODEL_ID.exec(modelId.trim());
  return m ? { registry: m[1].toLowerCase(), model: m[2] } : undefined;
}

/** A model Azure sells through Azure Marketplace (a registry id outside Microsoft's own registry). */
export function isThirdParty(modelId: string): boolean {
  const parsed = parseModelId(modelId);
  return parsed !== undefined && parsed.registry !== FIRST_PARTY_REGISTRY;
}

/** The same catalog model: registry and name compared case-insensitively, any version. */
function sameModel(a: string, b: string): boolean {
  const x = parseModelId(a);
  const y = parseModelId(b);
  if (!x || !y) return a.trim().toLowerCase() === b.trim().toLowerCase();
  return x.registry === y.registry && x.model.toLowerCase() === y.model.toLowerCase();
}

/**
 * The plan a subscription buys: the vendor's publisher (PUBLISHERS), and an offer and a plan named after the model
 * (`<model>-offer`, `<model>-plan`, lower case, characters other than letters and digits as '-').
 */
export function marketplacePlan({ registry, model }: CatalogModel): Doc {
  const slug = model.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const publisherId = PUBLISHERS[registry] ?? registry.replace(/^azureml-/, '');
  return { publisherId, offerId: `${slug}-offer`, planId: `${slug}-plan` };
}

/** A hand-written swagger (`closed`) closes its objects and keeps the name pattern; a TypeSpec one does neither. */
function versionDef(closed: boolean): VersionDef {
  const { obj } = shapes(closed);
  const rule = nameRule('^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$');
  return {
    // A proxy resource: no location, tags, identity or sku (unknown members, refused when closed).
    put: obj({
      id: ReadOnly(),
      name: ReadOnly(),
      type: ReadOnly(),
      systemData: ReadOnly(),
      etag: ReadOnly(),
      properties: obj({
        modelId: Type.String({ minLength: 1, pattern: '[a-zA-Z0-9_]' }),
        marketplacePlan: ReadOnly(),
        marketplaceSubscriptionStatus: ReadOnly(),
        provisioningState: ReadOnly(),
      }),
    }),
    // No PATCH is served (operations.update is absent); the schema is never used.
    patch: obj({}),
    closed,
    ...(closed ? { putName: rule, name: rule } : {}),
  };
}

/**
 * Microsoft.MachineLearningServices/workspaces/marketplaceSubscriptions: a workspace's subscription to the Azure
 * Marketplace offer of one catalog model. PUT (async, Azure-AsyncOperation), GET, LIST, DELETE (202 + Location,
 * 204 when absent); no PATCH and no actions (API-VERSIONS.md §3).
 */
export const marketplaceSubscriptions: ResourceType = {
  type: typeName('workspaces/marketplaceSubscriptions'),
  parent: workspaces,
  param: 'name',
  versions: versionsFrom(API_VERSIONS.marketplaceSubscriptions, {
    closed: versionDef(true),
    open: versionDef(false),
  }),
  operations: {
    read: read(),
    checkExistence: checkExistence(),
    listByParent: listByParent(),
    createOrReplace: createOrReplaceAsync(),
    // The swagger declares 202 and 204 for delete, no 200.
    delete: deleteAsync({ doneStatus: 204 }),
  },
  lifecycle: provisioningStateOnly,
  prepare: async (_ctx, doc) => {
    const properties = doc.properties as Doc;
    const modelId = String(properties.modelId);
    const model = parseModelId(modelId);
    if (!model)
      throw errors.badRequest(
        `The model id '${modelId.slice(0, 300)}' is not a model catalog id: expected ` +
          "'azureml://registries/<registry>/models/<model>' (a version suffix is allowed).",
        'properties.modelId',
      );
    properties.marketplacePlan = marketplacePlan(model);
    properties.marketplaceSubscriptionStatus = 'Subscribed';
  },
};

/** How many subscriptions one lookup reads at a time. */
const LOOKUP_PAGE = 100;

/** The Subscribed, not deleted or failed, subscription of the workspace `workspaceKey` for `modelId`. */
export async function findMarketplaceSubscription(
  store: ResourceReader,
  workspaceKey: string,
  modelId: string,
): Promise<StoredResource | undefined> {
  let after: string | undefined;
  for (;;) {
    const rows = await store.listChildren(workspaceKey, marketplaceSubscriptions.type, { after, limit: LOOKUP_PAGE });
    const found = rows.find((r) => {
      const p = (r.body.properties ?? {}) as Doc;
      return (
        p.marketplaceSubscriptionStatus === 'Subscribed' &&
        !['Deleting', 'Failed', 'Canceled'].includes(String(p.provisioningState)) &&
        typeof p.modelId === 'string' &&
        sameModel(p.modelId, modelId)
      );
    });
    if (found || rows.length < LOOKUP_PAGE) return found;
    after = rows.at(-1)!.key;
  }
}

/** The type whose creates need a subscription (named here: serverless-endpoints.ts imports this file). */
const ENDPOINT_TYPE = typeName('workspaces/serverlessEndpoints');

/** The model a serverless endpoint document names (`modelSettings.modelId`), if any. */
const modelIdOf = (doc: Doc): string | undefined => {
  const modelId = ((doc.properties as Doc | undefined)?.modelSettings as Doc | null | undefined)?.modelId;
  return typeof modelId === 'string' ? modelId : undefined;
};

/**
 * The `--require-marketplace-subscription` setting: creating a serverless endpoint for a third-party model fails as
 * in Azure (the PUT is accepted, its operation ends Failed) unless its workspace has a Subscribed marketplace
 * subscription for that model, i.e. unless `linkMarketplaceSubscription` found one for the new endpoint.
 */
export function requireMarketplaceSubscriptions(hooks: ManagementHooks): void {
  hooks.onOperationStart.push(async (op, _subject, resource) => {
    if (op.kind !== 'create' || resource.type !== ENDPOINT_TYPE) return;
    const modelId = modelIdOf(resource.body);
    const linked = (resource.body.properties as Doc | undefined)?.marketplaceSubscriptionId;
    if (modelId === undefined || linked !== undefined || !isThirdParty(modelId)) return;
    const workspace = resource.id.split('/').at(-3);
    const model = modelId.slice(0, 300);
    op.failWith ??= {
      code: 'MarketplaceSubscriptionNotFound',
      message:
        `The workspace '${workspace}' has no marketplace subscription for the model '${model}', which is sold ` +
        'through Azure Marketplace. Create a Microsoft.MachineLearningServices/workspaces/marketplaceSubscriptions ' +
        `resource with properties.modelId '${model}' in the workspace first, then create the endpoint again.`,
    };
  });
}

/**
 * A serverless endpoint's link to its model's subscription (`properties.marketplaceSubscriptionId`, read-only: Azure
 * fills it in): the workspace's Subscribed subscription for the model, else the link it had.
 */
export async function linkMarketplaceSubscription(
  ctx: { store: ResourceReader },
  doc: Doc,
  existing: StoredResource | undefined,
  id: string,
): Promise<void> {
  const properties = doc.properties as Doc | undefined;
  const modelId = modelIdOf(doc);
  if (!properties || modelId === undefined) return;
  const found = await findMarketplaceSubscription(ctx.store, parentKeyOf(keyOf(id)), modelId);
  const kept = (existing?.body.properties as Doc | undefined)?.marketplaceSubscriptionId;
  if (found) properties.marketplaceSubscriptionId = found.id;
  else if (kept !== undefined) properties.marketplaceSubscriptionId = kept;
}
