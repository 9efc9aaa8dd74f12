import type { OperationKind } from '../store/types.js';

/** How long operations take. `fast` finishes them before a client's first poll; `realistic` takes Azure-like time. */
export interface Profile {
  name: 'fast' | 'realistic';
  /** Milliseconds from acceptance to the terminal state, per kind of operation. */
  delayMs: Record<OperationKind, number>;
  /** The Retry-After (seconds) sent with accepted 202 responses; Azure ML's swagger declares 10 to 600 there. */
  retryAfterSeconds: number;
  /**
   * The Retry-After (seconds) of the poll answers while an operation runs (the status URL, the Location URL's 202):
   * Python's poller waits 30 s when it is absent (and some pollers read 0 as absent), so it is never 0.
   */
  pollRetryAfterSeconds: number;
}

/** Azure ML's least Retry-After on an accepted answer (its swagger: 10..600). */
export const ACCEPTED_RETRY_AFTER_SECONDS = 10;
/** The fast profile's poll interval: a held operation costs a Python or JS poller about a second, not 30. */
export const FAST_POLL_RETRY_AFTER_SECONDS = 1;

export const PROFILES: Record<Profile['name'], Profile> = {
  fast: {
    name: 'fast',
    delayMs: { create: 0, update: 0, delete: 0, action: 0 },
    retryAfterSeconds: ACCEPTED_RETRY_AFTER_SECONDS,
    pollRetryAfterSeconds: FAST_POLL_RETRY_AFTER_SECONDS,
  },
  realistic: {
    name: 'realistic',
    delayMs: { create: 20_000, update: 10_000, delete: 10_000, action: 5_000 },
    retryAfterSeconds: ACCEPTED_RETRY_AFTER_SECONDS,
    pollRetryAfterSeconds: 10,
  },
};

/** The timeout announced in x-ms-async-operation-timeout (ISO 8601). */
export const OPERATION_TIMEOUT = 'PT1H';
