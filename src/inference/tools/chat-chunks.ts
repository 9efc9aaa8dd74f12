import type { ChatChunk, FinishReason, ToolCallChunk, Usage } from '../backend.js';
import { BackendError } from '../backend.js';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface CollectedChat {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
}

/** A whole answer from a backend's chunks: its text, its tool calls assembled by index, how it ended. */
export async function collectChat(chunks: AsyncIterable<ChatChunk>): Promise<CollectedChat> {
  let text = '';
  const calls: ToolCall[] = [];
  for await (const c of chunks) {
    if (c.type === 'delta') text += c.text;
    else if (c.type === 'tool_call') {
      const call = (calls[c.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (c.id) call.id = c.id;
      if (c.name) call.function.name += c.name;
      call.function.arguments += c.arguments;
    } else return { text, toolCalls: calls.filter(Boolean), finishReason: c.finishReason, usage: c.usage };
  }
  throw new BackendError(502, 'IncompleteResponse', 'The model backend ended without finishing the response.');
}

/** The response's message: text, or (content null unless the model also wrote some) its tool calls. */
export const assistantMessage = (r: CollectedChat) =>
  r.toolCalls.length
    ? { role: 'assistant', content: r.text || null, tool_calls: r.toolCalls }
    : { role: 'assistant', content: r.text };

/** A streamed tool-call piece as the openai clients assemble them (index; id, type and name on the first piece). */
export function toolCallDelta(c: ToolCallChunk, first: boolean): Record<string, unknown> {
  const call =
    c.id !== undefined || c.name !== undefined
      ? { index: c.index, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }
      : { index: c.index, function: { arguments: c.arguments } };
  return { ...(first ? { role: 'assistant', content: null } : {}), tool_calls: [call] };
}
