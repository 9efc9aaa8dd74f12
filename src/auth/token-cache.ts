import { parseJwt, type ParsedJwt } from './jwt.js';

/**
 * Clients send the same bearer token on every request until it expires, so what a token decodes to (and, in strict
 * mode, that its signature verified) is kept, keyed by the raw token: bounded, least recently used dropped first.
 * Nothing time-dependent is kept: expiry, not-before, the issuer's origin and the subscription's tenant are checked on
 * every request, so a kept token stops working the moment it expires.
 */

/** Tokens whose decoding, and whose verified signature in strict mode, are kept (each cache). */
export const TOKEN_CACHE_ENTRIES = 1_000;

/** A Map bounded to `max` entries, the least recently read dropped first. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(k: K, v: V): void {
    this.map.delete(k);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(k, v);
  }
}

const decoded = new Lru<string, ParsedJwt | null>(TOKEN_CACHE_ENTRIES);

/**
 * `parseJwt`, kept per token. The result is shared by every request sending the token: frozen, read only.
 */
export function decodeJwt(token: string): ParsedJwt | undefined {
  const kept = decoded.get(token);
  if (kept !== undefined) return kept ?? undefined;
  const jwt = parseJwt(token);
  if (jwt) {
    Object.freeze(jwt.header);
    Object.freeze(jwt.claims);
    Object.freeze(jwt);
  }
  decoded.set(token, jwt ?? null);
  return jwt;
}

/** How many decoded tokens are kept now (tests read it to check the bound). */
export const decodedTokens = (): number => decoded.size;
