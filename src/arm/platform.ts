import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Reply } from './engine.js';
import type { Principal, RequestContext } from './context.js';
import type { ResourceType } from './resource-type.js';
import type { TypeRegistry } from './registry.js';
import type { Store } from '../store/types.js';
import { ArmError, errors } from './errors.js';
import { isGuid } from './ids.js';
import { nextLink } from './paging.js';
import { REGIONS } from './regions.js';
import { RESOURCE_GROUP_API_VERSIONS, RESOURCE_GROUP_TYPE } from './resource-groups.js';
import { TAGS_SUFFIX, tagsAtScope, type TagsDeps } from './tags-api.js';

/**
 * ARM's platform around the resource providers, as management.azure.com answers it: the cloud metadata tools
 * register a cloud from (`/metadata/endpoints`), the caller's subscriptions and tenants (`az login` lists them), a
 * subscription's locations, and ARM's answer to a path under a provider that names no type it serves.
 */

/** The api-versions of `/metadata/endpoints`: 2015-01-01 is one cloud's object, the later ones a list of clouds. */
export const METADATA_API_VERSIONS = ['2015-01-01', '2018-01-01', '2019-05-01', '2020-06-01', '2022-09-01'];

/** The api-versions of Microsoft.Resources' subscriptions, tenants and locations operations. */
export const SUBSCRIPTION_API_VERSIONS = [
  '2014-04-01',
  '2015-01-01',
  '2016-01-01',
  '2016-06-01',
  '2018-06-01',
  '2019-06-01',
  '2019-11-01',
  '2020-01-01',
  '2021-01-01',
  '2022-01-01',
  '2022-12-01',
  '2023-07-01',
  '2024-11-01',
];

/** Subscriptions per page of `GET /subscriptions` (keyset paging with `$skipToken`). */
export const SUBSCRIPTIONS_PAGE_SIZE = 100;

/** The subscription every caller is shown unless configured otherwise (what `amlite connect` uses too). */
export const DEFAULT_SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';

/** The cloud name amlite's metadata gives itself (what `az cloud register -n` is usually given too). */
export const CLOUD_NAME = 'amlite';

/** The audiences ARM's own metadata lists: the resource ids clients ask tokens for. */
const AUDIENCES = ['https://management.core.windows.net/', 'https://management.azure.com/'];

type Params = Record<string, string>;

function askedVersion(req: FastifyRequest, supported: readonly string[], anyApiVersion: boolean): string {
  const v = (req.query as Record<string, unknown>)['api-version'];
  const asked = Array.isArray(v) ? String(v[0]) : typeof v === 'string' ? v : '';
  if (!asked) throw errors.missingApiVersion();
  const known = supported.find((s) => s.toLowerCase() === asked.toLowerCase());
  if (known) return known;
  if (anyApiVersion) return supported.at(-1)!;
  throw errors.invalidApiVersion(asked, supported);
}

/**
 * `GET /metadata/endpoints`, unauthenticated as ARM's is. amlite is the resource manager, the login endpoint (its
 * token issuer) and the portal (its dashboard); the token audiences stay ARM's; the endpoints of services amlite does
 * not emulate (gallery, batch, SQL, storage suffixes…) stay Azure's public ones. The 2015-01-01 form's login endpoint
 * is the issuer under `/adfs`: the Azure CLI before 2.54 reads that form and skips MSAL's instance discovery (a call
 * to login.microsoftonline.com) only for an authority ending in `/adfs`.
 */
export function metadataRoutes(app: FastifyInstance, opts: { anyApiVersion: boolean }): void {
  app.get('/metadata/endpoints', async (req) => {
    const version = askedVersion(req, METADATA_API_VERSIONS, opts.anyApiVersion);
    const origin = `${req.protocol}://${req.host}`;
    if (version === '2015-01-01') {
      return {
        galleryEndpoint: 'https://gallery.azure.com/',
        graphEndpoint: 'https://graph.windows.net/',
        portalEndpoint: `${origin}/_dashboard/`,
        authentication: { loginEndpoint: `${origin}/adfs`, audiences: AUDIENCES },
      };
    }
    return [cloudMetadata(origin)];
  });
}

