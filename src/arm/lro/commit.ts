/** How often a request's read-modify-write is tried before the client is told to retry (409). */
export const REQUEST_COMMIT_ATTEMPTS = 5;
/** How often background work (completing an operation, test control) retries a commit that lost a race. */
export const BACKGROUND_COMMIT_ATTEMPTS = 10;

export interface RetryOptions {
  attempts: number;
  /** Called after each lost attempt: may throw to stop (e.g. a conditional request answers 412). */
  onLost?: () => void;
  /** The error when every attempt lost. */
  exhausted: () => Error;
}

/**
 * Runs an optimistic read-modify-write until its conditional commit lands. `attempt` reads, decides and commits;
 * it answers `undefined` when its commit lost to another writer (and is then run again on fresh reads).
 */
export async function commitWithRetry<T>(attempt: () => Promise<T | undefined>, options: RetryOptions): Promise<T> {
  for (let i = 0; i < options.attempts; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
    options.onLost?.();
  }
  throw options.exhausted();
}
