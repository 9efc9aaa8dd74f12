import type { LroMode } from '../lro/index.js';

/** `ArmResourceCreateOrReplaceSync|Async`: PUT on the item. */
export interface CreateOrReplaceOperation {
  name: 'createOrReplace';
  /** Absent: synchronous (200/201 with the resource). */
  lro?: LroMode;
  /** What a synchronous create answers: 201 (the default), or 200 where the type's swagger has no 201. */
  createdStatus?: 200 | 201;
  /** Read-only `properties` fields a replacing PUT keeps from the stored resource (e.g. endpointState). */
  serverOwned: readonly string[];
}

export const createOrReplaceSync = (o: { createdStatus?: 200 | 201 } = {}): CreateOrReplaceOperation => ({
  name: 'createOrReplace',
  serverOwned: [],
  createdStatus: o.createdStatus,
});

/** Answers 201/200 with Azure-AsyncOperation (the poller then GETs the resource). */
export const createOrReplaceAsync = (
  o: { serverOwned?: readonly string[]; lro?: LroMode } = {},
): CreateOrReplaceOperation => ({
  name: 'createOrReplace',
  lro: o.lro ?? 'azure-async-operation',
  serverOwned: o.serverOwned ?? [],
});
