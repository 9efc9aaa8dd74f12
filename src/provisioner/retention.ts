import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/types.js';

/** How long a finished operation's status stays readable at its Azure-AsyncOperation / Location URLs. */
export const OPERATION_RETENTION_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

/** Deletes finished operations older than the retention, now and every hour; returns a function that stops it. */
export function pruneOperations(
  store: Store,
  log: FastifyBaseLogger,
  retentionMs = OPERATION_RETENTION_MS,
): () => void {
  const prune = () =>
    store
      .pruneOperations(new Date(Date.now() - retentionMs).toISOString())
      .then((n) => {
        if (n) log.info({ operations: n }, 'pruned finished operations older than the retention');
      })
      .catch((err) => log.warn({ err }, 'pruning finished operations failed; trying again later'));
  void prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
