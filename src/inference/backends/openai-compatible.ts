import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type {
  Backend,
  CallOptions,
  ChatChunk,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResult,
  FinishReason,
  ModelInfo,
} from '../backend.js';
import { BackendError } from '../backend.js';
import { countPromptTokensPaced, countTokens, countTokensPaced, pacer } from '../tokens.js';
import { describeModel } from './simulated.js';
import { checkFeatures, type ModelFeatures } from '../tools/chat-features.js';

export interface OpenAICompatibleOptions {
  /** Base URL up to and including /v1, e.g. http://127.0.0.1:11434/v1 (Ollama). */
  url: string;
  /** The upstream's model name; defaults to the endpoint's model id. */
  model?: string;
  apiKey?: string;
  /** What the model cannot do (catalog `features`): such requests answer 422 without reaching the upstream. */
  features?: ModelFeatures;
}

/** Any OpenAI-compatible server (Ollama, vLLM, llama.cpp server): tokens are passed on as they arrive. */
export class OpenAICompatibleBackend implements Backend {
  readonly kind = 'openai-compatible';
  private readonly base: string;
  /**
   * Node's own HTTP client on keep-alive connections rather than fetch: the same request for less than half the CPU
   * (fetch's Request, Headers and web streams cost more than the hop itself; see the data-plane benchmark).
   */
  private readonly agent: HttpAgent;
  constructor(private readonly options: OpenAICompatibleOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.agent = this.base.startsWith('https:')
      ? new HttpsAgent({ keepAlive: true })
      : new HttpAgent({ keepAlive: true });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  info(modelId: string): ModelInfo {
    return { ...describeModel(this.options.model ?? modelId), model_provider_name: 'openai-compatible' };
  }

  private async post(path: string, body: unknown, signal: AbortSignal): Promise<IncomingMessage> {
    let res: IncomingMessage;
    try {
      const payload = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
        accept: '*/*',
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      };
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const send = this.agent instanceof HttpsAgent ? httpsRequest : httpRequest;
        const req = send(`${this.base}${path}`, { method: 'POST', agent: this.agent, headers, signal }, resolve);
        req.on('error', reject);
        req.end(payload);
      });
    } catch (e) {
      if (signal.aborted) throw e;
      throw new BackendError(
        502,
        'UpstreamUnavailable',
        `The upstream model server at ${this.base} did not answer: ${(e as Error).message}`,
      );
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const text = await textOf(res).catch(() => '');
      throw new BackendError(
        status >= 500 ? 502 : status,
        'UpstreamError',
        `The upstream model server answered ${status}: ${text.slice(0, 500)}`,
      );
    }
    return res;
  }

  async *chat(req: ChatRequest, opts: CallOptions): AsyncIterable<ChatChunk> {
    checkFeatures(req, this.options.features);
    const res = await this.post(
      '/chat/completions',
      {
        ...req.extra,
        model: this.options.model ?? opts.modelId,
        messages: req.messages,
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        seed: req.seed,
        stop: req.stop,
        tools: req.tools,
        tool_choice: req.toolChoice,
        response_format: req.responseFormat,
        stream: true,
        stream_options: { include_usage: true },
      },
      opts.signal,
    );
    let text = '';
    let finishReason: FinishReason = 'stop';
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    try {
      for await (const data of sseData(res.iterator({ destroyOnReturn: false }))) {
        if (data === '[DONE]') break;
        type Chunk = { choices?: { delta?: Delta; finish_reason?: FinishReason | null }[]; usage?: typeof usage };
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices ?? []) {
          if (choice.delta?.content) {
            text += choice.delta.content;
            yield { type: 'delta', text: choice.delta.content };
          }
          for (const call of choice.delta?.tool_calls ?? []) {
            const args = call.function?.arguments ?? '';
            text += args;
            const index = call.index ?? 0;
            yield { type: 'tool_call', index, id: call.id, name: call.function?.name, arguments: args };
          }
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
      }
    } finally {
      // Left at [DONE] (or early): a response received whole leaves its connection open for the next request.
      if (res.complete) res.resume();
      else res.destroy();
    }
    yield {
      type: 'done',
      finishReason,
      usage: {
        // An upstream that reports no usage: counted here, paced (a long prompt delays no other request).
        promptTokens: usage?.prompt_tokens ?? req.promptTokens ?? (await countPromptTokensPaced(req.messages)),
        completionTokens: usage?.completion_tokens ?? countTokens(text),
      },
    };
  }

  async embeddings(req: EmbeddingsRequest, opts: CallOptions): Promise<EmbeddingsResult> {
    const res = await this.post(
      '/embeddings',
      {
        ...req.extra,
        model: this.options.model ?? opts.modelId,
        input: req.input,
        dimensions: req.dimensions,
        encoding_format: 'float',
      },
      opts.signal,
    );
    const body = JSON.parse(await textOf(res)) as {
      data: { embedding: number[]; index: number }[];
      usage?: { prompt_tokens?: number };
    };
    const vectors = [...body.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    return { vectors, promptTokens: body.usage?.prompt_tokens ?? req.promptTokens ?? (await inputTokens(req.input)) };
  }
}

/** A streamed chunk's delta: text, and pieces of tool calls (the first with id and name), as OpenAI sends them. */
interface Delta {
  content?: string | null;
  tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
}

/** The inputs' tokens, counted paced (see countTokensPaced). */
async function inputTokens(input: string[]): Promise<number> {
  const pace = pacer();
  let n = 0;
  for (const text of input) n += await countTokensPaced(text, Infinity, pace);
  return n;
}

/** A response body as text. */
async function textOf(res: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const bytes of res) text += decoder.decode(bytes, { stream: true });
  return text + decoder.decode();
}

/** The `data:` payloads of a server-sent event stream, as they arrive. */
export async function* sseData(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data) yield data;
    }
  }
}
