import { encode, decode } from 'gpt-tokenizer';
import type { ChatMessage } from './backend.js';

/** Real token counts (cl100k-style BPE), for `usage` and for honouring max_tokens. */
export const countTokens = (text: string): number => encode(text).length;

export const tokenize = (text: string): number[] => encode(text);
export const detokenize = (tokens: number[]): string => decode(tokens);

/** The text of a message's content: a string, or the text items of a content array. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (c && typeof c === 'object' && 'text' in c ? String(c.text) : '')).join('\n');
  return '';
}

/** Prompt tokens as chat models count them: each message's text plus a few tokens of framing. */
export function countPromptTokens(messages: ChatMessage[]): number {
  return messages.reduce((n, m) => n + 4 + countTokens(m.role) + countTokens(textOf(m.content)), 3);
}
