/**
 * What a message's non-text parts cost in prompt tokens. Nothing is fetched: an image's size is read from the bytes
 * of a data: URL (PNG, JPEG, GIF, WebP headers); an https image, or one whose size cannot be read, counts as
 * UNKNOWN_IMAGE_SIDE pixels square. Images cost OpenAI's tile formula; audio AUDIO_TOKENS_PER_SECOND.
 */

/** An image's fixed cost, and the cost of each 512-pixel tile (OpenAI's formula for detail high/auto). */
export const IMAGE_BASE_TOKENS = 85;
export const IMAGE_TILE_TOKENS = 170;
/** The side assumed for an image whose size is not in the request (an https URL): 1024 × 1024, i.e. 765 tokens. */
export const UNKNOWN_IMAGE_SIDE = 1024;
/** Audio input's cost (OpenAI's audio models: one token per 100 ms). mp3 length assumes 128 kbit/s. */
export const AUDIO_TOKENS_PER_SECOND = 10;
const MP3_BYTES_PER_SECOND = 16_000;

type Part = Record<string, unknown>;
const isObject = (v: unknown): v is Part => !!v && typeof v === 'object' && !Array.isArray(v);

/** Tokens of a message content's image and audio parts. */
export function mediaTokens(content: unknown): number {
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content) {
    if (!isObject(part)) continue;
    if (part.type === 'image_url' && isObject(part.image_url)) n += imageTokens(part.image_url);
    if (part.type === 'input_audio' && isObject(part.input_audio)) n += audioTokens(part.input_audio);
  }
  return n;
}

/** The text of an assistant message's tool calls (names and arguments), counted as prompt text. */
export function toolCallsText(toolCalls: unknown): string {
  if (!Array.isArray(toolCalls)) return '';
  return toolCalls
    .map((c) => {
      const f = isObject(c) && isObject(c.function) ? c.function : {};
      return `${String(f.name ?? '')}\n${String(f.arguments ?? '')}`;
    })
    .join('\n');
}

export function imageTokens(image: Part): number {
  if (image.detail === 'low') return IMAGE_BASE_TOKENS;
  let [w, h] = imageSize(String(image.url ?? '')) ?? [UNKNOWN_IMAGE_SIDE, UNKNOWN_IMAGE_SIDE];
  // Fit within 2048 × 2048, then bring the shorter side down to 768: the image is then cut in 512-pixel tiles.
  const fit = Math.min(1, 2048 / Math.max(w, h));
  [w, h] = [w * fit, h * fit];
  const shrink = Math.min(1, 768 / Math.min(w, h));
  [w, h] = [w * shrink, h * shrink];
  return IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * Math.ceil(w / 512) * Math.ceil(h / 512);
}

function audioTokens(audio: Part): number {
  const bytes = Buffer.from(String(audio.data ?? ''), 'base64');
  let seconds = bytes.length / MP3_BYTES_PER_SECOND;
  if (audio.format === 'wav' && bytes.length >= 44 && bytes.toString('latin1', 8, 12) === 'WAVE') {
    const byteRate = bytes.readUInt32LE(28);
    if (byteRate > 0) seconds = Math.max(0, bytes.length - 44) / byteRate;
  }
  return Math.ceil(seconds * AUDIO_TOKENS_PER_SECOND);
}

/** [width, height] of a data: URL's PNG, GIF, JPEG or WebP image; undefined when not readable. */
export function imageSize(url: string): [number, number] | undefined {
  const m = /^data:[^,]*;base64,/i.exec(url);
  if (!m) return undefined;
  const b = Buffer.from(url.slice(m[0].length), 'base64');
  const size = png(b) ?? gif(b) ?? webp(b) ?? jpeg(b);
  return size && size[0] > 0 && size[1] > 0 ? size : undefined;
}

const png = (b: Buffer): [number, number] | undefined =>
  b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 ? [b.readUInt32BE(16), b.readUInt32BE(20)] : undefined;

const gif = (b: Buffer): [number, number] | undefined =>
  b.length >= 10 && b.toString('latin1', 0, 3) === 'GIF' ? [b.readUInt16LE(6), b.readUInt16LE(8)] : undefined;

function webp(b: Buffer): [number, number] | undefined {
  const riff = b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP';
  if (!riff) return undefined;
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') return [b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff];
  if (chunk === 'VP8L') {
    const v = b.readUInt32LE(21);
    return [(v & 0x3fff) + 1, ((v >> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8X') return [b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1];
  return undefined;
}

function jpeg(b: Buffer): [number, number] | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
    i += 2 + b.readUInt16BE(i + 2);
  }
  return undefined;
}
