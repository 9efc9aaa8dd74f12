import { existsSync } from 'node:fs';
import { ArmError } from '../arm/errors.js';
import { BackendError, type Backend } from './backend.js';
import type { CatalogEntry, CatalogFile } from './catalog.js';
import { apiError } from './errors.js';
import { llamaCppMissing } from './backends/llama-cpp.js';

/**
 * What a catalog entry needs outside amlite (a model file, an upstream server): checked at start (warnings naming
 * the entry) and per request (a 503/502 naming the entry and the reason, never a bare 500).
 */

/** How long the start-up check waits for each openai-compatible upstream to answer (it never delays the start). */
export const UPSTREAM_PROBE_TIMEOUT_MS = 2000;

/** `models[2] '*Phi-4*' (llama-cpp)`: how messages name an entry. */
export function entryLabel(file: CatalogFile, entry: CatalogEntry): string {
  const i = file.models.indexOf(entry);
  return `${i >= 0 ? `catalog entry models[${i}]` : 'the default catalog entry'} '${entry.match}' (${entry.backend})`;
}

/** One line per entry for the start-up banner: `*Phi-4* → llama-cpp (/models/phi.gguf)`. */
export function describeCatalog(file: CatalogFile): string[] {
  return file.models.map((e) => {
    const source = e.backend === 'openai-compatible' ? e.url : e.backend === 'llama-cpp' ? e.modelPath : undefined;
    const where = source ? ` (${source})` : '';
    return `${e.match} → ${e.backend}${where}`;
  });
}

/** Why `entry` cannot serve now, when it is a missing local file (cheap enough to ask per request). */
export function missingFile(entry: CatalogEntry): string | undefined {
  if (entry.backend === 'llama-cpp' && entry.modelPath && !existsSync(entry.modelPath))
    return `its model file ${entry.modelPath} does not exist`;
  return undefined;
}

/** Start-up warnings that need no network: entries whose model file is missing. */
export function fileWarnings(file: CatalogFile): string[] {
  return file.models.flatMap((e) => {
    const why = missingFile(e) ?? (e.backend === 'llama-cpp' ? llamaCppMissing() : undefined);
    return why ? [`${entryLabel(file, e)}: ${why}; requests for its models will answer 503`] : [];
  });
}

/** Start-up warnings for openai-compatible upstreams that do not answer (any HTTP answer counts as reachable). */
export async function upstreamWarnings(file: CatalogFile, timeoutMs = UPSTREAM_PROBE_TIMEOUT_MS): Promise<string[]> {
  const checks = file.models
    .filter((e) => e.backend === 'openai-compatible' && e.url)
    .map(async (e) => {
      const url = `${e.url!.replace(/\/+$/, '')}/models`;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
        return undefined;
      } catch (err) {
        const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : causeOf(err);
        return (
          `${entryLabel(file, e)}: its upstream ${e.url} is not reachable (${why}); ` +
          'requests for its models will answer 502 until it is'
        );
      }
    });
  return (await Promise.all(checks)).filter((w): w is string => !!w);
}

const causeOf = (err: unknown) => {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
};

/** Per request: a 503 naming the entry when its model file is missing. */
export function assertServable(file: CatalogFile, entry: CatalogEntry, modelId: string): void {
  const why = missingFile(entry);
  if (why)
    throw apiError(
      503,
      'ModelUnavailable',
      `The model '${modelId}' cannot be served: ${entryLabel(file, entry)}: ${why}.`,
    );
}

/** A backend that could not be made (e.g. a package missing): the data-plane error naming the entry. */
export function creationError(file: CatalogFile, entry: CatalogEntry, e: unknown): ArmError {
  if (e instanceof ArmError) return e;
  if (e instanceof BackendError) return apiError(e.status, e.code, `${entryLabel(file, entry)}: ${e.message}`);
  return apiError(503, 'ModelUnavailable', `${entryLabel(file, entry)} cannot serve: ${(e as Error).message}`);
}

/**
 * `backend`, with its failures naming the entry: a backend's own 5xx gets the entry's name; a plain error (a model
 * that fails to load) becomes a 503 with its message instead of an internal error.
 */
export function labelled(backend: Backend, label: string): Backend {
  const explain = (e: unknown, signal: AbortSignal) => {
    if (signal.aborted || e instanceof ArmError) return e;
    if (e instanceof BackendError)
      return e.status >= 500 ? new BackendError(e.status, e.code, `${label}: ${e.message}`) : e;
    return new BackendError(503, 'ModelUnavailable', `${label} cannot serve: ${(e as Error)?.message ?? String(e)}`);
  };
  return {
    kind: backend.kind,
    info: (modelId) => backend.info(modelId),
    close: backend.close ? () => backend.close!() : undefined,
    // An iterator forwarding each chunk rather than a generator delegating to the backend's: one promise per chunk
    // instead of a generator's round trip (a streamed answer has one chunk per token).
    chat: (req, opts) =>
      explained(
        () => backend.chat(req, opts),
        (e) => explain(e, opts.signal),
      ),
    chatBatches:
      backend.chatBatches &&
      ((req, opts) =>
        explained(
          () => backend.chatBatches!(req, opts),
          (e) => explain(e, opts.signal),
        )),
    complete:
      backend.complete &&
      (async (req, opts) => {
        try {
          return await backend.complete!(req, opts);
        } catch (e) {
          throw explain(e, opts.signal);
        }
      }),
    async embeddings(req, opts) {
      try {
        return await backend.embeddings(req, opts);
      } catch (e) {
        throw explain(e, opts.signal);
      }
    },
  };
}

/** The items of `make()`, any failure (making it included) thrown as `explain` words it. */
function explained<T>(make: () => AsyncIterable<T>, explain: (e: unknown) => unknown): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      let items: AsyncIterator<T>;
      try {
        items = make()[Symbol.asyncIterator]();
      } catch (e) {
        const failed = explain(e);
        items = { next: () => Promise.reject(failed) };
      }
      const rethrow = (e: unknown): never => {
        throw explain(e);
      };
      return {
        next: () => items.next().catch(rethrow),
        return: async (value?: unknown) =>
          (await items.return?.(value)) ?? { done: true as const, value: undefined as never },
      };
    },
  };
}
