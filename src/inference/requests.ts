import type { ChatMessage, ChatRequest, EmbeddingsRequest } from './backend.js';
import { apiError } from './errors.js';
import { MAX_CHAT_MESSAGES, MAX_EMBEDDING_INPUTS } from './input-limits.js';
import { checkMessages, parseResponseFormat, parseToolChoice, parseTools } from './tools/chat-features.js';

export type ExtraParameters = 'error' | 'drop' | 'pass-through';

const CHAT_FIELDS = new Set([
  'messages',
  'frequency_penalty',
  'presence_penalty',
  'temperature',
  'top_p',
  'max_tokens',
  'seed',
  'stream',
  'stop',
  'model',
  'response_format',
  'tools',
  'tool_choice',
]);
const EMBEDDINGS_FIELDS = new Set(['input', 'dimensions', 'encoding_format', 'input_type', 'model']);
const ROLES = new Set(['system', 'user', 'assistant', 'tool', 'developer']);

const invalid = (message: string) => apiError(422, 'InvalidRequest', message);

type Body = Record<string, unknown>;

const tooMany = (name: string, n: number, max: number) =>
  apiError(400, 'BadRequest', `'${name}' has ${n} items; at most ${max} are allowed. Send fewer per request.`);

function body(raw: unknown): Body {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw apiError(400, 'BadRequest', 'The request body must be a JSON object.');
  return raw as Body;
}

/** Unknown fields: rejected (error, the default), ignored (drop) or passed to the model (pass-through). */
function extras(b: Body, known: Set<string>, mode: ExtraParameters): Body | undefined {
  const unknown = Object.keys(b).filter((k) => !known.has(k));
  if (!unknown.length) return undefined;
  if (mode === 'error')
    throw invalid(
      `Extra parameters ${unknown.map((k) => `'${k}'`).join(', ')} are not allowed when extra-parameters is not set or set to 'error'. Set the extra-parameters header to 'pass-through' to pass them to the model, or 'drop' to ignore them.`,
    );
  return mode === 'pass-through' ? Object.fromEntries(unknown.map((k) => [k, b[k]])) : undefined;
}

function num(b: Body, name: string, min: number, max: number, integer = false): number | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max)
    throw invalid(`'${name}' must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`);
  return v;
}

export function parseChat(raw: unknown, mode: ExtraParameters): { request: ChatRequest; stream: boolean } {
  const b = body(raw);
  const messages = b.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw invalid("'messages' must be a non-empty array.");
  if (messages.length > MAX_CHAT_MESSAGES) throw tooMany('messages', messages.length, MAX_CHAT_MESSAGES);
  messages.forEach((m, i) => {
    if (!m || typeof m !== 'object' || !ROLES.has((m as ChatMessage).role))
      throw invalid(`'messages[${i}].role' must be one of system, user, assistant, tool, developer.`);
  });
  checkMessages(messages as ChatMessage[]);
  const tools = parseTools(b.tools);
  num(b, 'frequency_penalty', -2, 2);
  num(b, 'presence_penalty', -2, 2);
  let stop = b.stop;
  if (typeof stop === 'string') stop = [stop];
  if (stop !== undefined && stop !== null && (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')))
    throw invalid("'stop' must be a string or an array of strings.");
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean')
    throw invalid("'stream' must be true or false.");
  return {
    stream: b.stream === true,
    request: {
      messages: messages as ChatMessage[],
      temperature: num(b, 'temperature', 0, 1),
      top_p: num(b, 'top_p', 0, 1),
      max_tokens: num(b, 'max_tokens', 0, 2 ** 31 - 1, true),
      seed: num(b, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true),
      stop: (stop as string[] | null | undefined) ?? undefined,
      tools,
      toolChoice: parseToolChoice(b.tool_choice, tools),
      responseFormat: parseResponseFormat(b.response_format, messages as ChatMessage[]),
      extra: extras(b, CHAT_FIELDS, mode),
    },
  };
}

export function parseEmbeddings(
  raw: unknown,
  mode: ExtraParameters,
): { request: EmbeddingsRequest; encoding: 'float' | 'base64' } {
  const b = body(raw);
  const input = typeof b.input === 'string' ? [b.input] : b.input;
  if (!Array.isArray(input) || input.length === 0 || input.some((s) => typeof s !== 'string'))
    throw invalid("'input' must be a string or a non-empty array of strings.");
  if (input.length > MAX_EMBEDDING_INPUTS) throw tooMany('input', input.length, MAX_EMBEDDING_INPUTS);
  const encoding = (b.encoding_format ?? 'float') as string;
  if (encoding !== 'float' && encoding !== 'base64')
    throw invalid(`The encoding_format '${encoding}' is not supported by this model: use float or base64.`);
  const inputType = b.input_type as EmbeddingsRequest['inputType'];
  if (inputType !== undefined && !['text', 'query', 'document'].includes(inputType))
    throw invalid("'input_type' must be text, query or document.");
  return {
    encoding,
    request: {
      input: input as string[],
      dimensions: num(b, 'dimensions', 1, 2 ** 31 - 1, true),
      inputType,
      extra: extras(b, EMBEDDINGS_FIELDS, mode),
    },
  };
}
