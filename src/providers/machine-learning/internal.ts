import type { Internal, StoredResource } from '../../store/types.js';

/** An endpoint's two keys, as listKeys shows them. */
export interface EndpointKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** The delta models loaded on an inference group, per base model, and the revision of that set. */
export interface DeltaState {
  models: Record<string, string[]>;
  revision: number;
}

/** What Azure ML's types keep beside the client-visible document (never shown as such). */
export interface MlInternal extends Internal {
  /** Serverless endpoints: the keys the data plane accepts. */
  keys?: EndpointKeys;
  /** Inference groups: the delta models loaded. */
  deltaModels?: DeltaState;
}

/** The typed view of a resource's internal state. */
export const internalOf = (r: StoredResource): MlInternal => r.internal as MlInternal;
