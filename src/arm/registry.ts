import type { OperationUrlShapes } from './lro/index.js';
import { lineage, type ResourceType } from './resource-type.js';
import { ARM_OPERATION_URLS, resourceGroups } from './resource-groups.js';

/** A resource provider as ARM sees it: a namespace, where its operations are polled, and its types. */
export interface Provider {
  namespace: string;
  operationUrls: OperationUrlShapes;
  /** Parents before children. */
  types: ResourceType[];
}

/** ARM's own provider: resource groups. */
export const ARM_PROVIDER: Provider = {
  namespace: 'Microsoft.Resources',
  operationUrls: ARM_OPERATION_URLS,
  types: [resourceGroups],
};

/**
 * Every type served, resource groups included: lookups by type name (case-insensitive), parents, children and
 * lineage. Built once at start-up; the one list of types every other part reads.
 */
export class TypeRegistry {
  /** Every type, ARM's own first, parents before children. */
  readonly all: readonly ResourceType[];
  /** The providers' types (without resource groups). */
  readonly providerTypes: readonly ResourceType[];
  readonly providers: readonly Provider[];
  private readonly byName = new Map<string, ResourceType>();
  private readonly providerOf = new Map<ResourceType, Provider>();
  /** Precomputed: the hot path (GET by id) checks every ancestor's name against its type's lineage. */
  private readonly lineages = new Map<ResourceType, ResourceType[]>();

  constructor(providers: Provider[]) {
    this.providers = [ARM_PROVIDER, ...providers];
    for (const p of this.providers) {
      for (const t of p.types) {
        this.byName.set(t.type.toLowerCase(), t);
        this.providerOf.set(t, p);
      }
    }
    this.all = this.providers.flatMap((p) => p.types);
    for (const t of this.all) this.lineages.set(t, t.scope === 'subscription' ? [t] : [resourceGroups, ...lineage(t)]);
    this.providerTypes = providers.flatMap((p) => p.types);
  }

  /** The type named `type` (any casing). */
  find(type: string): ResourceType | undefined {
    return this.byName.get(type.toLowerCase());
  }

  /** Where operations on resources of `t` are polled. */
  operationUrlsOf(t: ResourceType | undefined): OperationUrlShapes {
    return (t && this.providerOf.get(t)?.operationUrls) ?? ARM_OPERATION_URLS;
  }

  /** The types directly below `t`: for resource groups, every provider's top-level types. */
  children(t: ResourceType): ResourceType[] {
    if (t === resourceGroups) return this.providerTypes.filter((c) => !c.parent && !c.scope);
    return this.providerTypes.filter((c) => c.parent === t);
  }

  /** The chain of types a resource of `t` lives under, from the resource group down to `t` itself. */
  lineage(t: ResourceType): ResourceType[] {
    return this.lineages.get(t) ?? (t.scope === 'subscription' ? [t] : [resourceGroups, ...lineage(t)]);
  }

  /** Every provider's namespace (ARM's own excluded). */
  get namespaces(): string[] {
    return this.providers.filter((p) => p !== ARM_PROVIDER).map((p) => p.namespace);
  }
}
