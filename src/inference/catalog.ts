import { readFileSync } from 'node:fs';
import type { Backend } from './backend.js';
import { SimulatedBackend } from './backends/simulated.js';
import { OpenAICompatibleBackend } from './backends/openai-compatible.js';
import { globMatch } from '../glob.js';
import { apiError } from './errors.js';
import { assertServable, creationError, entryLabel, labelled } from './catalog-health.js';
import { MAX_EMBEDDING_DIMENSIONS, limitsOf, type ModelLimits } from './input-limits.js';
import { FEATURE_NAMES, type ModelFeatures } from './tools/chat-features.js';

/**
 * The catalog maps model ids to backends. A JSON file (--catalog FILE):
 * {
 *   "models": [
 *     { "match": "*embed*", "backend": "simulated", "dimensions": 768 },
 *     { "match": "azureml://registries/azureml-meta/*", "backend": "openai-compatible", "url": "http://127.0.0.1:11434/v1", "model": "llama3.2" },
 *     { "match": "*Phi-4*", "backend": "llama-cpp", "modelPath": "/models/phi-4-q4.gguf" },
 *     { "match": "*", "backend": "simulated", "tokensPerSecond": 50 }
 *   ],
 *   "contentSafety": { "blocklist": ["forbidden phrase"] }
 * }
 * The first entry whose `match` (a glob: * and ?, case-insensitive) fits the model id wins.
 */
export interface CatalogEntry {
  match: string;
  backend: 'simulated' | 'openai-compatible' | 'llama-cpp';
  /** simulated */
  tokensPerSecond?: number;
  replyTokens?: number;
  /** Any backend: the embeddings' size, the largest `dimensions` a request may ask for (simulated default 1024). */
  dimensions?: number;
  /** openai-compatible */
  url?: string;
  model?: string;
  apiKey?: string;
  /** llama-cpp */
  modelPath?: string;
  /** Any backend: the model's context in tokens; longer prompts answer 400 (simulated default 128,000 / 8,192). */
  contextSize?: number;
  /** CPU threads (default: cores - 1) and requests generated at once (default 2). */
  threads?: number;
  parallel?: number;
  /** Any backend: what the model cannot do, e.g. { "tools": false }; a request using it answers 422. */
  features?: ModelFeatures;
}

export interface CatalogFile {
  models: CatalogEntry[];
  contentSafety?: { blocklist?: string[] };
}

/** Used when no --catalog is given: every model is simulated. */
export const DEFAULT_CATALOG: CatalogFile = {
  models: [{ match: '*', backend: 'simulated' }],
  contentSafety: { blocklist: ['amlite:blocked'] },
};

export class CatalogError extends Error {}

/** The longest model id the data plane looks up in the catalog; a longer one answers 400. */
export const MAX_MODEL_ID_CHARS = 1024;

export class Catalog {
  private readonly backends = new Map<CatalogEntry, Promise<Backend>>();
  readonly blocklist: string[];

  constructor(readonly file: CatalogFile) {
    this.blocklist = (file.contentSafety?.blocklist ?? DEFAULT_CATALOG.contentSafety!.blocklist!).map((w) =>
      w.toLowerCase(),
    );
  }

  static load(path: string | undefined): Catalog {
    if (!path) return new Catalog(DEFAULT_CATALOG);
    let file: CatalogFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new CatalogError(`cannot read the catalog ${path}: ${(e as Error).message}`);
    }
    if (!Array.isArray(file.models)) throw new CatalogError(`the catalog ${path} needs a "models" array`);
    for (const [i, e] of file.models.entries()) {
      if (typeof e.match !== 'string') throw new CatalogError(`catalog models[${i}] needs a "match" glob`);
      if (!['simulated', 'openai-compatible', 'llama-cpp'].includes(e.backend))
        throw new CatalogError(`catalog models[${i}].backend must be simulated, openai-compatible or llama-cpp`);
      if (e.backend === 'openai-compatible' && !e.url)
        throw new CatalogError(`catalog models[${i}] (openai-compatible) needs a "url"`);
      if (e.backend === 'llama-cpp' && !e.modelPath)
        throw new CatalogError(`catalog models[${i}] (llama-cpp) needs a "modelPath" to a local GGUF file`);
      checkModelLimits(e, i);
      checkFeatureFlags(e.features, i);
    }
    return new Catalog(file);
  }

  /** The backend serving `modelId`; created once per catalog entry and shared by every endpoint it matches. */
  backendFor(modelId: string): Promise<Backend> {
    if (modelId.length > MAX_MODEL_ID_CHARS) {
      return Promise.reject(
        apiError(
          400,
          'InvalidModelId',
          `The endpoint's model id has ${modelId.length} characters; the most amlite serves is ${MAX_MODEL_ID_CHARS}.`,
        ),
      );
    }
    const entry = this.file.models.find((e) => globMatch(e.match, modelId)) ?? DEFAULT_CATALOG.models[0];
    assertServable(this.file, entry, modelId);
    let backend = this.backends.get(entry);
    if (!backend) {
      const label = entryLabel(this.file, entry);
      backend = create(entry).then(
        (b) => (entry.backend === 'simulated' ? b : labelled(b, label)),
        (e: unknown) => {
          this.backends.delete(entry);
          throw creationError(this.file, entry, e);
        },
      );
      this.backends.set(entry, backend);
    }
    return backend;
  }

  /** The limits a request to `modelId` must keep (call after backendFor, which checks the model id). */
  limitsFor(modelId: string): ModelLimits {
    return limitsOf(this.file.models.find((e) => globMatch(e.match, modelId)) ?? DEFAULT_CATALOG.models[0], modelId);
  }

  async close(): Promise<void> {
    for (const b of this.backends.values()) await (await b.catch(() => undefined))?.close?.();
  }
}

/** `contextSize` and `dimensions`, when given, are whole numbers in range. */
function checkModelLimits(e: CatalogEntry, i: number): void {
  const whole = (v: unknown, max: number) =>
    v === undefined || (Number.isInteger(v) && Number(v) >= 1 && Number(v) <= max);
  if (!whole(e.contextSize, 2 ** 31 - 1))
    throw new CatalogError(`catalog models[${i}].contextSize must be a whole number of tokens`);
  if (!whole(e.dimensions, MAX_EMBEDDING_DIMENSIONS))
    throw new CatalogError(
      `catalog models[${i}].dimensions must be a whole number from 1 to ${MAX_EMBEDDING_DIMENSIONS}`,
    );
}

async function create(e: CatalogEntry): Promise<Backend> {
  switch (e.backend) {
    case 'simulated':
      return new SimulatedBackend(e);
    case 'openai-compatible':
      return new OpenAICompatibleBackend({ url: e.url!, model: e.model, apiKey: e.apiKey, features: e.features });
    case 'llama-cpp': {
      const { LlamaCppBackend } = await import('./backends/llama-cpp.js');
      return new LlamaCppBackend({
        modelPath: e.modelPath!,
        contextSize: e.contextSize,
        threads: e.threads,
        parallel: e.parallel,
        features: e.features,
      });
    }
  }
}

/** `features`, when given: an object of true/false flags amlite knows. */
function checkFeatureFlags(f: unknown, i: number): void {
  if (f === undefined) return;
  const known: readonly string[] = FEATURE_NAMES;
  if (!f || typeof f !== 'object' || Object.entries(f).some(([k, v]) => !known.includes(k) || typeof v !== 'boolean'))
    throw new CatalogError(`catalog models[${i}].features must be an object of true/false flags: ${known.join(', ')}`);
}