/** One cloud in the form of api-version 2019-05-01 and later (2022-09-01 adds resource ids and suffixes). */
export function cloudMetadata(origin: string): Record<string, unknown> {
  return {
    name: CLOUD_NAME,
    portal: `${origin}/_dashboard/`,
    resourceManager: `${origin}/`,
    authentication: {
      loginEndpoint: `${origin}/`,
      audiences: AUDIENCES,
      tenant: 'common',
      identityProvider: 'AAD',
    },
    media: 'https://rest.media.azure.net',
    graphAudience: 'https://graph.windows.net/',
    graph: 'https://graph.windows.net/',
    batch: 'https://batch.core.windows.net/',
    vmImageAliasDoc:
      'https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json',
    activeDirectoryDataLake: 'https://datalake.azure.net/',
    sqlManagement: 'https://management.core.windows.net:8443/',
    gallery: 'https://gallery.azure.com/',
    microsoftGraphResourceId: 'https://graph.microsoft.com/',
    appInsightsResourceId: 'https://api.applicationinsights.io',
    appInsightsTelemetryChannelResourceId: 'https://dc.applicationinsights.azure.com/v2/track',
    attestationResourceId: 'https://attest.azure.net',
    synapseAnalyticsResourceId: 'https://dev.azuresynapse.net',
    logAnalyticsResourceId: 'https://api.loganalytics.io',
    ossrdbmsResourceId: 'https://ossrdbms-aad.database.windows.net',
    suffixes: {
      azureDataLakeStoreFileSystem: 'azuredatalakestore.net',
      acrLoginServer: 'azurecr.io',
      sqlServerHostname: 'database.windows.net',
      azureDataLakeAnalyticsCatalogAndJob: 'azuredatalakeanalytics.net',
      keyVaultDns: 'vault.azure.net',
      storage: 'core.windows.net',
      azureFrontDoorEndpointSuffix: 'azurefd.net',
      storageSyncEndpointSuffix: 'afs.azure.net',
      mhsmDns: 'managedhsm.azure.net',
      mysqlServerEndpoint: 'mysql.database.azure.com',
      postgresqlServerEndpoint: 'postgres.database.azure.com',
      mariadbServerEndpoint: 'mariadb.database.azure.com',
      synapseAnalytics: 'dev.azuresynapse.net',
      attestationEndpoint: 'attest.azure.net',
    },
  };
}

export interface PlatformDeps extends TagsDeps {
  store: Store;
  registry: TypeRegistry;
  context(req: FastifyRequest, t: ResourceType | undefined, versions: readonly string[]): RequestContext;
  send(reply: FastifyReply, r: Reply): FastifyReply;
  anyApiVersion: boolean;
  /** The subscription every caller has (listed first; config `defaultSubscription`). */
  defaultSubscription: string;
  /** Strict mode: the tenant a subscription is bound to (undefined when unbound). Absent: no tenants kept. */
  tenantOf?: (subscriptionId: string) => Promise<string | undefined>;
}

