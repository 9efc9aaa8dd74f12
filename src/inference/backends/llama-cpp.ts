import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import type {
  Backend,
  CallOptions,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResult,
  FinishReason,
  ModelInfo,
  ToolDefinition,
} from '../backend.js';
import { BackendError } from '../backend.js';
import { textOf } from '../tokens.js';
import { checkFeatures, type ModelFeatures } from '../tools/chat-features.js';

/** The one command that installs node-llama-cpp and this machine's prebuilt llama.cpp binary (not in `npm ci`). */
export const LLAMA_SETUP_COMMAND = 'npm run setup:llama';

const NOT_INSTALLED =
  `the package node-llama-cpp is not installed: local llama.cpp generation is opt-in, run ` +
  `\`${LLAMA_SETUP_COMMAND}\` in amlite's folder, then restart amlite`;

/** Why the llama-cpp backend cannot load here (the package is not installed), or undefined: a start-up warning. */
export function llamaCppMissing(): string | undefined {
  try {
    import.meta.resolve('node-llama-cpp');
    return undefined;
  } catch {
    return NOT_INSTALLED;
  }
}

export interface LlamaCppOptions {
  /** A local GGUF file. Nothing is downloaded, neither weights nor binaries. */
  modelPath: string;
  /** Tokens each request can see (prompt + reply); defaults to the model's training context, at most 4096. */
  contextSize?: number;
  /**
   * CPU threads for evaluation; defaults to one less than the machine's cores (at least 1), leaving one to the server.
   * (node-llama-cpp's own default, at least 4, makes llama.cpp's spinning thread pool crawl on a 2-core machine.)
   */
  threads?: number;
  /** Requests generated at once (sequences of one context, batched together); more wait their turn. Default 2. */
  parallel?: number;
  /** What the model cannot do (catalog `features`): such requests answer 422. */
  features?: ModelFeatures;
}

/**
 * A local GGUF model on the CPU through node-llama-cpp's prebuilt llama.cpp binary (`gpu: false`, `build: 'never'`).
 * The package is installed on demand (LLAMA_SETUP_COMMAND), imported only when a llama-cpp model is first used;
 * a missing package, binary or model file answers 503 naming the cause.
 */
export class LlamaCppBackend implements Backend {
  readonly kind = 'llama-cpp';
  private loading?: Promise<Loaded>;
  private embedding?: Promise<EmbeddingContext>;
  private closed = false;

  private readonly threads: number;

  constructor(private readonly options: LlamaCppOptions) {
    this.threads = Math.max(1, Math.floor(options.threads ?? availableParallelism() - 1));
  }

  info(modelId: string): ModelInfo {
    return {
      model_name: basename(this.options.modelPath).replace(/\.gguf$/i, '') || modelId,
      model_provider_name: 'llama.cpp',
      model_type: 'chat-completion',
    };
  }

