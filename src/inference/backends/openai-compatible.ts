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
  Usage,
} from '../backend.js';
import { BackendError } from '../backend.js';
import { countPromptTokensPaced, countTokens, countTokensPaced, pacer } from '../tokens.js';
import { describeModel } from './simulated.js';
import { checkFeatures, type ModelFeatures } from '../tools/chat-features.js';
import { collectChat, type CollectedChat, type ToolCall } from '../tools/chat-chunks.js';

export interface OpenAICompatibleOptions {
  /** Base URL up to and including /v1, e.g. http://127.0.0.1:11434/v1 (Ollama). */
  url: string;
  /** The upstream's model name; defaults to the endpoint's model id. */
  model?: string;
  apiKey?: string;
  /** What the model cannot do (catalog `features`): such requests answer 422 without reaching the upstream. */
  features?: ModelFeatures;
}

/**
 * Keep-alive connections one backend holds to its upstream at most: beyond them requests wait in the agent for a free
 * one (an upstream answering in 20 ms at 256 requests in flight still needs no more), and idle ones are kept for reuse.
 */
export const UPSTREAM_MAX_SOCKETS = 256;

/** Any OpenAI-compatible server (Ollama, vLLM, llama.cpp server): tokens are passed on as they arrive. */
export class OpenAICompatibleBackend implements Backend {
  readonly kind = 'openai-compatible';
  private readonly base: string;
  /**
   * Node's own HTTP client on keep-alive connections rather than fetch: the same request for less than half the CPU
   * (fetch's Request, Headers and web streams cost more than the hop itself; see the data-plane benchmark).
   */
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  /** Where requests go, taken apart once (not a URL parsed per request), and the headers every request carries. */
  private readonly target: { protocol: string; hostname: string; port: string; path: string };
  private readonly headers: string[];
  constructor(private readonly options: OpenAICompatibleOptions) {
    this.base = options.url.replace(/\/+$/, '');
    const url = new URL(this.base);
    this.target = {
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port,
      path: url.pathname.replace(/\/+$/, ''),
    };
    this.headers = [
      'host',
      url.host,
      'content-type',
      'application/json',
      'accept',
      '*/*',
      ...(options.apiKey ? ['authorization', `Bearer ${options.apiKey}`] : []),
    ];
    const pool = {
      keepAlive: true,
      maxSockets: UPSTREAM_MAX_SOCKETS,
      maxFreeSockets: UPSTREAM_MAX_SOCKETS,
      scheduling: 'lifo' as const,
    };
    const https = this.base.startsWith('https:');
    this.agent = https ? new HttpsAgent(pool) : new HttpAgent(pool);
    this.send = https ? httpsRequest : httpRequest;
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
      if (signal.aborted) throw signal.reason;
      const payload = JSON.stringify(body);
      // Raw header pairs: Node writes them as they are (no per-header validation; they are fixed but the length).
      const headers = [...this.headers, 'content-length', String(Buffer.byteLength(payload))];
      const { protocol, hostname, port } = this.target;
      const options = { protocol, hostname, port, path: `${this.target.path}${path}`, method: 'POST', headers };
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = this.send({ ...options, agent: this.agent }, resolve);
        // One listener on the signal, dropped when the exchange is over (Node's own `signal` option watches the
        // request's end with several listeners per request): the client leaving ends the upstream request too.
        const onAbort = () => req.destroy(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', onAbort));
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

  /** What goes upstream: the request as validated, under the upstream's model name. */
  private chatBody(req: ChatRequest, modelId: string, stream: boolean): Record<string, unknown> {
    return {
      ...req.extra,
      model: this.options.model ?? modelId,
      messages: req.messages,
      max_tokens: req.max_tokens,
      temperature: req.temperature,
      top_p: req.top_p,
      seed: req.seed,
      stop: req.stop,
      tools: req.tools,
      tool_choice: req.toolChoice,
      response_format: req.responseFormat,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    };
  }

  chat(req: ChatRequest, opts: CallOptions): AsyncIterable<ChatChunk> {
    return flatten(this.chatBatches(req, opts));
  }

  async *chatBatches(req: ChatRequest, opts: CallOptions): AsyncIterable<ChatChunk[]> {
    checkFeatures(req, this.options.features);
    const res = await this.post('/chat/completions', this.chatBody(req, opts.modelId, true), opts.signal);
    yield* this.batchesOf(res, req);
  }

  /**
   * A whole answer: asked of the upstream unstreamed (one JSON document to read rather than an event per token); an
   * upstream that streams anyway is read as a stream.
   */
  async complete(req: ChatRequest, opts: CallOptions): Promise<CollectedChat> {
    checkFeatures(req, this.options.features);
    const res = await this.post('/chat/completions', this.chatBody(req, opts.modelId, false), opts.signal);
    if (String(res.headers['content-type']).includes('text/event-stream'))
      return collectChat(flatten(this.batchesOf(res, req)));
    let answer: Completion;
    try {
      answer = JSON.parse(await textOf(res)) as Completion;
    } catch (e) {
      throw new BackendError(
        502,
        'UpstreamError',
        `The upstream model server's answer is not JSON: ${(e as Error).message}`,
      );
    }
    const choice = answer?.choices?.[0];
    if (!choice?.message)
      throw new BackendError(502, 'IncompleteResponse', 'The upstream model server answered without a choice.');
    const text = typeof choice.message.content === 'string' ? choice.message.content : '';
    const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).map((c) => ({
      id: c.id ?? '',
      type: 'function',
      function: { name: c.function?.name ?? '', arguments: c.function?.arguments ?? '' },
    }));
    return {
      text,
      toolCalls,
      finishReason: choice.finish_reason ?? 'stop',
      usage: await this.usageOf(answer.usage, req, () => text + toolCalls.map((c) => c.function.arguments).join('')),
    };
  }

  /** The usage the upstream reported; what it left out counted here, paced (a long prompt delays no other request). */
  private async usageOf(usage: UpstreamUsage | undefined, req: ChatRequest, completion: () => string): Promise<Usage> {
    return {
      promptTokens: usage?.prompt_tokens ?? req.promptTokens ?? (await countPromptTokensPaced(req.messages)),
      completionTokens: usage?.completion_tokens ?? countTokens(completion()),
    };
  }

  /**
   * A streamed answer's chunks, read straight off the response: those of one piece read from the socket in one batch
   * (a stream of 32 tokens often arrives in a read or two: one await each, not one per token).
   */
  private async *batchesOf(res: IncomingMessage, req: ChatRequest): AsyncIterable<ChatChunk[]> {
    let text = '';
    let finishReason: FinishReason = 'stop';
    let usage: UpstreamUsage | undefined;
    const events = new SseEvents();
    res.setEncoding('utf8');
    let batch: ChatChunk[] = [];
    try {
      read: for await (const piece of res.iterator({ destroyOnReturn: false }) as AsyncIterable<string>) {
        for (let data = events.push(piece); data !== undefined; data = events.next()) {
          if (data === '[DONE]') break read;
          const chunk = JSON.parse(data) as StreamChunk;
          if (chunk.usage) usage = chunk.usage;
          for (const choice of chunk.choices ?? []) {
            const content = choice.delta?.content;
            if (content) {
              text += content;
              batch.push({ type: 'delta', text: content });
            }
            for (const call of choice.delta?.tool_calls ?? []) {
              const args = call.function?.arguments ?? '';
              text += args;
              const index = call.index ?? 0;
              batch.push({ type: 'tool_call', index, id: call.id, name: call.function?.name, arguments: args });
            }
            if (choice.finish_reason) finishReason = choice.finish_reason;
          }
        }
        if (batch.length) {
          yield batch;
          batch = [];
        }
      }
    } finally {
      // Left at [DONE] (or early): a response received whole leaves its connection open for the next request.
      if (res.complete) res.resume();
      else res.destroy();
    }
    batch.push({ type: 'done', finishReason, usage: await this.usageOf(usage, req, () => text) });
    yield batch;
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

type UpstreamUsage = { prompt_tokens?: number; completion_tokens?: number };
type StreamChunk = { choices?: { delta?: Delta; finish_reason?: FinishReason | null }[]; usage?: UpstreamUsage };
/** An unstreamed answer, as far as it is read here. */
interface Completion {
  choices?: { message?: { content?: string | null; tool_calls?: Delta['tool_calls'] }; finish_reason?: FinishReason }[];
  usage?: UpstreamUsage;
}

/**
 * The `data:` payloads of a server-sent event stream, cut out of the text as it arrives: push a piece of text (the
 * first complete event's data, if any), then next() until undefined.
 */
class SseEvents {
  private buffer = '';
  /** Whether the stream uses CRLF line ends (then events are cut as the old regular expression did). */
  private crlf = false;
  push(piece: string): string | undefined {
    if (!this.crlf && piece.includes('\r')) this.crlf = true;
    this.buffer = this.buffer ? this.buffer + piece : piece;
    return this.next();
  }
  next(): string | undefined {
    for (;;) {
      let end: number, gap: number;
      if (this.crlf) {
        const m = /\r?\n\r?\n/.exec(this.buffer);
        if (!m) return undefined;
        [end, gap] = [m.index, m[0].length];
      } else {
        end = this.buffer.indexOf('\n\n');
        if (end < 0) return undefined;
        gap = 2;
      }
      const event = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + gap);
      const data = dataOf(event);
      if (data) return data;
    }
  }
}

/** The data lines of one event, joined. */
function dataOf(event: string): string {
  if (event.startsWith('data:') && !event.includes('\n')) return event.slice(5).trimStart();
  return event
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');
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

async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncIterable<T> {
  for await (const batch of batches) yield* batch;
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
