import type { StoredResource } from '../../../store/types.js';

type Doc = Record<string, unknown>;

export const propsOf = (r: StoredResource) => r.body.properties as Doc;

/** Scale units the group asks for: its sku capacity (in nodes) over the nodes per scale unit. */
export function requestedUnits(r: StoredResource): number {
  const size = Math.max(1, (propsOf(r).scaleUnitSize as number | undefined) ?? 1);
  const capacity = ((r.body.sku as Doc | undefined)?.capacity as number | undefined) ?? size;
  return Math.max(0, Math.ceil(capacity / size));
}

export function capacityInfo(r: StoredResource) {
  const n = requestedUnits(r);
  const none = { total: n, succeeded: 0, failed: 0, outdatedSucceeded: 0, outdatedFailed: 0 };
  switch (propsOf(r).provisioningState) {
    case 'Creating':
      return none;
    case 'Updating':
      return { ...none, outdatedSucceeded: n };
    case 'Failed':
      return { ...none, failed: n };
    default:
      return { ...none, succeeded: n };
  }
}

/** Instances that serve requests now (what getStatus shows as succeeded, outdated or not): the data plane's capacity. */
export function servingInstances(group: StoredResource): number {
  const info = capacityInfo(group);
  return info.succeeded + info.outdatedSucceeded;
}
