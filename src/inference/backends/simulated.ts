import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend, CallOptions, ChatChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResult, ModelInfo } from '../backend.js';
import { countPromptTokens, countTokens, detokenize, textOf, tokenize } from '../tokens.js';
import { SIMULATED_DIMENSIONS } from '../input-limits.js';

export interface SimulatedOptions {
  /** Streaming pace; 0 sends every token at once. */
  tokensPerSecond?: number;
  /** Reply length in tokens when the request sets no max_tokens. */
  replyTokens?: number;
  /** Embedding size when the request sets no `dimensions`. */
  dimensions?: number;
}

const WORDS = ('the model answers with simulated text that is deterministic for each request so tests can compare ' +
  'outputs and count tokens exactly while the emulator stays fast offline and free of any real weights').split(' ');

/** A seeded PRNG (mulberry32): the same request always gives the same reply. */
function prng(seed: Buffer): () => number {
  let a = seed.readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest();

/** The embedded default: deterministic, instant (or paced), real token counts, no model weights. */
export class SimulatedBackend implements Backend {
  readonly kind = 'simulated';
  constructor(private readonly options: SimulatedOptions = {}) {}

  info(modelId: string): ModelInfo {
    return describeModel(modelId);
  }

  async *chat(req: ChatRequest, opts: CallOptions): AsyncIterable<ChatChunk> {
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
    const topic = textOf(lastUser?.content).split(/\s+/).filter(Boolean).slice(0, 8).join(' ');
    const random = prng(digest([opts.modelId, req.messages, req.seed ?? null, req.temperature ?? null, req.top_p ?? null]));
    const natural = this.options.replyTokens ?? 48;
    const limit = Math.min(natural, req.max_tokens ?? natural);
    let text = `Simulated reply from ${describeModel(opts.modelId).model_name}${topic ? ` about "${topic}"` : ''}:`;
    while (countTokens(text) < natural) text += ` ${WORDS[Math.floor(random() * WORDS.length)]}`;
    let tokens = tokenize(text).slice(0, limit);
    let finishReason: 'stop' | 'length' = limit < natural ? 'length' : 'stop';
    const full = detokenize(tokens);
    const cut = Math.min(...(req.stop ?? []).filter(Boolean).map((s) => full.indexOf(s)).filter((i) => i >= 0));
    if (Number.isFinite(cut)) { tokens = tokenize(full.slice(0, cut)); finishReason = 'stop'; }
    const pace = this.options.tokensPerSecond ? 1000 / this.options.tokensPerSecond : 0;
    for (const token of tokens) {
      if (opts.signal.aborted) return;
      if (pace) await sleep(pace, undefined, { signal: opts.signal }).catch(() => undefined);
      yield { type: 'delta', text: detokenize([token]) };
    }
    const promptTokens = req.promptTokens ?? countPromptTokens(req.messages);
    yield { type: 'done', finishReason, usage: { promptTokens, completionTokens: tokens.length } };
  }

  async embeddings(req: EmbeddingsRequest, opts: CallOptions): Promise<EmbeddingsResult> {
    const size = req.dimensions ?? this.options.dimensions ?? SIMULATED_DIMENSIONS;
    const vectors = req.input.map((text) => {
      const random = prng(digest([opts.modelId, text]));
      const v = Array.from({ length: size }, () => random() * 2 - 1);
      const norm = Math.hypot(...v) || 1;
      return v.map((x) => x / norm);
    });
    return { vectors, promptTokens: req.promptTokens ?? req.input.reduce((n, t) => n + countTokens(t), 0) };
  }
}

const PROVIDERS: Record<string, string> = {
  'azureml-meta': 'Meta', 'azureml-mistral': 'Mistral', 'azureml-cohere': 'Cohere', 'azureml-ai21': 'AI21 Labs',
  'azureml-deepseek': 'DeepSeek', 'azureml-xai': 'xAI', azureml: 'Microsoft',
};

/** model_name, provider and type from a model id such as azureml://registries/azureml-meta/models/Llama-2-7b-chat/versions/24. */
export function describeModel(modelId: string): ModelInfo {
  const registry = /registries\/([^/]+)/i.exec(modelId)?.[1]?.toLowerCase();
  const name = /models\/([^/]+)/i.exec(modelId)?.[1] ?? (modelId.split('/').filter(Boolean).at(-1) || 'simulated-model');
  return {
    model_name: name,
    model_provider_name: (registry && PROVIDERS[registry]) ?? 'amlite',
    model_type: /embed/i.test(modelId) ? 'embeddings' : 'chat-completion',
  };
}
