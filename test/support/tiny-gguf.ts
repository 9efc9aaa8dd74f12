/**
 * A tiny random-weight GGUF model for tests: the real llama.cpp code path (load, tokenize, generate, embed) with
 * no download. GGUF v3 (ggml's docs/gguf.md): header, metadata key/values, tensor infos, padding to
 * `general.alignment`, then each tensor's data at an aligned offset.
 *
 * Architecture `llama` (2 layers, 64-wide, 4 heads / 2 KV heads, F32), vocabulary `llama` (SentencePiece) made of
 * <unk>, <s>, </s>, the 256 byte tokens `<0x00>`..`<0xFF>` and `▁` (SentencePiece's space): every text tokenizes
 * through byte fallback, one token per UTF-8 byte (a space being `▁`), and detokenizes back to itself.
 *
 * Two deliberate tilts keep the output usable for tests while the rest of the weights are seeded noise:
 * - channel 0 of every token embedding is a constant that no layer writes to, so after the final RMS norm it is
 *   a fixed positive "bias" input to the output layer;
 * - the output layer gives that channel a strong negative weight for <unk>/<s>/</s> (so generation never ends by
 *   itself: max_tokens decides) and a positive one for printable ASCII (so replies are mostly valid text).
 */
import { writeFileSync } from 'node:fs';

const ALIGNMENT = 32;

/** GGUF metadata value types. */
const enum T {
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

type Value =
  | { t: T.U32 | T.I32 | T.F32; v: number }
  | { t: T.BOOL; v: boolean }
  | { t: T.STRING; v: string }
  | { t: T.ARRAY; of: T.STRING; v: string[] }
  | { t: T.ARRAY; of: T.F32 | T.I32; v: number[] };

interface Tensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

class Writer {
  private chunks: Buffer[] = [];
  private length = 0;
  get size() {
    return this.length;
  }
  bytes(b: Buffer) {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(n: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.bytes(b);
  }
  i32(n: number) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.bytes(b);
  }
  u64(n: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.bytes(b);
  }
  f32(n: number) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(n);
    this.bytes(b);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  pad(to: number) {
    const rest = this.length % to;
    if (rest) this.bytes(Buffer.alloc(to - rest));
  }
  value(val: Value) {
    switch (val.t) {
      case T.U32:
        return this.u32(val.v);
      case T.I32:
        return this.i32(val.v);
      case T.F32:
        return this.f32(val.v);
      case T.BOOL:
        return this.bytes(Buffer.from([val.v ? 1 : 0]));
      case T.STRING:
        return this.str(val.v);
      case T.ARRAY:
        this.u32(val.of);
        this.u64(val.v.length);
        for (const item of val.v) {
          if (val.of === T.STRING) this.str(item as string);
          else if (val.of === T.F32) this.f32(item as number);
          else this.i32(item as number);
        }
    }
  }
  buffer() {
    return Buffer.concat(this.chunks);
  }
}

/** mulberry32: seeded, so the same seed always writes the same file. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TINY_GGUF = {
  embeddingLength: 64,
  blockCount: 2,
  headCount: 4,
  headCountKv: 2,
  feedForwardLength: 128,
  /** <unk>, <s>, </s>, the 256 byte tokens, then `▁`. */
  vocabSize: 3 + 256 + 1,
} as const;

