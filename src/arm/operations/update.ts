import type { LroMode } from '../lro/index.js';

/** `ArmResourcePatchSync|Async` / `ArmCustomPatchSync|Async`: PATCH on the item. */
export interface UpdateOperation {
  name: 'update';
  lro?: LroMode;
  /** Whether the PATCH merges into `properties` (RFC 7396) besides tags, sku and identity. */
  mergeProperties: boolean;
}

export const updateSync = (o: { mergeProperties?: boolean } = {}): UpdateOperation => ({
  name: 'update',
  mergeProperties: o.mergeProperties ?? false,
});

/** Answers 202 with Location; the result URL's 200 body is the resource. */
export const updateAsync = (o: { mergeProperties?: boolean; lro?: LroMode } = {}): UpdateOperation => ({
  name: 'update',
  lro: o.lro ?? 'location',
  mergeProperties: o.mergeProperties ?? false,
});