  async *chat(req: ChatRequest, opts: CallOptions): AsyncIterable<ChatChunk> {
    checkFeatures(req, this.options.features);
    const loaded = await this.load();
    if (opts.signal.aborted) return;
    // A forced tool call (required, or a named function) is its arguments generated under the parameters' grammar;
    // auto lets the model call tools through node-llama-cpp's function calling; a response_format is a grammar.
    const forced = forcedTool(req);
    const functions = !forced && req.toolChoice !== 'none' && req.tools ? toFunctions(req.tools) : undefined;
    const schema = forced ? (forced.function.parameters ?? {}) : formatSchema(req);
    const grammar = functions ? undefined : await grammarFor(loaded.llama, schema);
    const slot = await loaded.pool.acquire(opts.signal);
    if (!slot) return; // aborted while waiting for a free sequence

    const history = toHistory(req.messages);
    const stop = new AbortController();
    const onAbort = () => stop.abort(opts.signal.reason);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const pieces: ChatChunk[] = [];
    const callIds = new Map<number, string>();
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    let result: ChatResponse | undefined;
    let completionTokens = 0;
    let generation: Promise<void> | undefined;
    try {
      const promptTokens = slot.chat.chatWrapper
        .generateContextState({ chatHistory: history })
        .contextText.tokenize(loaded.model.tokenizer).length;
      const room = slot.sequence.contextSize - promptTokens - 1;
      if (room <= 0) {
        throw new BackendError(
          400,
          'context_length_exceeded',
          `This model's context is ${slot.sequence.contextSize} tokens; the messages take ${promptTokens}. Shorten the messages.`,
        );
      }
      const penalty = repeatPenalty(req.extra);
      generation = slot.chat
        .generateResponse(history, {
          signal: stop.signal,
          stopOnAbortSignal: true,
          maxTokens: Math.min(req.max_tokens ?? room, room),
          temperature: req.temperature ?? 1,
          ...(req.top_p !== undefined ? { topP: req.top_p } : {}),
          ...(req.seed !== undefined ? { seed: req.seed } : {}),
          ...(req.stop?.some(Boolean) ? { customStopTriggers: req.stop.filter(Boolean) } : {}),
          repeatPenalty: penalty,
          onToken: (tokens) => {
            completionTokens += tokens.length;
          },
          onTextChunk: (text) => {
            if (!text) return;
            pieces.push(forced ? { type: 'tool_call', index: 0, arguments: text } : { type: 'delta', text });
            wake?.();
          },
          ...(grammar ? { grammar } : {}),
          ...(functions
            ? {
                functions,
                onFunctionCallParamsChunk: (c: { callIndex: number; functionName: string; paramsChunk: string }) => {
                  if (!callIds.has(c.callIndex)) {
                    callIds.set(c.callIndex, callId());
                    const id = callIds.get(c.callIndex);
                    pieces.push({ type: 'tool_call', index: c.callIndex, id, name: c.functionName, arguments: '' });
                  }
                  if (c.paramsChunk) pieces.push({ type: 'tool_call', index: c.callIndex, arguments: c.paramsChunk });
                  wake?.();
                },
              }
            : {}),
        })
        .then(
          (r) => {
            result = r;
          },
          (e: unknown) => {
            failure = e;
          },
        )
        .finally(() => {
          finished = true;
          wake?.();
        });

      if (forced) yield { type: 'tool_call', index: 0, id: callId(), name: forced.function.name, arguments: '' };
      for (;;) {
        while (pieces.length) yield pieces.shift()!;
        if (finished) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (opts.signal.aborted) return;
      if (failure) throw failure;
      const reason = result!.metadata.stopReason;
      if (reason === 'abort') return;
      const called = forced || callIds.size > 0 || reason === 'functionCalls';
      const finishReason: FinishReason = reason === 'maxTokens' ? 'length' : called ? 'tool_calls' : 'stop';
      yield { type: 'done', finishReason, usage: { promptTokens, completionTokens } };
    } finally {
      // Also reached when the consumer stops reading early: end the generation before the sequence is reused.
      opts.signal.removeEventListener('abort', onAbort);
      stop.abort();
      await generation;
      slot.release();
    }
  }

  async embeddings(req: EmbeddingsRequest, opts: CallOptions): Promise<EmbeddingsResult> {
    const loaded = await this.load();
    const size = loaded.model.embeddingVectorSize;
    if (req.dimensions !== undefined && (req.dimensions < 1 || req.dimensions > size)) {
      throw new BackendError(
        400,
        'InvalidDimensions',
        `This model's embeddings have ${size} dimensions; 'dimensions' must be between 1 and ${size}.`,
      );
    }
    const context = await this.embeddingContext(loaded);
    const vectors: number[][] = [];
    let promptTokens = 0;
    for (const text of req.input) {
      if (opts.signal.aborted) throw opts.signal.reason ?? new Error('aborted');
      if (!text) throw new BackendError(400, 'InvalidInput', 'An embedding input must not be empty.');
      const tokens = context.calculateInputLength(text);
      if (tokens >= loaded.contextSize) {
        throw new BackendError(
          400,
          'context_length_exceeded',
          `An input takes ${tokens} tokens; this model's context is ${loaded.contextSize}.`,
        );
      }
      const { vector } = await context.getEmbeddingFor(text);
      vectors.push(normalize(vector.slice(0, req.dimensions ?? size)));
      promptTokens += tokens;
    }
    return { vectors, promptTokens };
  }

  async close(): Promise<void> {
    this.closed = true;
    const loading = this.loading;
    this.loading = undefined;
    this.embedding = undefined;
    const loaded = await loading?.catch(() => undefined);
    // Disposing the Llama instance disposes its models, contexts and sequences too.
    await loaded?.llama.dispose();
  }

  /** The one load, shared by every caller; a failed load is forgotten so a later request tries again. */
  private load(): Promise<Loaded> {
    if (this.closed) return Promise.reject(new Error('The llama-cpp backend is closed.'));
    this.loading ??= this.doLoad().catch((e: unknown) => {
      this.loading = undefined;
      throw e;
    });
    return this.loading;
  }

  private async doLoad(): Promise<Loaded> {
    const { modelPath } = this.options;
    const threads = this.threads;
    try {
      await access(modelPath);
    } catch {
      throw unavailable(`the model file ${modelPath} does not exist or cannot be read.`);
    }
    let lib: NodeLlamaCpp;
    try {
      lib = (await import('node-llama-cpp' as string)) as NodeLlamaCpp;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw unavailable(
        code === 'ERR_MODULE_NOT_FOUND' && llamaCppMissing()
          ? `${NOT_INSTALLED}.`
          : `the package node-llama-cpp cannot be loaded (reinstall it: ${LLAMA_SETUP_COMMAND}): ${(e as Error).message}`,
      );
    }
    let llama: Llama;
    try {
      llama = await lib.getLlama({
        gpu: false,
        build: 'never',
        skipDownload: true,
        usePrebuiltBinaries: true,
        progressLogs: false,
        logLevel: lib.LlamaLogLevel.error,
        maxThreads: threads,
      });
    } catch (e) {
      throw unavailable(
        `node-llama-cpp found no usable prebuilt llama.cpp binary for ${process.platform}-${process.arch} ` +
          `(${LLAMA_SETUP_COMMAND} installs it; nothing is built or downloaded at run time): ${(e as Error).message}`,
      );
    }
    let loaded: Loaded;
    try {
      const model = await llama.loadModel({ modelPath });
      const contextSize = this.options.contextSize ?? Math.min(model.trainContextSize, 4096);
      const parallel = Math.max(1, this.options.parallel ?? 2);
      const context = await model.createContext({ sequences: parallel, contextSize, threads });
      const slots = Array.from({ length: parallel }, () => {
        const sequence = context.getSequence();
        return { sequence, chat: new lib.LlamaChat({ contextSequence: sequence }) };
      });
      loaded = { llama, model, contextSize, pool: new Pool(slots) };
    } catch (e) {
      await llama.dispose().catch(() => undefined);
      throw unavailable(`could not load the model ${modelPath}: ${(e as Error).message}`);
    }
    if (this.closed) {
      await llama.dispose();
      throw new Error('The llama-cpp backend is closed.');
    }
    return loaded;
  }

  private embeddingContext(loaded: Loaded): Promise<EmbeddingContext> {
    this.embedding ??= loaded.model
      .createEmbeddingContext({
        contextSize: loaded.contextSize,
        threads: this.threads,
      })
      .catch((e: unknown) => {
        this.embedding = undefined;
        throw new Error(
          `llama-cpp backend: could not create an embedding context for ${this.options.modelPath}: ${(e as Error).message}`,
        );
      });
    return this.embedding;
  }
}

/** A load failure as the data plane's 503: the server cannot serve this model until its operator fixes the cause. */
const unavailable = (why: string) => new BackendError(503, 'ModelUnavailable', `llama-cpp backend: ${why}`);

/** OpenAI-style messages as node-llama-cpp's chat history, ending with the model's turn to answer. */
function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  // A tool's answer becomes the `result` of the call it answers (node-llama-cpp's function-call history item).
  const answers = messages.filter((m) => m.role === 'tool');
  const results = new Map(answers.map((m) => [String(m.tool_call_id), textOf(m.content)]));
  const called = new Set(messages.flatMap((m) => (m.tool_calls ?? []).map((c) => String((c as { id?: unknown }).id))));
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    const text = textOf(m.content);
    switch (m.role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text });
        break;
      case 'assistant':
        history.push({ type: 'model', response: [...(text ? [text] : []), ...functionCalls(m.tool_calls, results)] });
        break;
      case 'tool':
        if (!called.has(String(m.tool_call_id))) {
          history.push({ type: 'user', text: `Tool result${m.tool_call_id ? ` (${m.tool_call_id})` : ''}: ${text}` });
        }
        break;
      default:
        history.push({ type: 'user', text });
    }
  }
  history.push({ type: 'model', response: [] });
  return history;
}