export function writeTinyGguf(path: string, opts: { seed?: number; contextLength?: number } = {}): void {
  const { embeddingLength: E, blockCount, headCount, headCountKv, feedForwardLength: F, vocabSize: V } = TINY_GGUF;
  const SPACE = V - 1;
  const headDim = E / headCount;
  const kvDim = headDim * headCountKv;
  const contextLength = opts.contextLength ?? 2048;
  const random = prng(opts.seed ?? 1);
  const uniform = (scale: number) => (random() * 2 - 1) * scale;

  /** A ggml tensor of shape [ne0, ne1] (ne0 varies fastest: ne1 rows of ne0 values). */
  const matrix = (
    ne0: number,
    ne1: number,
    scale: number,
    row?: (r: number, values: Float32Array) => void,
  ): Float32Array => {
    const data = new Float32Array(ne0 * ne1);
    for (let i = 0; i < data.length; i++) data[i] = uniform(scale);
    if (row) for (let r = 0; r < ne1; r++) row(r, data.subarray(r * ne0, (r + 1) * ne0));
    return data;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  /** Layers never write residual channel 0 (see the header). */
  const keepChannel0 = (r: number, values: Float32Array) => {
    if (r === 0) values.fill(0);
  };

  const tensors: Tensor[] = [
    {
      name: 'token_embd.weight',
      dims: [E, V],
      data: matrix(E, V, 1, (_r, v) => {
        v[0] = 3;
      }),
    },
  ];
  for (let b = 0; b < blockCount; b++) {
    tensors.push(
      { name: `blk.${b}.attn_norm.weight`, dims: [E], data: ones(E) },
      { name: `blk.${b}.attn_q.weight`, dims: [E, E], data: matrix(E, E, 1 / Math.sqrt(E)) },
      { name: `blk.${b}.attn_k.weight`, dims: [E, kvDim], data: matrix(E, kvDim, 1 / Math.sqrt(E)) },
      { name: `blk.${b}.attn_v.weight`, dims: [E, kvDim], data: matrix(E, kvDim, 1 / Math.sqrt(E)) },
      { name: `blk.${b}.attn_output.weight`, dims: [E, E], data: matrix(E, E, 0.5 / Math.sqrt(E), keepChannel0) },
      { name: `blk.${b}.ffn_norm.weight`, dims: [E], data: ones(E) },
      { name: `blk.${b}.ffn_gate.weight`, dims: [E, F], data: matrix(E, F, 1 / Math.sqrt(E)) },
      { name: `blk.${b}.ffn_up.weight`, dims: [E, F], data: matrix(E, F, 1 / Math.sqrt(E)) },
      { name: `blk.${b}.ffn_down.weight`, dims: [F, E], data: matrix(F, E, 0.5 / Math.sqrt(F), keepChannel0) },
    );
  }
  tensors.push(
    { name: 'output_norm.weight', dims: [E], data: ones(E) },
    {
      name: 'output.weight',
      dims: [E, V],
      data: matrix(E, V, 1, (token, v) => {
        const byte = token - 3;
        v[0] = token < 3 ? -10 : (byte >= 0x21 && byte < 0x7f) || token === SPACE ? 1 : 0;
      }),
    },
  );

  const tokens = [
    '<unk>',
    '<s>',
    '</s>',
    ...Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`),
    '\u2581',
  ];
  // llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte.
  const tokenTypes = [2, 3, 3, ...Array<number>(256).fill(6), 1];
  const metadata: [string, Value][] = [
    ['general.architecture', { t: T.STRING, v: 'llama' }],
    ['general.name', { t: T.STRING, v: 'amlite-tiny-random' }],
    ['general.alignment', { t: T.U32, v: ALIGNMENT }],
    ['general.file_type', { t: T.U32, v: 0 }], // all F32
    ['llama.context_length', { t: T.U32, v: contextLength }],
    ['llama.embedding_length', { t: T.U32, v: E }],
    ['llama.block_count', { t: T.U32, v: blockCount }],
    ['llama.feed_forward_length', { t: T.U32, v: F }],
    ['llama.attention.head_count', { t: T.U32, v: headCount }],
    ['llama.attention.head_count_kv', { t: T.U32, v: headCountKv }],
    ['llama.rope.dimension_count', { t: T.U32, v: headDim }],
    ['llama.rope.freq_base', { t: T.F32, v: 10000 }],
    ['llama.attention.layer_norm_rms_epsilon', { t: T.F32, v: 1e-5 }],
    ['llama.vocab_size', { t: T.U32, v: V }],
    ['tokenizer.ggml.model', { t: T.STRING, v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: T.ARRAY, of: T.STRING, v: tokens }],
    ['tokenizer.ggml.scores', { t: T.ARRAY, of: T.F32, v: tokens.map(() => 0) }],
    ['tokenizer.ggml.token_type', { t: T.ARRAY, of: T.I32, v: tokenTypes }],
    ['tokenizer.ggml.unknown_token_id', { t: T.U32, v: 0 }],
    ['tokenizer.ggml.bos_token_id', { t: T.U32, v: 1 }],
    ['tokenizer.ggml.eos_token_id', { t: T.U32, v: 2 }],
    ['tokenizer.ggml.add_bos_token', { t: T.BOOL, v: true }],
    ['tokenizer.ggml.add_eos_token', { t: T.BOOL, v: false }],
  ];

  const w = new Writer();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [key, val] of metadata) {
    w.str(key);
    w.u32(val.t);
    w.value(val);
  }
  let offset = 0;
  for (const t of tensors) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  w.pad(ALIGNMENT);
  for (const t of tensors) {
    w.bytes(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad(ALIGNMENT);
  }
  writeFileSync(path, w.buffer());
}
