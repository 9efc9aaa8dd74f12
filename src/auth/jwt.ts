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
  signedPart: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWS; undefined when it is not one. */
export function parseJwt(token: string): ParsedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObject(header) || !isObject(claims)) return undefined;
    return { header, claims, signedPart: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

export const verifyRs256 = (jwt: ParsedJwt, publicKey: KeyObject): boolean =>
  jwt.signature.length > 0 && verify('sha256', Buffer.from(jwt.signedPart), publicKey, jwt.signature);

/** The public JWK of an RSA key, with its RFC 7638 thumbprint as `kid`. */
export function publicJwk(key: KeyObject): { kty: string; n: string; e: string; kid: string; use: string; alg: string } {
  const { n, e } = createPublicKey(key).export({ format: 'jwk' }) as { n: string; e: string };
  const kid = createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
  return { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n, e };
}
