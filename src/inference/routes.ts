import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store, StoredResource } from '../store/types.js';
import type { Catalog } from './catalog.js';
import type { Backend, ChatChunk, ChatRequest, Usage } from './backend.js';
import { BackendError } from './backend.js';
import { apiError } from './errors.js';
import { authorize, type DataPlaneAuth } from './auth.js';
import { ConcurrencyLimiter } from './limits.js';
import { parseChat, parseEmbeddings, type ExtraParameters } from './requests.js';
import { assistantMessage, collectChat, toolCallDelta } from './tools/chat-chunks.js';
import { textOf } from './tokens.js';
import { DATA_PLANE_BODY_LIMIT, checkChatInput, checkEmbeddingsInput, type ModelLimits } from './input-limits.js';
import type { RequestSubject } from '../arm/hooks.js';
import type { DataPlaneHooks, ServingTarget } from './serving.js';

export interface DataPlaneDeps {
  store: Store;
  catalog: Catalog;
  auth: DataPlaneAuth;
  /** What the providers serve, each under its own path prefix. */
  targets: ServingTarget[];
  hooks: DataPlaneHooks;
}

type Doc = Record<string, unknown>;

/**
 * Endpoints whose resolution (route, credentials, model, backend) the data plane keeps between requests, at most;
 * beyond, the oldest is dropped (it is read again on its next request).
 */
export const RESOLVED_ENDPOINTS_CACHED = 1024;

/** What a request is served by: the endpoint, its model, and (pool endpoints) its limits. */
interface Target {
  endpoint: StoredResource;
  modelId: string;
  backend: Backend;
  limits: ModelLimits;
  contentSafety: boolean;
  /** Pool endpoints: how many requests may be in flight, and how long one may take. */
  maxInFlight?: number;
  timeoutMs?: number;
  /** How the hooks see this request. */
  subject?: RequestSubject;
}

/**
 * The data plane of serverless and pool endpoints (Azure AI Model Inference API): chat completions (plain and
 * streamed), embeddings, model info — at the endpoint's URL, and at the paths the openai clients use under it.
 */
