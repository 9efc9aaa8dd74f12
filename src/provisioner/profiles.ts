import type { OperationKind } from '../store/types.js';

/** How long operations take. `fast` finishes them before a client's first poll; `realistic` takes Azure-like time. */
export interface Profile {
  name: 'fast' | 'realistic';
  /** Milliseconds from acceptance to the terminal state, per kind of operation. */
  delayMs: Record<OperationKind, number>;
  /** The Retry-After (seconds) sent with 202 responses; Azure ML's swagger allows 10 to 600. */
  retryAfterSeconds: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  fast: { name: 'fast', delayMs: { create: 0, update: 0, delete: 0, action: 0 }, retryAfterSeconds: 10 },
  realistic: {
    name: 'realistic',
    delayMs: { create: 20_000, update: 10_000, delete: 10_000, action: 5_000 },
    retryAfterSeconds: 10,
  },
};

/** The timeout announced in x-ms-async-operation-timeout (ISO 8601). */
export const OPERATION_TIMEOUT = 'PT1H';
