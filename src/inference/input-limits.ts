import type { ChatRequest, EmbeddingsRequest } from './backend.js';
import type { CatalogEntry } from './catalog.js';
import { describeModel } from './backends/simulated.js';
import { apiError } from './errors.js';
import { countPromptTokensPaced, countTokensPaced, pacer } from './tokens.js';

/**
 * What one data-plane request may ask of a model, so its work is bounded whatever it sends: each limit answers 400
 * (413 for the body) with the Azure.Core error envelope, before any model work starts.
 */

/** Bytes of a data-plane request body (413 beyond): four times a full 128k-token context of text. */
export const DATA_PLANE_BODY_LIMIT = 2 * 1024 * 1024;
/** Messages in one chat request, as Azure OpenAI allows. */
export const MAX_CHAT_MESSAGES = 2048;
/** Inputs in one embeddings request, as Azure OpenAI allows. */
export const MAX_EMBEDDING_INPUTS = 2048;
/** The largest `dimensions` any embeddings model here may be configured with (catalog `dimensions`) or asked for. */
export const MAX_EMBEDDING_DIMENSIONS = 4096;
/** A simulated model's context (catalog `contextSize` overrides): chat models, and embeddings models (per input). */
export const SIMULATED_CHAT_CONTEXT_TOKENS = 128_000;
export const SIMULATED_EMBEDDINGS_CONTEXT_TOKENS = 8_192;
/** A simulated embeddings model's own size (catalog `dimensions` overrides): what no `dimensions` gives. */
export const SIMULATED_DIMENSIONS = 1024;

export interface ModelLimits {
  /**
   * Tokens a prompt (or one embeddings input) may take, counted with the cl100k tokenizer; undefined: no limit here
   * (an upstream server applies its own); `model`: the backend counts and checks with the model's own tokenizer.
   */
  contextTokens: number | undefined | 'model';
  /** The largest `dimensions` an embeddings request may ask for. */
  maxDimensions: number;
}

export function limitsOf(entry: CatalogEntry, modelId: string): ModelLimits {
  switch (entry.backend) {
    case 'simulated': {
      const embeddings = describeModel(modelId).model_type === 'embeddings';
      const context = embeddings ? SIMULATED_EMBEDDINGS_CONTEXT_TOKENS : SIMULATED_CHAT_CONTEXT_TOKENS;
      return { contextTokens: entry.contextSize ?? context, maxDimensions: entry.dimensions ?? SIMULATED_DIMENSIONS };
    }
    case 'openai-compatible':
      return { contextTokens: entry.contextSize, maxDimensions: entry.dimensions ?? MAX_EMBEDDING_DIMENSIONS };
    case 'llama-cpp':
      return { contextTokens: 'model', maxDimensions: entry.dimensions ?? MAX_EMBEDDING_DIMENSIONS };
  }
}

const contextExceeded = (message: string) => apiError(400, 'context_length_exceeded', message);

/** Refuses a prompt longer than the model's context; otherwise records its token count for the backend's `usage`. */
export async function checkChatInput(req: ChatRequest, limits: ModelLimits): Promise<void> {
  if (limits.contextTokens === 'model' || limits.contextTokens === undefined) return;
  const max = limits.contextTokens;
  const tokens = await countPromptTokensPaced(req.messages, max);
  if (tokens > max)
    throw contextExceeded(
      `This model's maximum context length is ${max} tokens. However, your messages resulted in ` +
        `more than ${max} tokens. Please reduce the length of the messages.`,
    );
  req.promptTokens = tokens;
}

/** Refuses `dimensions` beyond the model's size and an input longer than its context; records the token count. */
export async function checkEmbeddingsInput(req: EmbeddingsRequest, limits: ModelLimits): Promise<void> {
  if (req.dimensions !== undefined && req.dimensions > limits.maxDimensions)
    throw apiError(
      400,
      'InvalidDimensions',
      `This model's embeddings have at most ${limits.maxDimensions} dimensions; ` +
        `'dimensions' must be from 1 to ${limits.maxDimensions}.`,
    );
  if (limits.contextTokens === 'model' || limits.contextTokens === undefined) return;
  const max = limits.contextTokens;
  const pace = pacer();
  let total = 0;
  for (const [i, text] of req.input.entries()) {
    const tokens = await countTokensPaced(text, max, pace);
    if (tokens > max)
      throw contextExceeded(
        `This model's maximum context length is ${max} tokens, however 'input[${i}]' has more ` +
          `than ${max} tokens. Please reduce your input.`,
      );
    total += tokens;
  }
  req.promptTokens = total;
}
