import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Backend,
  CallOptions,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResult,
  ModelInfo,
  ToolDefinition,
} from '../backend.js';
import { countPromptTokens, countTokens, detokenize, textOf, tokenize } from '../tokens.js';
import { SIMULATED_DIMENSIONS } from '../input-limits.js';
import { generateFromSchema } from '../json-schema-generate.js';
import { checkFeatures, type ModelFeatures } from '../tools/chat-features.js';

export interface SimulatedOptions {
  /** Streaming pace; 0 sends every token at once. */
  tokensPerSecond?: number;
  /** Reply length in tokens when the request sets no max_tokens. */
  replyTokens?: number;
  /** Embedding size when the request sets no `dimensions`. */
  dimensions?: number;
  /** What the model cannot do (catalog `features`): such requests answer 422. */
  features?: ModelFeatures;
}

const WORDS = (
  'the model answers with simulated text that is deterministic for each request so tests can compare ' +
  'outputs and count tokens exactly while the emulator stays fast offline and free of any real weights'
).split(' ');

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
    checkFeatures(req, this.options.features);
    const calls = toolsToCall(req);
    const key = [opts.modelId, req.messages, req.seed ?? null, req.temperature ?? null, req.top_p ?? null];
    // Plain text keeps the seed it always had; tools and formats are part of the request that picks the answer.
    const shaped = calls.length > 0 || !!req.responseFormat;
    const random = prng(digest(shaped ? [...key, req.tools ?? null, req.toolChoice ?? null, req.responseFormat] : key));
    const pace = this.options.tokensPerSecond ? 1000 / this.options.tokensPerSecond : 0;
    const promptTokens = (req.promptTokens ?? countPromptTokens(req.messages)) + definitionTokens(req);
    if (calls.length) {
      // max_tokens cuts the arguments as it cuts text: finish_reason length, and JSON that does not parse.
      let budget = req.max_tokens ?? Infinity;
      let used = 0;
      let cut = false;
      for (const [index, tool] of calls.entries()) {
        if (budget <= 0) {
          cut = true;
          break;
        }
        const name = tool.function.name;
        const id = `call_${digest([key, index, name]).toString('hex').slice(0, 24)}`;
        const whole = tokenize(
          JSON.stringify(generateFromSchema(tool.function.parameters ?? {}, random, WORDS, `function '${name}'`)),
        );
        const tokens = whole.slice(0, budget);
        budget -= tokens.length;
        used += tokens.length;
        cut ||= tokens.length < whole.length;
        yield { type: 'tool_call', index, id, name, arguments: '' };
        for (const token of tokens) {
          if (!(await this.turn(pace, opts.signal))) return;
          yield { type: 'tool_call', index, arguments: detokenize([token]) };
        }
      }
      const finishReason = cut ? 'length' : 'tool_calls';
      yield { type: 'done', finishReason, usage: { promptTokens, completionTokens: used } };
      return;
    }
    const { text, natural } = this.answer(req, opts.modelId, random);
    const limit = Math.min(natural, req.max_tokens ?? natural);
    let tokens = tokenize(text).slice(0, limit);
    let finishReason: 'stop' | 'length' = limit < natural ? 'length' : 'stop';
    const full = detokenize(tokens);
    const cut = Math.min(
      ...(req.stop ?? [])
        .filter(Boolean)
        .map((s) => full.indexOf(s))
        .filter((i) => i >= 0),
    );
    if (Number.isFinite(cut)) {
      tokens = tokenize(full.slice(0, cut));
      finishReason = 'stop';
    }
    for (const token of tokens) {
      if (!(await this.turn(pace, opts.signal))) return;
      yield { type: 'delta', text: detokenize([token]) };
    }
    yield { type: 'done', finishReason, usage: { promptTokens, completionTokens: tokens.length } };
  }

  /** Waits for the next token's turn; false once the client has gone. */
  private async turn(pace: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (pace) await sleep(pace, undefined, { signal }).catch(() => undefined);
    return true;
  }

  /** The whole answer and its natural length in tokens: JSON when a response_format asks for it, else prose. */
  private answer(req: ChatRequest, modelId: string, random: () => number): { text: string; natural: number } {
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
    const topic = textOf(lastUser?.content).split(/\s+/).filter(Boolean).slice(0, 8).join(' ');
    const natural = this.options.replyTokens ?? 48;
    let text =
      `Simulated reply from ${describeModel(modelId).model_name}${topic ? ` about "${topic}"` : ''}` +
      `${toolResults(req.messages)}:`;
    while (countTokens(text) < natural) text += ` ${WORDS[Math.floor(random() * WORDS.length)]}`;
    const format = req.responseFormat;
    if (format?.type === 'json_schema') {
      const json = JSON.stringify(
        generateFromSchema(format.json_schema.schema, random, WORDS, `response_format '${format.json_schema.name}'`),
      );
      return { text: json, natural: countTokens(json) };
    }
    if (format?.type === 'json_object') {
      const json = JSON.stringify({ answer: detokenize(tokenize(text).slice(0, natural)), topic });
      return { text: json, natural: countTokens(json) };
    }
    return { text, natural };
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
  'azureml-meta': 'Meta',
  'azureml-mistral': 'Mistral',
  'azureml-cohere': 'Cohere',
  'azureml-ai21': 'AI21 Labs',
  'azureml-deepseek': 'DeepSeek',
  'azureml-xai': 'xAI',
  azureml: 'Microsoft',
};