type FunctionCallItem = { type: 'functionCall'; name: string; params: unknown; result: unknown };

function functionCalls(calls: unknown[] | undefined, results: Map<string, string>): FunctionCallItem[] {
  return (calls ?? []).map((c) => {
    const call = c as { id: string; function: { name: string; arguments: string } };
    let params: unknown;
    try {
      params = JSON.parse(call.function.arguments);
    } catch {
      params = call.function.arguments;
    }
    return { type: 'functionCall', name: call.function.name, params, result: results.get(call.id) ?? '' };
  });
}

const callId = () => `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;

/** The tool the request forces: the named function, or with `required` the first tool. */
function forcedTool(req: ChatRequest): ToolDefinition | undefined {
  const choice = req.toolChoice;
  if (!req.tools || !choice || choice === 'auto' || choice === 'none') return undefined;
  return choice === 'required' ? req.tools[0] : req.tools.find((t) => t.function.name === choice.function.name);
}

function toFunctions(tools: ToolDefinition[]): Record<string, { description?: string; params?: unknown }> {
  return Object.fromEntries(
    tools.map((t) => [
      t.function.name,
      {
        ...(t.function.description ? { description: t.function.description } : {}),
        ...(t.function.parameters ? { params: t.function.parameters } : {}),
      },
    ]),
  );
}

/** The schema a response_format asks for: json_schema's own; json_object: any JSON object; none: undefined. */
function formatSchema(req: ChatRequest): Record<string, unknown> | 'json' | undefined {
  const f = req.responseFormat;
  if (f?.type === 'json_schema') return f.json_schema.schema;
  return f?.type === 'json_object' ? 'json' : undefined;
}

/** llama.cpp's grammar for the schema (output valid by construction); a schema it cannot express answers 400. */
async function grammarFor(
  llama: Llama,
  schema: Record<string, unknown> | 'json' | undefined,
): Promise<Grammar | undefined> {
  if (schema === undefined) return undefined;
  try {
    return schema === 'json' ? await llama.getGrammarFor('json') : await llama.createGrammarForJsonSchema(schema);
  } catch (e) {
    throw new BackendError(
      400,
      'BadRequest',
      `This model's JSON grammar (llama.cpp) cannot express the schema: ${(e as Error).message}`,
    );
  }
}

