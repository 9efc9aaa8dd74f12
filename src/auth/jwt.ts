import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** Compact JWS (RS256) with node:crypto only: what the local token issuer signs and strict mode checks. */

export type Claims = Record<string, unknown>;

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

export function signJwt(claims: Claims, key: KeyObject, kid: string): string {
  const head = `${b64({ typ: 'JWT', alg: 'RS256', kid })}.${b64(claims)}`;
  return `${head}.${sign('sha256', Buffer.from(head), key).toString('base64url')}`;
}

export interface ParsedJwt {
  header: Record<string, unknown>;
  claims: Claims;
  /** The compact parts as sent (the signature is decoded only when verified). */
  parts: readonly [string, string, string];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The one JWT decoder: splits a compact JWS and parses its header and claims (base64url JSON, claims an object).
 * Undefined when it is not one. Loose mode trusts what it reads; strict mode also wants it canonical and signed.
 */
export function parseJwt(token: string): ParsedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!isObject(header) || !isObject(claims) || Array.isArray(claims)) return undefined;
    return { header, claims, parts: parts as [string, string, string] };
  } catch {
    return undefined;
  }
}

/** Every part in the base64url alphabet and the header an object: what a signed token must be (strict mode). */
export const isCanonical = (jwt: ParsedJwt): boolean =>
  !Array.isArray(jwt.header) && jwt.parts.every((p) => BASE64URL.test(p));

/** An unsigned token (`alg: none`): what `amlite token` prints and loose mode reads. */
export const unsignedJwt = (claims: Claims): string => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;

export function verifyRs256(jwt: ParsedJwt, publicKey: KeyObject): boolean {
  const signature = Buffer.from(jwt.parts[2], 'base64url');
  return signature.length > 0 && verify('sha256', Buffer.from(`${jwt.parts[0]}.${jwt.parts[1]}`), publicKey, signature);
}

/** The public JWK of an RSA key, with its RFC 7638 thumbprint as `kid`. */
export interface PublicJwk {
  kty: string;
  n: string;
  e: string;
  kid: string;
  use: string;
  alg: string;
}

export function publicJwk(key: KeyObject): PublicJwk {
  const { n, e } = createPublicKey(key).export({ format: 'jwk' }) as { n: string; e: string };
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
  return { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n, e };
}
