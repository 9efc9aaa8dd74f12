import type { StoredResource } from '../../store/types.js';
import {
  fillProperties,
  host,
  keysAction,
  mintedOf,
  placeholder,
  placeholderProvider,
  propsOf,
} from './placeholder.js';
import type { Doc } from './placeholder.js';

const VERSION = '2025-06-01';

/** The DNS label of an account: its custom subdomain when it has one, else its name. */
const labelOf = (r: StoredResource): string => {
  const sub = propsOf(r.body).customSubDomainName;
  return host(typeof sub === 'string' && sub ? sub : r.name);
};

/** The endpoints an AI Services / OpenAI / Cognitive Services account shows, by kind. */
function endpointsOf(r: StoredResource, kind: string): { endpoint: string; endpoints: Doc } {
  const label = labelOf(r);
  const cognitive = `https://${label}.cognitiveservices.azure.com/`;
  const openai = `https://${label}.openai.azure.com/`;
  const services = `https://${label}.services.ai.azure.com/`;
  if (kind === 'openai') return { endpoint: openai, endpoints: { 'OpenAI Language Model Instance API': openai } };
  if (kind !== 'aiservices') return { endpoint: cognitive, endpoints: { [`${r.name} API`]: cognitive } };
  return {
    endpoint: cognitive,
    endpoints: {
      'AI Foundry API': services,
      'OpenAI Language Model Instance API': openai,
      'Azure AI Model Inference API': services,
      'Content Safety': cognitive,
    },
  };
}

/** An AI Services (or other Cognitive Services) account: its endpoints, and `listKeys` as `{ key1, key2 }`. */
export const accounts = placeholder({
  type: 'Microsoft.CognitiveServices/accounts',
  param: 'accountName',
  version: VERSION,
  fill: (r, doc) => {
    const kind = typeof doc.kind === 'string' ? doc.kind.toLowerCase() : '';
    fillProperties(doc, { ...endpointsOf(r, kind), internalId: mintedOf(r).guids[0].replaceAll('-', '') });
  },
  actions: [
    keysAction('listKeys', (r) => {
      const [a, b] = mintedOf(r).keys;
      return { key1: a.subarray(0, 16).toString('hex'), key2: b.subarray(0, 16).toString('hex') };
    }),
  ],
});

const deployments = placeholder({
  type: 'Microsoft.CognitiveServices/accounts/deployments',
  parent: accounts,
  param: 'deploymentName',
  version: VERSION,
});

/** A Foundry project of an AI Services account: its endpoint below the account's. */
const projects = placeholder({
  type: 'Microsoft.CognitiveServices/accounts/projects',
  parent: accounts,
  param: 'projectName',
  version: VERSION,
  fill: (r, doc) => {
    const account = host(r.id.split('/').at(-3)!);
    const api = `https://${account}.services.ai.azure.com/api/projects/${r.name}`;
    fillProperties(doc, { endpoints: { 'AI Foundry API': api }, internalId: mintedOf(r).guids[0].replaceAll('-', '') });
  },
});

const accountConnections = placeholder({
  type: 'Microsoft.CognitiveServices/accounts/connections',
  parent: accounts,
  param: 'connectionName',
  version: VERSION,
  writeOnly: ['properties.credentials'],
});
const projectConnections = placeholder({
  type: 'Microsoft.CognitiveServices/accounts/projects/connections',
  parent: projects,
  param: 'connectionName',
  version: VERSION,
  writeOnly: ['properties.credentials'],
});
const accountCapabilityHosts = placeholder({
  type: 'Microsoft.CognitiveServices/accounts/capabilityHosts',
  parent: accounts,
  param: 'capabilityHostName',
  version: VERSION,
});
const projectCapabilityHosts = placeholder({
  type: 'Microsoft.CognitiveServices/accounts/projects/capabilityHosts',
  parent: projects,
  param: 'capabilityHostName',
  version: VERSION,
});

export const cognitiveServices = placeholderProvider('Microsoft.CognitiveServices', [
  accounts,
  deployments,
  projects,
  accountConnections,
  projectConnections,
  accountCapabilityHosts,
  projectCapabilityHosts,
]);