/** OpenAI's penalties when the client passed them through; none otherwise (OpenAI's default), not llama.cpp's 1.1. */
function repeatPenalty(
  extra: Record<string, unknown> | undefined,
): false | { penalty: number; frequencyPenalty?: number; presencePenalty?: number } {
  const frequency = typeof extra?.frequency_penalty === 'number' ? extra.frequency_penalty : undefined;
  const presence = typeof extra?.presence_penalty === 'number' ? extra.presence_penalty : undefined;
  if (!frequency && !presence) return false;
  return {
    penalty: 1,
    ...(frequency ? { frequencyPenalty: frequency } : {}),
    ...(presence ? { presencePenalty: presence } : {}),
  };
}

function normalize(v: readonly number[]): number[] {
  const norm = Math.hypot(...v);
  return norm > 0 ? v.map((x) => x / norm) : [...v];
}

interface Slot {
  sequence: Sequence;
  chat: LlamaChat;
}

/** The context's sequences, lent one request at a time; waiters are served in order and leave when aborted. */
class Pool {
  private readonly free: Slot[];
  private readonly waiters: ((slot: Slot) => void)[] = [];

  constructor(slots: Slot[]) {
    this.free = [...slots];
  }

  acquire(signal: AbortSignal): Promise<{ sequence: Sequence; chat: LlamaChat; release: () => void } | undefined> {
    const lend = (slot: Slot) => {
      let released = false;
      return {
        ...slot,
        release: () => {
          if (!released) {
            released = true;
            this.give(slot);
          }
        },
      };
    };
    const slot = this.free.shift();
    if (slot) return Promise.resolve(lend(slot));
    return new Promise((resolve) => {
      const waiter = (s: Slot) => {
        signal.removeEventListener('abort', onAbort);
        resolve(lend(s));
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      };
      this.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private give(slot: Slot) {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}

// The few node-llama-cpp shapes used here, declared locally so the project type-checks and builds without the
// optional package installed (test/llama-cpp.test.ts exercises them against the real one).
type Token = number;
type ChatHistoryItem =
  | { type: 'system'; text: string }
  | { type: 'user'; text: string }
  | { type: 'model'; response: (string | FunctionCallItem)[] };
interface Grammar {
  readonly grammar: string;
}
interface ChatResponse {
  response: string;
  metadata: {
    stopReason: 'eogToken' | 'stopGenerationTrigger' | 'functionCalls' | 'maxTokens' | 'abort' | 'customStopTrigger';
  };
}
interface LlamaChat {
  readonly chatWrapper: {
    generateContextState(o: { chatHistory: ChatHistoryItem[] }): {
      contextText: { tokenize(tokenizer: unknown): Token[] };
    };
  };
  generateResponse(
    history: ChatHistoryItem[],
    o: {
      signal?: AbortSignal;
      stopOnAbortSignal?: boolean;
      maxTokens?: number;
      temperature?: number;
      topP?: number;
      seed?: number;
      customStopTriggers?: string[];
      repeatPenalty?: false | { penalty?: number; frequencyPenalty?: number; presencePenalty?: number };
      onToken?: (tokens: Token[]) => void;
      onTextChunk?: (text: string) => void;
      grammar?: Grammar;
      functions?: Record<string, { description?: string; params?: unknown }>;
      onFunctionCallParamsChunk?: (chunk: { callIndex: number; functionName: string; paramsChunk: string }) => void;
    },
  ): Promise<ChatResponse>;
}
interface Sequence {
  readonly contextSize: number;
}
interface EmbeddingContext {
  getEmbeddingFor(text: string): Promise<{ vector: readonly number[] }>;
  calculateInputLength(text: string): number;
}
interface LlamaModel {
  readonly tokenizer: unknown;
  readonly trainContextSize: number;
  readonly embeddingVectorSize: number;
  createContext(o: { sequences: number; contextSize: number; threads: number }): Promise<{ getSequence(): Sequence }>;
  createEmbeddingContext(o: { contextSize: number; threads: number }): Promise<EmbeddingContext>;
}
interface Llama {
  loadModel(o: { modelPath: string }): Promise<LlamaModel>;
  getGrammarFor(type: 'json'): Promise<Grammar>;
  createGrammarForJsonSchema(schema: Record<string, unknown>): Promise<Grammar>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(o: {
    gpu: false;
    build: 'never';
    skipDownload: boolean;
    usePrebuiltBinaries: boolean;
    progressLogs: boolean;
    logLevel: unknown;
    maxThreads: number;
  }): Promise<Llama>;
  LlamaLogLevel: { error: unknown };
  LlamaChat: new (o: { contextSequence: Sequence }) => LlamaChat;
}
interface Loaded {
  llama: Llama;
  model: LlamaModel;
  contextSize: number;
  pool: Pool;
}
