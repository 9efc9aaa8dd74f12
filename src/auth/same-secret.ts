import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of two secrets (of their digests, so lengths do not leak either). */
export const sameSecret = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));
