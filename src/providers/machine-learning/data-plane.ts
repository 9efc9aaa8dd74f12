import type { StoredResource } from '../../store/types.js';
import type { ServingTarget } from '../../inference/serving.js';
import { apiError } from '../../inference/errors.js';
import { parseDuration } from '../../arm/duration.js';
import { keysOf, serverlessEndpoints } from './serverless-endpoints.js';
import { inferenceEndpoints } from './inference-pools/endpoints.js';
import { childKey } from '../../arm/ids.js';
import { GROUP_TYPE, routedGroupName } from './inference-pools/family.js';
import { servingInstances } from './inference-pools/capacity.js';
import { FIRST_PARTY_REGISTRY } from './marketplace-subscriptions.js';

type Doc = Record<string, unknown>;

const propsOf = (r: StoredResource) => (r.body.properties ?? {}) as Doc;

/** Provisioning states in which an Online serverless endpoint does not serve: not yet created, or going away. */
const NOT_SERVING = new Set(['Creating', 'Deleting']);
/** Pool endpoints have no endpointState: they serve once created, and while an update runs. */
const POOL_SERVING = new Set(['Succeeded', 'Updating']);

/**
 * The model a serverless endpoint serves: `modelSettings.modelId`; for an endpoint created from an `offer` only (the
 * S1 family, 2023-08-01-preview), the catalog id of the offer's model,
 * `azureml://registries/azureml-<publisher, lower case>/models/<offerName>` (publisher `Microsoft`: the first-party
 * registry `azureml`), the inverse of how later versions render an offer; otherwise the endpoint's name.
 */
export function servedModelId(props: Doc, endpointName: string): string {
  const modelId = (props.modelSettings as Doc | null | undefined)?.modelId;
  if (typeof modelId === 'string' && modelId) return modelId;
  const offer = props.offer as Doc | null | undefined;
  if (typeof offer?.publisher !== 'string' || typeof offer.offerName !== 'string') return endpointName;
  const publisher = offer.publisher.toLowerCase();
  const registry = publisher === 'microsoft' ? FIRST_PARTY_REGISTRY : `azureml-${publisher}`;
  return `azureml://registries/${registry}/models/${offer.offerName}`;
}

/** Serverless endpoints: keys or AAD as authMode says; they serve while Online; the model is servedModelId. */
const serverless: ServingTarget = {
  prefix: 'serverless',
  type: serverlessEndpoints.type,
  authMode: (endpoint) => String(propsOf(endpoint).authMode ?? 'Key'),
  keys: (endpoint) => keysOf(endpoint),
  serve: async (endpoint) => {
    const props = propsOf(endpoint);
    // As in Azure, an endpoint being updated (or whose update failed) keeps serving: endpointState says.
    const state = String(props.endpointState);
    if (state !== 'Online' || NOT_SERVING.has(String(props.provisioningState)))
      throw apiError(
        409,
        'EndpointNotReady',
        `The serverless endpoint '${endpoint.name}' is not serving requests: ` +
          `its provisioningState is '${props.provisioningState}' and its endpointState is '${state}'. ` +
          'It serves while it is Online (not Creating or Deleting).',
      );
    const modelId = servedModelId(props, endpoint.name);
    const safety = props.contentSafety as Doc | null | undefined;
    return { modelId, contentSafety: safety?.contentSafetyStatus === 'Enabled' };
  },
};

/** Pool endpoints: AAD only; they serve the model of the group they route to, within its instances' capacity. */
const poolEndpoints: ServingTarget = {
  prefix: 'pools',
  type: inferenceEndpoints.type,
  authMode: () => 'AAD',
  keys: () => undefined,
  serve: async (endpoint, store) => {
    const props = propsOf(endpoint);
    if (!POOL_SERVING.has(String(props.provisioningState)))
      throw apiError(
        409,
        'EndpointNotReady',
        `The pool endpoint '${endpoint.name}' is not serving requests: its ` +
          `provisioningState is '${props.provisioningState}'. It serves once Succeeded, and while Updating.`,
      );
    // The group is a sibling under the endpoint's own pool (its stored parent), whatever its ancestors are named.
    const group = await store.get(childKey(endpoint.parentKey, GROUP_TYPE, routedGroupName(props)));
    if (!group) {
      throw apiError(
        409,
        'EndpointNotReady',
        `The pool endpoint '${endpoint.name}' routes to the group ` +
          `'${routedGroupName(props)}', which does not exist.`,
      );
    }
    const groupProps = propsOf(group);
    const modelId = String((groupProps.modelConfiguration as Doc | null | undefined)?.modelId ?? group.name);
    const config = (props.requestConfiguration ?? {}) as Doc;
    const instances = servingInstances(group);
    if (instances === 0) {
      throw apiError(
        409,
        'EndpointNotReady',
        `The group '${group.name}' behind the pool endpoint '${endpoint.name}' ` +
          `has no instance serving (its provisioningState is '${String(groupProps.provisioningState)}').`,
      );
    }
    return {
      modelId,
      contentSafety: false,
      maxInFlight: Number(config.maxConcurrentRequestsPerInstance ?? 1) * instances,
      timeoutMs: positive(parseDuration(String(config.requestTimeout ?? 'PT5S'))),
    };
  },
};

const positive = (ms: number) => (ms > 0 ? ms : undefined);

/** What Azure ML's data plane serves, per type. */
export const servingTargets: ServingTarget[] = [serverless, poolEndpoints];