/** The routes that need the caller (registered inside the management plane, behind its authentication). */
export function platformRoutes(app: FastifyInstance, deps: PlatformDeps): void {
  const { store, send } = deps;
  const version = (req: FastifyRequest) => {
    deps.context(req, undefined, []);
    return askedVersion(req, SUBSCRIPTION_API_VERSIONS, deps.anyApiVersion);
  };
  const principalOf = (req: FastifyRequest) => deps.context(req, undefined, []).principal;

  /** The subscriptions below `after` (lower case, ordered) that hold resource groups: one index probe each. */
  async function subscriptionsWithResources(after: string | undefined, limit: number): Promise<string[]> {
    const found: string[] = [];
    let cursor = after ? `/subscriptions/${after}0` : '';
    while (found.length < limit) {
      const [group] = await store.listBelow('', RESOURCE_GROUP_TYPE, { after: cursor, limit: 1 });
      if (!group) break;
      const sub = group.key.split('/')[2];
      found.push(sub);
      // '0' sorts just after '/': the next probe starts past every key of this subscription.
      cursor = `/subscriptions/${sub}0`;
    }
    return found;
  }

  /** In strict mode, the subscriptions bound to the caller's tenant (the default one while unbound); else all. */
  async function visible(sub: string, principal: Principal): Promise<string | undefined> {
    if (!deps.tenantOf) return principal.tenantId;
    const bound = await deps.tenantOf(sub);
    if (bound === undefined) return sub === deps.defaultSubscription.toLowerCase() ? principal.tenantId : undefined;
    return bound.toLowerCase() === principal.tenantId.toLowerCase() ? bound : undefined;
  }

  app.get('/subscriptions', async (req, reply) => {
    version(req);
    const ctx = deps.context(req, undefined, []);
    const token = ctx.url.searchParams.get('$skipToken') ?? undefined;
    if (token !== undefined && !isGuid(token))
      throw errors.badRequest(`The continuation token '${token.slice(0, 100)}' is not valid.`, '$skipToken');
    const after = token?.toLowerCase();
    const ids = await subscriptionsWithResources(after, SUBSCRIPTIONS_PAGE_SIZE + 1);
    // Strict mode: also the subscriptions bound to the caller's tenant that hold no resource group yet.
    const bound = deps.tenantOf
      ? await store.subscriptionsOf(ctx.principal.tenantId, { after, limit: SUBSCRIPTIONS_PAGE_SIZE + 1 })
      : [];
    for (const sub of bound) if (!ids.includes(sub)) ids.push(sub);
    const fallback = deps.defaultSubscription.toLowerCase();
    if ((!after || fallback > after) && !ids.includes(fallback)) ids.push(fallback);
    ids.sort();
    const page = ids.slice(0, SUBSCRIPTIONS_PAGE_SIZE);
    const value: Record<string, unknown>[] = [];
    for (const sub of page) {
      const tenant = await visible(sub, ctx.principal);
      if (tenant) value.push(subscription(sub, tenant, fallback));
    }
    const body: Record<string, unknown> = { value, count: { type: 'Total', value: value.length } };
    if (ids.length > SUBSCRIPTIONS_PAGE_SIZE) body.nextLink = nextLink(ctx, '$skipToken', page.at(-1)!);
    return send(reply, { status: 200, body });
  });

  app.get('/subscriptions/:subscriptionId', async (req, reply) => {
    version(req);
    const { subscriptionId } = req.params as Params;
    const principal = principalOf(req);
    // Strict mode's authentication has bound the subscription to the caller's tenant, or refused the call.
    const tenant = (await deps.tenantOf?.(subscriptionId)) ?? principal.tenantId;
    const body = subscription(subscriptionId.toLowerCase(), tenant, deps.defaultSubscription.toLowerCase());
    return send(reply, { status: 200, body });
  });

  app.get('/subscriptions/:subscriptionId/locations', async (req, reply) => {
    version(req);
    const sub = (req.params as Params).subscriptionId.toLowerCase();
    return send(reply, { status: 200, body: { value: REGIONS.map((r) => location(sub, r)) } });
  });

  app.get('/tenants', async (req, reply) => {
    version(req);
    const tid = principalOf(req).tenantId;
    const body = {
      value: [
        {
          id: `/tenants/${tid}`,
          tenantId: tid,
          tenantCategory: 'Home',
          country: 'United States',
          countryCode: 'US',
          displayName: `amlite tenant ${tid}`,
          domains: ['amlite.local'],
          defaultDomain: 'amlite.local',
          tenantType: 'AAD',
        },
      ],
    };
    return send(reply, { status: 200, body });
  });

  unknownTypeRoutes(app, deps);
}

