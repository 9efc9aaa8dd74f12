import type { Provider } from '../../arm/registry.js';
import { storage } from './storage.js';
import { keyVault } from './key-vault.js';
import { cognitiveServices } from './cognitive-services.js';
import { insights, operationalInsights } from './monitoring.js';
import { authorization, containerRegistry, managedIdentity, network, search } from './others.js';

/**
 * Other providers' types that templates create beside Azure ML's, stored as sent (placeholder.ts): not emulations.
 * Served unless `--no-placeholders` / AMLITE_PLACEHOLDERS=off.
 */
export const PLACEHOLDER_PROVIDERS: Provider[] = [
  storage,
  keyVault,
  cognitiveServices,
  insights,
  operationalInsights,
  containerRegistry,
  managedIdentity,
  search,
  network,
  authorization,
];
