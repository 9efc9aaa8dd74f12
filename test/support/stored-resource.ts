// A resource as the stores keep it, for tests that write through the Store interface directly.
import { randomUUID } from 'node:crypto';
import type { StoredResource } from '../../src/store/types.js';

/** A stored resource `id` of `type` under `parentKey`, with `properties` as its body's properties. */
export function storedResource(
  id: string,
  type: string,
  parentKey: string,
  properties: Record<string, unknown> = { provisioningState: 'Succeeded' },
): StoredResource {
  const now = new Date().toISOString();
  const by = { createdBy: 'x', createdByType: 'User' as const, createdAt: now };
  return {
    key: id.toLowerCase(),
    id,
    name: id.split('/').at(-1)!,
    parentKey,
    type,
    etag: randomUUID(),
    createdAt: now,
    updatedAt: now,
    body: { location: 'eastus', properties },
    internal: {},
    systemData: { ...by, lastModifiedBy: 'x', lastModifiedByType: 'User', lastModifiedAt: now },
  };
}
