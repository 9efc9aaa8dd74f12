/**
 * uniqueString() and guid(): Azure's deterministic hashes.
 * uniqueString: the arguments joined by '-', UTF-8, hashed with the 64-bit MurmurHash variant of
 * Microsoft's ResourceStack library (two 32-bit lanes), written as 13 lowercase base32 characters (RFC 4648 alphabet,
 * most significant 5 bits first). guid: an RFC 4122 §4.3 name-based (SHA-1, version 5) UUID of the arguments joined by
 * '-', in the namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830.
 */
import { createHash } from 'node:crypto';

const C1 = 0xab0e9789;
const C2 = 0x239b961b;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;

function fmix(h: number): number {
  h = mul(h ^ (h >>> 16), C3);
  h = mul(h ^ (h >>> 13), C4);
  return (h ^ (h >>> 16)) >>> 0;
}

function lane(bytes: Uint8Array, at: number, n: number): number {
  let k = 0;
  for (let i = n - 1; i >= 0; i--) k = (k << 8) | bytes[at + i]!;
  return k >>> 0;
}

export function murmurHash64(bytes: Uint8Array): bigint {
  const len = bytes.length;
  let h1 = 0;
  let h2 = 0;
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const k1 = mul(rotl(mul(lane(bytes, i, 4), C2), 15), C1);
    const k2 = mul(rotl(mul(lane(bytes, i + 4, 4), C1), 17), C2);
    h1 = (mul((rotl((h1 ^ k1) >>> 0, 19) + h2) >>> 0, 5) + 0x561ccd1b) >>> 0;
    h2 = (mul((rotl((h2 ^ k2) >>> 0, 13) + h1) >>> 0, 5) + 0x0bcaa747) >>> 0;
  }
  const rem = len - i;
  if (rem > 0) {
    h1 = (h1 ^ mul(rotl(mul(lane(bytes, i, Math.min(rem, 4)), C2), 15), C1)) >>> 0;
    if (rem > 4) h2 = (h2 ^ mul(rotl(mul(lane(bytes, i + 4, rem - 4), C1), 17), C2)) >>> 0;
  }
  const r0 = (h2 ^ len) >>> 0;
  let r1 = fmix((((h1 ^ len) >>> 0) + r0) >>> 0);
  let r2 = fmix((r0 + ((((h1 ^ len) >>> 0) + r0) >>> 0)) >>> 0);
  r1 = (r1 + r2) >>> 0;
  r2 = (r2 + r1) >>> 0;
  return (BigInt(r2) << 32n) | BigInt(r1);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function uniqueString(args: string[]): string {
  let h = murmurHash64(new TextEncoder().encode(args.join('-')));
  let out = '';
  for (let i = 0; i < 13; i++) {
    out += BASE32[Number((h >> 59n) & 31n)];
    h = (h << 5n) & 0xffffffffffffffffn;
  }
  return out;
}

const GUID_NAMESPACE = Buffer.from('11fb06fb712d4ddd98c7e71bbd588830', 'hex');

export function armGuid(args: string[]): string {
  const hash = createHash('sha1').update(GUID_NAMESPACE).update(args.join('-'), 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
