/**
 * The deployment engine's side of the template language: `TemplateContext`. Its answers are synchronous, so what
 * reference() and list*() ask for and is not known yet is noted as missing; `evaluateWithFetch` fetches it through
 * the gateway and evaluates again.
 */
import { randomUUID } from 'node:crypto';
import type { Json, JsonObject, TemplateContext } from '../templates/index.js';
import { ArmError } from '../arm/errors.js';
import { keyOf } from '../arm/ids.js';
import type { Caller, Gateway } from './gateway.js';
import type { Scope } from './state.js';
import { DEPLOYMENT_MAX_FETCH_ROUNDS } from './limits.js';

type Missing =
  | { kind: 'reference'; id: string; apiVersion?: string }
  | { kind: 'list'; action: string; id: string; apiVersion: string; body: Json | undefined };

export interface DeploymentInfo {
  name: string;
  location?: string;
  template: JsonObject;
  templateHash: string;
  parameters: Record<string, unknown>;
  mode: string;
}

export class DeploymentTemplateContext implements TemplateContext {
  readonly subscriptionId: string;
  readonly resourceGroupName?: string;
  readonly tenantId: string;
  /** Rendered resources by key (what a GET answers), as deployed or read. */
  private readonly resources = new Map<string, JsonObject>();
  private readonly lists = new Map<string, Json>();
  private readonly missing: Missing[] = [];

  constructor(
    private readonly gateway: Gateway,
    private readonly caller: Caller,
    readonly scope: Scope,
    private readonly group: JsonObject | undefined,
    private readonly info: DeploymentInfo,
  ) {
    this.subscriptionId = scope.subscriptionId;
    this.resourceGroupName = scope.resourceGroup;
    this.tenantId = caller.principal.tenantId;
  }

  /** The same caches at another scope (a nested deployment's). */
  child(scope: Scope, group: JsonObject | undefined, info: DeploymentInfo): DeploymentTemplateContext {
    const c = new DeploymentTemplateContext(this.gateway, this.caller, scope, group, info);
    for (const [k, v] of this.resources) c.resources.set(k, v);
    for (const [k, v] of this.lists) c.lists.set(k, v);
    return c;
  }

  /** What the deployment learned of a resource (after deploying it): later reference() calls read it. */
  remember(id: string, rendered: JsonObject): void {
    this.resources.set(keyOf(id), rendered);
  }

  forget(id: string): void {
    this.resources.delete(keyOf(id));
  }

  subscription(): JsonObject {
    return {
      id: `/subscriptions/${this.subscriptionId}`,
      subscriptionId: this.subscriptionId,
      tenantId: this.tenantId,
      displayName: 'amlite',
    };
  }

  resourceGroup(): JsonObject | undefined {
    return this.group;
  }

  tenant(): JsonObject {
    return { tenantId: this.tenantId, countryCode: 'US', displayName: 'amlite' };
  }

  deployment(): JsonObject {
    const { name, location, template, templateHash, parameters, mode } = this.info;
    const templateInfo: JsonObject = { contentVersion: (template.contentVersion as Json) ?? '1.0.0.0' };
    if (template.metadata !== undefined) templateInfo.metadata = template.metadata;
    return {
      name,
      ...(location ? { location } : {}),
      properties: {
        template: templateInfo,
        templateHash,
        parameters: parameters as Json,
        mode,
        provisioningState: 'Running',
      },
    };
  }

  environment(): JsonObject {
    return AZURE_CLOUD;
  }

  reference(resourceId: string, apiVersion: string | undefined, full: boolean): Json | undefined {
    const r = this.resources.get(keyOf(resourceId));
    if (!r) {
      this.missing.push({ kind: 'reference', id: resourceId, apiVersion });
      return undefined;
    }
    return full ? r : (r.properties ?? {});
  }

  list(action: string, resourceId: string, apiVersion: string, body: Json | undefined): Json | undefined {
    const key = `${action.toLowerCase()}|${keyOf(resourceId)}|${apiVersion}|${JSON.stringify(body ?? null)}`;
    const hit = this.lists.get(key);
    if (hit !== undefined) return hit;
    this.missing.push({ kind: 'list', action, id: resourceId, apiVersion, body });
    return undefined;
  }

  now(): Date {
    return new Date();
  }

  newGuid(): string {
    return randomUUID();
  }

  /**
   * Runs `evaluate` until it no longer waits on a resource: each round fetches what it asked for (a GET of the
   * resource, or its list* action, as the caller). A resource that cannot be read ends it with the read's error.
   */
  async evaluateWithFetch<T>(evaluate: () => T): Promise<T> {
    for (let round = 0; ; round++) {
      this.missing.length = 0;
      try {
        return evaluate();
      } catch (e) {
        if (!this.missing.length || round >= DEPLOYMENT_MAX_FETCH_ROUNDS) throw e;
      }
      for (const m of this.missing.splice(0)) await this.fetch(m);
    }
  }

  private async fetch(m: Missing): Promise<void> {
    if (m.kind === 'reference') {
      if (this.resources.has(keyOf(m.id))) return;
      this.resources.set(keyOf(m.id), (await this.gateway.get(this.caller, m.id, m.apiVersion)) as JsonObject);
      return;
    }
    const key = `${m.action.toLowerCase()}|${keyOf(m.id)}|${m.apiVersion}|${JSON.stringify(m.body ?? null)}`;
    if (this.lists.has(key)) return;
    const result = await this.gateway.action(this.caller, m.id, m.action, m.apiVersion, m.body ?? undefined);
    if (result === undefined) throw new ArmError(500, 'InternalServerError', `${m.action} answered nothing.`);
    this.lists.set(key, result as Json);
  }
}

/** `environment()` of Azure's public cloud. */
const AZURE_CLOUD: JsonObject = {
  name: 'AzureCloud',
  gallery: 'https://gallery.azure.com/',
  graph: 'https://graph.windows.net/',
  portal: 'https://portal.azure.com',
  graphAudience: 'https://graph.windows.net/',
  activeDirectoryDataLake: 'https://datalake.azure.net/',
  batch: 'https://batch.core.windows.net/',
  media: 'https://rest.media.azure.net',
  sqlManagement: 'https://management.core.windows.net:8443/',
  vmImageAliasDoc:
    'https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json',
  resourceManager: 'https://management.azure.com/',
  authentication: {
    loginEndpoint: 'https://login.microsoftonline.com/',
    audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
    tenant: 'common',
    identityProvider: 'AAD',
  },
  suffixes: {
    acrLoginServer: '.azurecr.io',
    azureDatalakeAnalyticsCatalogAndJob: 'azuredatalakeanalytics.net',
    azureDatalakeStoreFileSystem: 'azuredatalakestore.net',
    azureFrontDoorEndpointSuffix: 'azurefd.net',
    keyvaultDns: '.vault.azure.net',
    sqlServerHostname: '.database.windows.net',
    storage: 'core.windows.net',
  },
};
