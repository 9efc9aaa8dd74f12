import type { ChatMessage, ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../backend.js';
import { BackendError } from '../backend.js';
import { apiError } from '../errors.js';
import { checkSchema } from '../json-schema-strict.js';

/** Tools one chat request may offer, as OpenAI allows. */
export const MAX_TOOLS = 128;

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const invalid = (message: string) => apiError(422, 'InvalidRequest', message);
const badRequest = (message: string) => apiError(400, 'BadRequest', message);
type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export function parseTools(raw: unknown): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) throw invalid("'tools' must be a non-empty array.");
  if (raw.length > MAX_TOOLS) throw badRequest(`'tools' has ${raw.length} items; at most ${MAX_TOOLS} are allowed.`);
  const names = new Set<string>();
  return raw.map((t, i) => {
    if (!isObject(t) || t.type !== 'function' || !isObject(t.function))
      throw invalid(`'tools[${i}]' must be {"type": "function", "function": {"name": ...}}.`);
    const f = t.function;
    if (typeof f.name !== 'string' || !NAME.test(f.name))
      throw invalid(`'tools[${i}].function.name' must be 1 to 64 letters, digits, underscores or dashes.`);
    if (names.has(f.name)) throw badRequest(`'tools' has two functions named '${f.name}'.`);
    names.add(f.name);
    if (f.description !== undefined && typeof f.description !== 'string')
      throw invalid(`'tools[${i}].function.description' must be a string.`);
    if (f.strict !== undefined && f.strict !== null && typeof f.strict !== 'boolean')
      throw invalid(`'tools[${i}].function.strict' must be true or false.`);
    if (f.parameters !== undefined) checkSchema(f.parameters, `function '${f.name}'`, f.strict === true);
    return t as unknown as ToolDefinition;
  });
}

export function parseToolChoice(raw: unknown, tools: ToolDefinition[] | undefined): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!tools)
    throw badRequest("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.");
  if (raw === 'auto' || raw === 'none' || raw === 'required') return raw;
  if (isObject(raw) && raw.type === 'function' && isObject(raw.function) && typeof raw.function.name === 'string') {
    const name = raw.function.name;
    if (!tools.some((t) => t.function.name === name))
      throw badRequest(`Invalid value for 'tool_choice': no function named '${name}' was specified in 'tools'.`);
    return { type: 'function', function: { name } };
  }
  throw invalid("'tool_choice' must be auto, none, required or " + '{"type": "function", "function": {"name": ...}}.');
}

export function parseResponseFormat(raw: unknown, messages: ChatMessage[]): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalid("'response_format' must be an object with a 'type'.");
  if (raw.type === 'text') return { type: 'text' };
  if (raw.type === 'json_object') {
    // As OpenAI asks: JSON mode needs the prompt to say so, or a model may write whitespace until max_tokens.
    if (!messages.some((m) => /json/i.test(JSON.stringify(m.content ?? ''))))
      throw badRequest(
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type " + "'json_object'.",
      );
    return { type: 'json_object' };
  }
  if (raw.type === 'json_schema') {
    const js = raw.json_schema;
    if (!isObject(js) || typeof js.name !== 'string' || !NAME.test(js.name))
      throw invalid("'response_format.json_schema.name' must be 1 to 64 letters, digits, underscores or dashes.");
    if (js.strict !== undefined && js.strict !== null && typeof js.strict !== 'boolean')
      throw invalid("'response_format.json_schema.strict' must be true or false.");
    checkSchema(js.schema, `response_format '${js.name}'`, js.strict === true);
    return { type: 'json_schema', json_schema: js as Extract<ResponseFormat, { type: 'json_schema' }>['json_schema'] };
  }
  throw invalid("'response_format.type' must be text, json_object or json_schema.");
}

const USER_PARTS = new Set(['text', 'image_url', 'input_audio']);
/** Images by URL (never fetched) or inline; no file: or other schemes. */
const IMAGE_URL = /^(https?:\/\/|data:image\/[a-z0-9.+-]+;base64,)/i;

