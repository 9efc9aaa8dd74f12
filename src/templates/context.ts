/**
 * What a template's context functions ask of the deployment engine. The engine implements `TemplateContext`;
 * resourceId & co. are pure string building from its subscription and resource group (`resource-ids.ts`).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface TemplateContext {
  readonly subscriptionId: string;
  /** Absent for a subscription-scope deployment. */
  readonly resourceGroupName?: string;
  readonly tenantId: string;
  /** `subscription()`: { id, subscriptionId, tenantId, displayName }. */
  subscription(): JsonObject;
  /** `resourceGroup()`: { id, name, type, location, managedBy?, tags, properties }; undefined at subscription scope. */
  resourceGroup(): JsonObject | undefined;
  /** `tenant()`: { tenantId, countryCode, displayName }. */
  tenant(): JsonObject;
  /** `deployment()`: { name, properties: { templateLink?, template: { contentVersion, ... } }, location? }. */
  deployment(): JsonObject;
  /** `environment()`: { name, gallery, graph, portal, resourceManager, authentication, suffixes, ... }. */
  environment(): JsonObject;
  /**
   * `reference(id, apiVersion?, 'full'?)`: the resource's properties (or, with full, the whole resource).
   * undefined means "not deployed yet": the value is deferred and re-evaluated once the engine has it.
   */
  reference(resourceId: string, apiVersion: string | undefined, full: boolean): Json | undefined;
  /** `list*(id, apiVersion, body?)`: POST {id}/{action}; undefined defers as for reference(). */
  list(action: string, resourceId: string, apiVersion: string, body: Json | undefined): Json | undefined;
  /** The clock for utcNow() (parameter defaults only) and the source of newGuid(). */
  now(): Date;
  newGuid(): string;
}
