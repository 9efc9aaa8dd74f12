/** What the data plane asks of a model backend. Requests arrive validated; responses are shaped by the routes. */
import type { CollectedChat } from './tools/chat-chunks.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  /** A string, or content items ({type:'text', text} | {type:'image_url', ...}); null for tool-calling assistants. */
  content?: unknown;
  tool_call_id?: string;
  tool_calls?: unknown[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  stop?: string[];
  /** The prompt's tokens as the data plane counted them (cl100k) when it checked the model's context. */
  promptTokens?: number;
  /** Fields the client sent that the API does not define, forwarded when extra-parameters is pass-through. */
  extra?: Record<string, unknown>;
  /** The functions the model may call, whether (and which) it must, and the shape of its text answer. */
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; schema: Record<string, unknown>; description?: string; strict?: boolean };
    };

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  content: string;
  finishReason: FinishReason;
  usage: Usage;
}

/** A streamed chat: text pieces as they are generated, then the final result (whose usage counts the whole). */
export type ChatChunk =
  { type: 'delta'; text: string } | ToolCallChunk | { type: 'done'; finishReason: FinishReason; usage: Usage };

/**
 * A piece of the `index`th tool call, as the openai clients assemble them: the first piece carries its id and the
 * function's name, the following ones more characters of its JSON arguments.
 */
export interface ToolCallChunk {
  type: 'tool_call';
  index: number;
  id?: string;
  name?: string;
  arguments: string;
}

export interface EmbeddingsRequest {
  input: string[];
  dimensions?: number;
  inputType?: 'text' | 'query' | 'document';
  /** The inputs' tokens as the data plane counted them (cl100k) when it checked the model's context. */
  promptTokens?: number;
  extra?: Record<string, unknown>;
}

export interface EmbeddingsResult {
  vectors: number[][];
  promptTokens: number;
}

export interface ModelInfo {
  model_name: string;
  model_provider_name: string;
  model_type: 'chat-completion' | 'embeddings';
}

export interface CallOptions {
  /** The model the endpoint serves (its modelId, or the pool group's model). */
  modelId: string;
  /** Fires when the client goes away or the request times out: stop generating. */
  signal: AbortSignal;
}

export interface Backend {
  readonly kind: string;
  info(modelId: string): ModelInfo;
  chat(req: ChatRequest, opts: CallOptions): AsyncIterable<ChatChunk>;
  /**
   * The same chunks, in the batches the backend has at hand at once (e.g. all the events one network read brought):
   * a streamed answer is then relayed with one await per batch instead of one per token. Never an empty batch.
   */
  chatBatches?(req: ChatRequest, opts: CallOptions): AsyncIterable<ChatChunk[]>;
  /** A whole (unstreamed) answer, when the backend gets one more cheaply than by collecting chat()'s chunks. */
  complete?(req: ChatRequest, opts: CallOptions): Promise<CollectedChat>;
  embeddings(req: EmbeddingsRequest, opts: CallOptions): Promise<EmbeddingsResult>;
  close?(): Promise<void>;
}

/** A backend that cannot do what was asked (e.g. embeddings from a chat-only model): becomes a 4xx for the client. */
export class BackendError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