export async function inferenceRoutes(app: FastifyInstance, deps: DataPlaneDeps): Promise<void> {
  const limiter = new ConcurrencyLimiter();
  // The data plane's own body limit, answered in its own envelope; any other error goes on to the server's handler.
  app.setErrorHandler(async (err: FastifyError) => {
    if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw err;
    throw apiError(
      413,
      'RequestEntityTooLarge',
      `The request body is larger than the data plane's limit of ` +
        `${DATA_PLANE_BODY_LIMIT} bytes. Send less text per request, or images by URL.`,
    );
  });

  async function target(req: FastifyRequest, reply: FastifyReply, action: string): Promise<Target> {
    const t = await resolve(req);
    const hooks = deps.hooks.beforeRequest;
    if (hooks.length || deps.hooks.afterResponse.length) {
      t.subject = {
        plane: 'data',
        type: t.endpoint.type,
        name: t.endpoint.name,
        method: req.method,
        action,
        subscription: t.endpoint.id.split('/')[2],
      };
      for (const hook of hooks) reply.headers(await hook(t.subject, t.endpoint.key, Date.now()));
    }
    return t;
  }

  /** Tells the hooks what a response used (e.g. test-control token budgets). */
  async function charge(t: Target, usage: Usage): Promise<void> {
    if (!t.subject) return;
    for (const hook of deps.hooks.afterResponse)
      await hook(t.subject, t.endpoint.key, usage.promptTokens + usage.completionTokens, Date.now());
  }

  /**
   * Endpoints resolved lately (route → endpoint, what serves it, its backend), valid while the store's change
   * sequence stands where it stood before they were read: any write by any process sharing the store (a key
   * regenerated, the endpoint deleted or updated, its pool group scaled) re-resolves on the next request.
   */
  const resolved = new Map<string, Resolved>();

  async function resolve(req: FastifyRequest): Promise<Target> {
    const { route } = req.params as { route: string };
    const serving = (req.routeOptions.config as unknown as { serving: ServingTarget }).serving;
    // Read before the endpoint: a write in between leaves the entry older than the sequence, never newer.
    const seq = await deps.store.changeSeq();
    const cacheKey = `${serving.prefix}/${route}`;
    let r = resolved.get(cacheKey);
    if (r?.seq !== seq) {
      r = await resolveAnew(route, serving, seq);
      if (resolved.size >= RESOLVED_ENDPOINTS_CACHED) resolved.delete(resolved.keys().next().value!);
      resolved.set(cacheKey, r);
    }
    await authorize(req, r.endpoint, r.authMode, r.keys, deps.auth);
    return { ...r.target };
  }

  async function resolveAnew(route: string, serving: ServingTarget, seq: number): Promise<Resolved> {
    const endpoint = await deps.store.getByRoute(route);
    if (!endpoint || endpoint.type.toLowerCase() !== serving.type.toLowerCase())
      throw apiError(404, 'NotFound', `No endpoint is served at /${serving.prefix}/${route}.`);
    const s = await serving.serve(endpoint, deps.store);
    const backend = await deps.catalog.backendFor(s.modelId);
    return {
      seq,
      endpoint,
      authMode: serving.authMode(endpoint),
      keys: serving.keys(endpoint),
      target: { endpoint, ...s, backend, limits: deps.catalog.limitsFor(s.modelId) },
    };
  }

  function checkContentSafety(t: Target, texts: string[]): void {
    if (!t.contentSafety || !deps.catalog.blocklist.length) return;
    const hay = texts.join('\n').toLowerCase();
    if (deps.catalog.blocklist.some((w) => hay.includes(w)))
      throw apiError(
        400,
        'content_filter',
        'The response was filtered due to the prompt triggering content management policy. Please modify your prompt and retry.',
      );
  }

  /** Runs `work` within the endpoint's concurrency and time limits; the signal also fires when the client leaves. */
  async function withinLimits<T>(
    reply: FastifyReply,
    t: Target,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const release = limiter.acquire(t.endpoint.key, t.maxInFlight);
    if (!release)
      throw apiError(
        429,
        'TooManyRequests',
        `The endpoint '${t.endpoint.name}' already has ${t.maxInFlight} requests in flight (maxConcurrentRequestsPerInstance × instances). Retry after a moment.`,
        { 'retry-after': '1' },
      );
    const controller = new AbortController();
    // The response's close, not the request's: Node closes the request once its body is read, before any of this.
    const onClose = () => {
      if (!reply.raw.writableFinished) controller.abort(new Error('client closed the connection'));
    };
    reply.raw.once('close', onClose);
    const timer = t.timeoutMs ? setTimeout(() => controller.abort(new TimeoutError()), t.timeoutMs) : undefined;
    try {
      return await work(controller.signal);
    } catch (e) {
      if (controller.signal.reason instanceof TimeoutError)
        throw apiError(
          408,
          'RequestTimeout',
          `The request took longer than the endpoint's requestTimeout (${t.timeoutMs} ms).`,
        );
      if (e instanceof BackendError) throw apiError(e.status, e.code, e.message);
      throw e;
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      release();
    }
  }

  const extraParameters = (req: FastifyRequest): ExtraParameters => {
    const v = String(req.headers['extra-parameters'] ?? 'error').toLowerCase();
    if (v !== 'error' && v !== 'drop' && v !== 'pass-through')
      throw apiError(
        400,
        'InvalidHeader',
        `The extra-parameters header must be error, drop or pass-through, not '${v}'.`,
      );
    return v;
  };

  async function chat(req: FastifyRequest, reply: FastifyReply) {
    const t = await target(req, reply, 'chat/completions');
    const { request, stream } = parseChat(req.body, extraParameters(req));
    await checkChatInput(request, t.limits);
    checkContentSafety(
      t,
      request.messages.map((m) => textOf(m.content)),
    );
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = t.backend.info(t.modelId).model_name;
    if (stream) return streamChat(req, reply, t, request, { id, created, model });
    const result = await withinLimits(reply, t, async (signal) => {
      const opts = { modelId: t.modelId, signal };
      return t.backend.complete ? t.backend.complete(request, opts) : collectChat(t.backend.chat(request, opts));
    });
    const { finishReason, usage } = result;
    await charge(t, usage);
    return reply.send({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, finish_reason: finishReason, message: assistantMessage(result) }],
      usage: usageBody(usage),
    });
  }

  async function streamChat(
    req: FastifyRequest,
    reply: FastifyReply,
    t: Target,
    request: ChatRequest,
    meta: { id: string; created: number; model: string },
  ) {
    await withinLimits(reply, t, async (signal) => {
      const opts = { modelId: t.modelId, signal };
      // In batches where the backend has them (all a network read brought): one await and one write per batch.
      const batches = (t.backend.chatBatches?.(request, opts) ?? singly(t.backend.chat(request, opts)))[
        Symbol.asyncIterator
      ]();
      // The first batch decides between an SSE stream and an error response.
      let next = await batches.next();
      reply.hijack();
      reply.raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      // Every chunk is this prefix, its one choice (JSON), and on the last the usage: only the choice is serialised.
      const head =
        `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},` +
        `"model":${JSON.stringify(meta.model)},"choices":[`;
      const choiceOf = (choice: Doc) => JSON.stringify({ index: 0, ...choice });
      const event = (choice: string, usage?: Usage) =>
        `${head}${choice}]${usage ? `,"usage":${JSON.stringify(usageBody(usage))}` : ''}}\n\n`;
      const send = (events: string) => {
        // The chunks made from what the backend has delivered so far leave in one write, not one write each (a
        // syscall and a TLS record per chunk cost more than the rest of the proxying): the socket is corked until
        // this turn of the event loop has handled the I/O at hand — no timer, nothing waits for more tokens.
        // (end() uncorks fully by itself.)
        if (!reply.raw.writableCorked) {
          reply.raw.cork();
          setImmediate(() => {
            if (!reply.raw.writableEnded) reply.raw.uncork();
          });
        }
        return reply.raw.write(events);
      };
      let first = true;
      try {
        for (; !next.done; next = await batches.next()) {
          let events = '';
          for (const chunk of next.value) {
            if (chunk.type === 'delta') {
              events += event(
                first
                  ? choiceOf({ delta: { role: 'assistant', content: chunk.text }, finish_reason: null })
                  : `{"index":0,"delta":{"content":${JSON.stringify(chunk.text)}},"finish_reason":null}`,
              );
              first = false;
            } else if (chunk.type === 'tool_call') {
              events += event(choiceOf({ delta: toolCallDelta(chunk, first), finish_reason: null }));
              first = false;
            } else {
              events += event(
                choiceOf({ delta: first ? { role: 'assistant', content: '' } : {}, finish_reason: chunk.finishReason }),
                chunk.usage,
              );
              send(events);
              events = '';
              await charge(t, chunk.usage);
            }
          }
          if (events) send(events);
        }
        reply.raw.end('data: [DONE]\n\n');
      } catch (e) {
        // Headers are gone: say what happened inside the stream, then end it.
        const message =
          signal.reason instanceof TimeoutError
            ? "The request took longer than the endpoint's requestTimeout."
            : (e as Error).message;
        reply.raw.end(
          `data: ${JSON.stringify({ error: { code: signal.reason instanceof TimeoutError ? 'RequestTimeout' : 'StreamError', message } })}\n\n`,
        );
      }
    });
  }

  async function embeddings(req: FastifyRequest, reply: FastifyReply) {
    const t = await target(req, reply, 'embeddings');
    const { request, encoding } = parseEmbeddings(req.body, extraParameters(req));
    await checkEmbeddingsInput(request, t.limits);
    checkContentSafety(t, request.input);
    const result = await withinLimits(reply, t, (signal) =>
      t.backend.embeddings(request, { modelId: t.modelId, signal }),
    );
    await charge(t, { promptTokens: result.promptTokens, completionTokens: 0 });
    return reply.send({
      id: randomUUID(),
      object: 'list',
      model: t.backend.info(t.modelId).model_name,
      data: result.vectors.map((v, index) => ({
        object: 'embedding',
        index,
        embedding: encoding === 'base64' ? toBase64(v) : v,
      })),
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    });
  }

  async function info(req: FastifyRequest, reply: FastifyReply) {
    const t = await target(req, reply, 'info');
    return t.backend.info(t.modelId);
  }

  for (const serving of deps.targets) {
    const base = `/${serving.prefix}/:route`;
    const config = { serving };
    for (const prefix of ['', '/v1', '/openai/deployments/:deployment', '/models']) {
      app.post(`${base}${prefix}/chat/completions`, { bodyLimit: DATA_PLANE_BODY_LIMIT, config }, chat);
      app.post(`${base}${prefix}/embeddings`, { bodyLimit: DATA_PLANE_BODY_LIMIT, config }, embeddings);
    }
    app.get(`${base}/info`, { config }, info);
    app.get(`${base}/v1/info`, { config }, info);
    app.get(`${base}/models/info`, { config }, info);
  }
}

class TimeoutError extends Error {}

/** A backend's chunks one to a batch (backends without chatBatches). */
async function* singly(chunks: AsyncIterable<ChatChunk>): AsyncIterable<ChatChunk[]> {
  for await (const chunk of chunks) yield [chunk];
}

/** An endpoint as resolved at change sequence `seq`. */
interface Resolved {
  seq: number;
  endpoint: StoredResource;
  authMode: string;
  keys: ReturnType<ServingTarget['keys']>;
  target: Target;
}

const usageBody = (u: Usage) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.promptTokens + u.completionTokens,
});

/** OpenAI's base64 embedding: the float32 little-endian bytes. */
const toBase64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');