/** Each message's content (a string, or parts its role may have) and the pairing of tool calls with tool messages. */
export function checkMessages(messages: ChatMessage[]): void {
  let open: Set<string> | undefined;
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (m.role === 'assistant') checkToolCalls(m.tool_calls, at);
    else if (m.content === undefined || m.content === null)
      throw invalid(`'${at}.content' must be a string or an array of content items.`);
    const parts = m.role === 'user' ? USER_PARTS : TEXT_ONLY;
    if (Array.isArray(m.content)) m.content.forEach((p, j) => checkPart(p, `${at}.content[${j}]`, parts));
    else if (m.content !== undefined && m.content !== null && typeof m.content !== 'string')
      throw invalid(`'${at}.content' must be a string or an array of content items.`);
    if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string') throw invalid(`'${at}.tool_call_id' must be a string.`);
      if (!open)
        throw badRequest(
          "Invalid parameter: messages with role 'tool' must be a response to a preceding message " +
            "with 'tool_calls'.",
        );
      open.delete(m.tool_call_id);
      return;
    }
    if (open?.size) throw unanswered(open);
    open =
      m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length
        ? new Set(m.tool_calls.map((c) => String((c as Obj).id)))
        : undefined;
  });
  if (open?.size) throw unanswered(open);
}

const TEXT_ONLY = new Set(['text']);

const unanswered = (ids: Set<string>) =>
  badRequest(
    "An assistant message with 'tool_calls' must be followed by tool " +
      "messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: " +
      [...ids].join(', '),
  );

function checkToolCalls(calls: unknown, at: string): void {
  if (calls === undefined || calls === null) return;
  if (!Array.isArray(calls)) throw invalid(`'${at}.tool_calls' must be an array.`);
  calls.forEach((c, k) => {
    if (
      !isObject(c) ||
      typeof c.id !== 'string' ||
      !isObject(c.function) ||
      typeof c.function.name !== 'string' ||
      typeof c.function.arguments !== 'string'
    )
      throw invalid(`'${at}.tool_calls[${k}]' must be {"id", "type": "function", "function": {"name", "arguments"}}.`);
  });
}

function checkPart(p: unknown, at: string, allowed: Set<string>): void {
  if (!isObject(p) || typeof p.type !== 'string' || !allowed.has(p.type))
    throw invalid(`'${at}.type' must be one of ${[...allowed].join(', ')}.`);
  if (p.type === 'text' && typeof p.text !== 'string') throw invalid(`'${at}.text' must be a string.`);
  if (p.type === 'image_url') {
    const img = p.image_url;
    if (!isObject(img) || typeof img.url !== 'string' || !IMAGE_URL.test(img.url))
      throw invalid(`'${at}.image_url.url' must be an http(s) URL or a data:image/...;base64, URL.`);
    if (img.detail !== undefined && !['auto', 'low', 'high'].includes(String(img.detail)))
      throw invalid(`'${at}.image_url.detail' must be auto, low or high.`);
  }
  if (p.type === 'input_audio') {
    const audio = p.input_audio;
    if (!isObject(audio) || typeof audio.data !== 'string' || !['wav', 'mp3'].includes(String(audio.format)))
      throw invalid(`'${at}.input_audio' must be {"data": base64, "format": "wav" or "mp3"}.`);
  }
}

/** What a catalog entry may say a model cannot do (all default to true). */
export interface ModelFeatures {
  tools?: boolean;
  jsonObject?: boolean;
  jsonSchema?: boolean;
  images?: boolean;
  audio?: boolean;
}

export const FEATURE_NAMES = ['tools', 'jsonObject', 'jsonSchema', 'images', 'audio'] as const;

/** The Azure AI Model Inference API's answer for a parameter the model does not support: 422. */
export function checkFeatures(req: ChatRequest, features: ModelFeatures | undefined): void {
  if (!features) return;
  const refuse = (parameter: string, value: string) =>
    new BackendError(
      422,
      'parameter_not_supported',
      `One of the parameters contain invalid values: this model does not support '${parameter}' (${value}).`,
    );
  if (features.tools === false && req.tools) throw refuse('tools', 'function calling');
  const format = req.responseFormat?.type;
  if (features.jsonObject === false && format === 'json_object') throw refuse('response_format', 'json_object');
  if (features.jsonSchema === false && format === 'json_schema') throw refuse('response_format', 'json_schema');
  const parts = req.messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as Obj[]) : []));
  const has = (type: string) => parts.some((p) => p?.type === type);
  if (features.images === false && has('image_url')) throw refuse('messages', 'image_url content');
  if (features.audio === false && has('input_audio')) throw refuse('messages', 'input_audio content');
}
