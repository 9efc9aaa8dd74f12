import { readFileSync } from 'node:fs';
import type { Backend } from './backend.js';
import { SimulatedBackend } from './backends/simulated.js';
import { OpenAICompatibleBackend } from './backends/openai-compatible.js';
import { globRegExp } from '../glob.js';

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
  dimensions?: number;
  /** openai-compatible */
  url?: string;
  model?: string;
  apiKey?: string;
  /** llama-cpp */
  modelPath?: string;
  contextSize?: number;
  /** CPU threads (default: cores - 1) and requests generated at once (default 2). */
  threads?: number;
  parallel?: number;
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

export class Catalog {
  private readonly backends = new Map<CatalogEntry, Promise<Backend>>();
  private readonly patterns: [RegExp, CatalogEntry][];
  readonly blocklist: string[];

  constructor(readonly file: CatalogFile) {
    this.patterns = file.models.map((e) => [globRegExp(e.match), e]);
    this.blocklist = (file.contentSafety?.blocklist ?? DEFAULT_CATALOG.contentSafety!.blocklist!).map((w) => w.toLowerCase());
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
      if (!['simulated', 'openai-compatible', 'llama-cpp'].includes(e.backend)) throw new CatalogError(`catalog models[${i}].backend must be simulated, openai-compatible or llama-cpp`);
      if (e.backend === 'openai-compatible' && !e.url) throw new CatalogError(`catalog models[${i}] (openai-compatible) needs a "url"`);
      if (e.backend === 'llama-cpp' && !e.modelPath) throw new CatalogError(`catalog models[${i}] (llama-cpp) needs a "modelPath" to a local GGUF file`);
    }
    return new Catalog(file);
  }

  /** The backend serving `modelId`; created once per catalog entry and shared by every endpoint it matches. */
  backendFor(modelId: string): Promise<Backend> {
    const entry = this.patterns.find(([re]) => re.test(modelId))?.[1] ?? DEFAULT_CATALOG.models[0];
    let backend = this.backends.get(entry);
    if (!backend) {
      backend = create(entry);
      this.backends.set(entry, backend);
    }
    return backend;
  }

  async close(): Promise<void> {
    for (const b of this.backends.values()) await (await b.catch(() => undefined))?.close?.();
  }
}

async function create(e: CatalogEntry): Promise<Backend> {
  switch (e.backend) {
    case 'simulated':
      return new SimulatedBackend(e);
    case 'openai-compatible':
      return new OpenAICompatibleBackend({ url: e.url!, model: e.model, apiKey: e.apiKey });
    case 'llama-cpp': {
      const { LlamaCppBackend } = await import('./backends/llama-cpp.js');
      return new LlamaCppBackend({ modelPath: e.modelPath!, contextSize: e.contextSize, threads: e.threads, parallel: e.parallel });
    }
  }
}
