import { encode, decode } from 'gpt-tokenizer';
import type { ChatMessage } from './backend.js';
import { mediaTokens, toolCallsText } from './tools/media-tokens.js';

/**
 * The longest run of letters (or of spaces, or of other non-space characters) handed to the BPE in one piece. The
 * BPE's cost grows with the square of a piece's length (and its recursion overflows the stack near 300 KB), so longer
 * runs are cut: linear time, at the price of a token or so per cut in text no real prompt contains.
 */
export const MAX_BPE_PIECE_CHARS = 128;
/** Text is tokenized in slices of about this many characters, cut where a word begins (counts stay exact there). */
const SLICE_CHARS = 1024;

const isSpace = (c: number) =>
  c <= 32 ||
  c === 0x85 ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** `text` in slices the BPE handles in linear time overall (see MAX_BPE_PIECE_CHARS). */
export function* slices(text: string): Generator<string> {
  let start = 0;
  let run = 0;
  let previous = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = isSpace(c);
    if (i === 0 || space !== previous) {
      // ' word' is a BPE piece of its own: a cut before it changes nothing. Text without such places (words split
      // by newlines only, say) is cut where a run ends, which may cost a token per cut.
      const size = i - start;
      if (size >= 2 * SLICE_CHARS || (size >= SLICE_CHARS && c === 32 && !isSpace(text.charCodeAt(i + 1)))) {
        yield text.slice(start, i);
        start = i;
      }
      run = 0;
    } else if (run >= MAX_BPE_PIECE_CHARS && !isLowSurrogate(c)) {
      yield text.slice(start, i);
      start = i;
      run = 0;
    }
    previous = space;
    run++;
  }
  if (start < text.length) yield text.slice(start);
}

/** Tokens per slice of `text` (see slices). */
function* sliceCounts(text: string): Generator<number> {
  for (const slice of slices(text)) yield encode(slice).length;
}

/**
 * Real token counts (cl100k-style BPE), for `usage` and for honouring max_tokens and context sizes. With a `limit`,
 * counting stops once it is passed (the answer is then some number above it): the work is bounded by the limit,
 * not by the text's length.
 */
export function countTokens(text: string, limit = Infinity): number {
  let n = 0;
  for (const k of sliceCounts(text)) {
    n += k;
    if (n > limit) break;
  }
  return n;
}

/** How long counting may hold the event loop before it lets other requests (and /health) have a turn. */
export const TOKENIZER_TURN_MS = 10;

/** A per-request pacer: resolves at once, or after the event loop's next turn once TOKENIZER_TURN_MS have passed. */
export function pacer(): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < TOKENIZER_TURN_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = performance.now();
        resolve();
      }),
    );
  };
}

/** countTokens that gives the event loop a turn every TOKENIZER_TURN_MS: a long input delays no other request. */
export async function countTokensPaced(text: string, limit = Infinity, pace = pacer()): Promise<number> {
  let n = 0;
  for (const k of sliceCounts(text)) {
    n += k;
    if (n > limit) break;
    const turn = pace();
    if (turn) await turn;
  }
  return n;
}

export const tokenize = (text: string): number[] => [...slices(text)].flatMap((s) => encode(s));
export const detokenize = (tokens: number[]): string => decode(tokens);

/** The text of a message's content: a string, or the text items of a content array. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  // Only text items: an image or audio item adds no text (not even a separating newline).
  return content
    .filter((c) => c && typeof c === 'object' && 'text' in c)
    .map((c) => String(c.text))
    .join('\n');
}

/** Prompt tokens as chat models count them: each message's text plus a few tokens of framing (see countTokens). */
export function countPromptTokens(messages: ChatMessage[], limit = Infinity): number {
  let n = 3;
  for (const m of messages) {
    const text = textOf(m.content) + toolCallsText(m.tool_calls);
    n += 4 + countTokens(m.role) + countTokens(text, limit - n) + mediaTokens(m.content);
    if (n > limit) return n;
  }
  return n;
}

/** countPromptTokens, paced as countTokensPaced is. */
export async function countPromptTokensPaced(messages: ChatMessage[], limit = Infinity): Promise<number> {
  const pace = pacer();
  let n = 3;
  for (const m of messages) {
    const text = textOf(m.content) + toolCallsText(m.tool_calls);
    n += 4 + countTokens(m.role) + (await countTokensPaced(text, limit - n, pace)) + mediaTokens(m.content);
    if (n > limit) return n;
  }
  return n;
}