/** model_name, provider and type from a model id such as azureml://registries/azureml-meta/models/Llama-2-7b-chat/versions/24. */
export function describeModel(modelId: string): ModelInfo {
  const registry = /registries\/([^/]+)/i.exec(modelId)?.[1]?.toLowerCase();
  const name =
    /models\/([^/]+)/i.exec(modelId)?.[1] ?? (modelId.split('/').filter(Boolean).at(-1) || 'simulated-model');
  return {
    model_name: name,
    model_provider_name: (registry && PROVIDERS[registry]) ?? 'amlite',
    model_type: /embed/i.test(modelId) ? 'embeddings' : 'chat-completion',
  };
}

/**
 * The tools the simulated model calls: none with tool_choice none (or no tools); the named one; with auto, none once
 * the last message is a tool's answer (the loop ends), else those the last user message names (or the first tool);
 * with required, the same, even after tool answers (as the API forces a call).
 */
function toolsToCall(req: ChatRequest): ToolDefinition[] {
  const tools = req.tools ?? [];
  const choice = req.toolChoice ?? 'auto';
  if (!tools.length || choice === 'none') return [];
  if (typeof choice === 'object') return tools.filter((t) => t.function.name === choice.function.name);
  if (choice === 'auto' && req.messages.at(-1)?.role === 'tool') return [];
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  const said = textOf(lastUser?.content).toLowerCase();
  const named = tools.filter((t) => {
    const name = t.function.name.toLowerCase();
    return said.includes(name) || said.includes(name.replace(/[_-]+/g, ' '));
  });
  return named.length ? named : [tools[0]];
}

/** How much of each tool answer the simulated final answer quotes. */
const TOOL_RESULT_QUOTE_CHARS = 200;

/** ` using NAME: RESULT` for the tool answers since the last user message, so a loop's final answer shows them. */
function toolResults(messages: ChatMessage[]): string {
  let lastUser = messages.length - 1;
  while (lastUser >= 0 && messages[lastUser].role !== 'user') lastUser--;
  const since = messages.slice(lastUser + 1).filter((m) => m.role === 'tool');
  if (!since.length) return '';
  const names = new Map<string, string>();
  for (const m of messages) {
    const calls = (m.tool_calls ?? []) as { id?: string; function?: { name?: string } }[];
    for (const c of calls) names.set(String(c.id), String(c.function?.name));
  }
  const parts = since.map(
    (m) => `${names.get(String(m.tool_call_id)) ?? 'tool'} said ${textOf(m.content).slice(0, TOOL_RESULT_QUOTE_CHARS)}`,
  );
  return ` using ${parts.join('; ')}`;
}

/** The tools' and the response schema's definitions, which a model reads as part of its prompt. */
function definitionTokens(req: ChatRequest): number {
  const schema = req.responseFormat?.type === 'json_schema' ? req.responseFormat.json_schema : undefined;
  return (req.tools ? countTokens(JSON.stringify(req.tools)) : 0) + (schema ? countTokens(JSON.stringify(schema)) : 0);
}