function subscription(sub: string, tenantId: string, fallback: string): Record<string, unknown> {
  return {
    id: `/subscriptions/${sub}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: sub,
    tenantId,
    displayName: sub === fallback ? 'amlite default subscription' : `amlite subscription ${sub}`,
    state: 'Enabled',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'PayAsYouGo_2014-09-01',
      spendingLimit: 'Off',
    },
    tags: {},
  };
}

function location(sub: string, r: (typeof REGIONS)[number]): Record<string, unknown> {
  return {
    id: `/subscriptions/${sub}/locations/${r.name}`,
    name: r.name,
    type: 'Region',
    displayName: r.displayName,
    regionalDisplayName: `(${r.geographyGroup}) ${r.displayName}`,
    metadata: {
      regionType: 'Physical',
      regionCategory: 'Recommended',
      geographyGroup: r.geographyGroup,
      longitude: r.longitude,
      latitude: r.latitude,
      physicalLocation: r.displayName,
    },
  };
}

/**
 * A path under `/providers/{namespace}/…` that no route serves: ARM's InvalidResourceNamespace for a namespace it
 * does not know, InvalidResourceType for a type the namespace does not have (or not at that path), 405 for a method
 * a served type's path does not take. Never the framework's "No HTTP resource was found".
 */
function unknownTypeRoutes(app: FastifyInstance, deps: PlatformDeps): void {
  const namespaces = deps.registry.providers.map((p) => p.namespace);
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = deps.context(req, undefined, []);
    const params = req.params as Params;
    const atGroup = params.resourceGroupName !== undefined;
    const ns = namespaces.find((n) => n.toLowerCase() === params.namespace.toLowerCase());
    if (!ns)
      throw new ArmError(
        400,
        'InvalidResourceNamespace',
        `The resource namespace '${params.namespace}' is invalid: amlite emulates ${namespaces.join(', ')}.`,
        params.namespace,
      );
    const rest = params['*'] ?? '';
    const group = atGroup ? `/resourceGroups/${params.resourceGroupName}` : '';
    const base = `/subscriptions/${params.subscriptionId}${group}`;
    const path = `${base}/providers/${params.namespace}/${rest}`.replace(/\/+$/, '');
    if (TAGS_SUFFIX.test(path)) {
      const scope = path.replace(TAGS_SUFFIX, '');
      if (scope === base && !atGroup)
        throw errors.badRequest('amlite keeps tags on resource groups and resources, not on subscriptions.', scope);
      askedVersion(req, RESOURCE_GROUP_API_VERSIONS, deps.anyApiVersion);
      return deps.send(reply, await tagsAtScope(req.method, scope, req.body, ctx, deps));
    }
    const segments = rest.split('/').filter(Boolean);
    const typePath = segments.filter((_, i) => i % 2 === 0).join('/');
    const t = typePath ? deps.registry.find(`${ns}/${typePath}`) : undefined;
    if (t && atGroup === !t.scope)
      throw new ArmError(
        405,
        'MethodNotAllowed',
        `The requested resource does not support http method '${req.method}'.`,
      );
    const where = t ? ` at this path (it lives under ${atGroup ? 'a subscription' : 'a resource group'})` : '';
    throw new ArmError(
      400,
      'InvalidResourceType',
      `The resource type '${typePath}' could not be found in the namespace '${ns}' for api version ` +
        `'${ctx.apiVersion}'${where}.`,
      typePath,
    );
  };
  const methods = ['GET', 'PUT', 'PATCH', 'DELETE', 'POST', 'HEAD'] as const;
  app.route({ method: [...methods], url: '/subscriptions/:subscriptionId/providers/:namespace/*', handler });
  app.route({
    method: [...methods],
    url: '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/:namespace/*',
    handler,
  });
}
