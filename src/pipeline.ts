import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ArmError, errors } from './arm/errors.js';
import { redactQuery } from './http-edge.js';

/**
 * The HTTP pipeline every request goes through, whatever its plane: ARM's request ids, JSON parsing with ARM errors,
 * the error envelope, one log line per request, and the limits on what a client may send, how slowly and how often.
 */

/** ARM's limit on a request body. */
export const BODY_LIMIT = 4 * 1024 * 1024;

/** How much a client may send, how slowly, and how many may be connected at once. */
export interface ServerLimits {
  /** Request body bytes (413 RequestEntityTooLarge beyond). */
  bodyBytes: number;
  /** Bytes of the request line and headers together (Node's maxHeaderSize; 431 beyond). */
  headerBytes: number;
  /** Time to receive the request headers (408 RequestTimeout after). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (408 RequestTimeout after); responses may take longer. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (above the 4-5 s clients keep idle sockets). */
  keepAliveTimeoutMs: number;
  /** How often the server looks for requests past their timeouts. */
  timeoutCheckIntervalMs: number;
  /** Open connections served; a request on a connection beyond gets 503 ServiceUnavailable and the connection closes. */
  maxConnections: number;
  /** Time from connecting to a finished TLS handshake (the connection closes after); Node's default is 120 s. */
  handshakeTimeoutMs: number;
}

/** How long a connection may take to finish its TLS handshake: an idle socket holds a connection slot no longer. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export const LIMITS: Readonly<ServerLimits> = {
  bodyBytes: BODY_LIMIT,
  headerBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 72_000,
  timeoutCheckIntervalMs: 1_000,
  maxConnections: 1_000,
  handshakeTimeoutMs: TLS_HANDSHAKE_TIMEOUT_MS,
};

/** JSON nesting deeper than this is refused (Json.NET's default MaxDepth, which ARM runs on). */
export const MAX_JSON_DEPTH = 64;

/** What every request gets: ARM's request ids, JSON parsing with ARM errors, the error envelope, one log line. */
export function installPipeline(app: FastifyInstance, limits: ServerLimits): void {
  app.removeAllContentTypeParsers();
  const parseJson = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    const depth = jsonDepth(text);
    if (depth > MAX_JSON_DEPTH)
      return done(
        errors.invalidJson(`The JSON nests ${depth} levels deep; at most ${MAX_JSON_DEPTH} are allowed.`),
        undefined,
      );
    try {
      const parsed = /__proto__|\\u/.test(text) ? JSON.parse(text, refuseProto) : JSON.parse(text);
      done(null, parsed);
    } catch (e) {
      // V8 quotes a piece of the text ("{"keyValue": abc..." is not valid JSON): never echo a body, it may hold a key.
      done(
        errors.invalidJson(
          (e as Error).message.replace(/,\s*".*"(\.\.\.)?\s+is not valid JSON$/s, ' is not valid JSON'),
        ),
        undefined,
      );
    }
  };
  app.addContentTypeParser(['application/json', 'text/json'], { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/[\w.+-]*\+json$/, { parseAs: 'string' }, parseJson);

  // Hooks on every request are callback-style (no promise each) and do nothing they need not do.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-ms-request-id', req.id);
    const correlation = req.headers['x-ms-correlation-request-id'];
    reply.header(
      'x-ms-correlation-request-id',
      typeof correlation === 'string' && correlation ? correlation : randomUUID(),
    );
    const clientId = req.headers['x-ms-client-request-id'];
    if (clientId && String(req.headers['x-ms-return-client-request-id']).toLowerCase() === 'true')
      reply.header('x-ms-client-request-id', clientId);
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    if (logsInfo(req.log)) {
      // Query values may be credentials (access_token, code, sig): only api-version's is logged.
      const ms = Math.round(reply.elapsedTime * 10) / 10;
      req.log.info({ method: req.method, url: redactQuery(req.url), status: reply.statusCode, ms }, 'request');
    }
    done();
  });

  app.setNotFoundHandler(async (req, reply) => {
    const e = errors.noRoute(req.method, req.url.split('?')[0]);
    return reply.code(e.status).send(e.toBody());
  });

  app.setErrorHandler(async (err: FastifyError | ArmError, req, reply) => {
    const armError = err instanceof ArmError ? err : fromFastify(err, limits, req.headers['content-type']);
    if (armError.status >= 500) req.log.error({ err }, 'request failed');
    reply.code(armError.status).headers(armError.headers);
    return reply.send(armError.toBody());
  });
}

/** Whether a request's logger writes info lines (pino's loggers say; any other is assumed to). */
const logsInfo = (log: unknown) =>
  (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') !== false;

function fromFastify(err: FastifyError, limits: ServerLimits, contentType: string | undefined): ArmError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.bodyTooLarge(limits.bodyBytes);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(printable(contentType ?? '') || 'none');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidJson(err.message);
  }
  if (err.validation || (err.statusCode && err.statusCode < 500))
    return new ArmError(err.statusCode ?? 400, 'BadRequest', err.message);
  return errors.internal();
}

/** Printable ASCII only, at most 100 characters: what of a client's header may go into a message. */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);

/** How deep arrays and objects nest in JSON text (strings skipped); a scan, so no input can overflow the stack. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** A JSON.parse reviver refusing `__proto__` members, which would otherwise set prototypes in merges. */
function refuseProto(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new Error("the member name '__proto__' is not allowed");
  return value;
}

/** One ARM error written straight to a socket (before or outside Fastify's request handling); no body after HEAD. */
function rawResponse(e: ArmError, head: boolean): string {
  const body = JSON.stringify(e.toBody());
  return (
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-ms-request-id: ${randomUUID()}\r\nconnection: close\r\n\r\n${head ? '' : body}`
  );
}

/**
 * What Node reports about a connection before a request exists: headers too large (431), a request too slow (408),
 * bytes that are not HTTP (400). Answered in ARM's envelope; logged without the raw bytes, which hold credentials.
 */
export function clientError(
  err: Error,
  socket: Duplex,
  limits: ServerLimits,
  log: FastifyInstance['log'] | undefined,
): void {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    code === 'HPE_HEADER_OVERFLOW'
      ? new ArmError(
          431,
          'RequestHeaderFieldsTooLarge',
          `The request line and headers exceed the limit of ${limits.headerBytes} bytes.`,
        )
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ArmError(
            408,
            'RequestTimeout',
            `The request was not received in time: the headers must arrive within ${Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)} ms and the whole request within ${limits.requestTimeoutMs} ms.`,
          )
        : new ArmError(400, 'BadRequest', 'The request is not valid HTTP/1.1.');
  log?.debug({ code, status: e.status }, 'client error');
  // Never write into a response already on its way (Node's own rule for this event).
  const inFlight = (socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (socket.writable && !inFlight?.headersSent) socket.end(rawResponse(e, head));
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Router-level rejections (a path that is not valid percent-encoding, a segment over 1000 characters) as ARM errors. */
export function frameworkError(
  err: FastifyError,
  _req: unknown,
  reply: { code(n: number): unknown; headers(h: Record<string, string>): unknown; send(b: unknown): unknown },
): void {
  const e =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ArmError(
          400,
          'InvalidResourceName',
          'A segment of the request path is longer than 1000 characters; resource names are at most 260.',
        )
      : new ArmError(
          400,
          'InvalidRequestUri',
          'The request URL is not valid: its path is not valid percent-encoded UTF-8.',
        );
  reply.code(e.status);
  reply.headers({ 'x-ms-request-id': randomUUID(), 'x-ms-correlation-request-id': randomUUID() });
  reply.send(e.toBody());
}

/**
 * At most `max` connections are served at once, counted from the moment they connect (before any TLS handshake). At
 * the limit, the connection that has waited longest without sending a request (TLS handshake or headers unfinished)
 * is closed to make room, so idle sockets cannot lock clients out. When every served connection has sent a request,
 * a request on a connection accepted beyond the limit gets 503 and the connection is closed; Node's own hard cap (a
 * little higher) drops connections outright before file handles run out.
 */
export function limitConnections(app: FastifyInstance, max: number): void {
  const served = new Set<Socket>();
  /** Served connections with no request yet, oldest first. */
  const waiting = new Set<Socket>();
  const over = new WeakSet<Socket>();
  app.server.maxConnections = max + 100;
  app.server.on('connection', (socket: Socket) => {
    if (served.size >= max) evictOldest(waiting, served);
    if (served.size >= max) {
      over.add(socket);
      return;
    }
    served.add(socket);
    waiting.add(socket);
    socket.once('close', () => {
      served.delete(socket);
      waiting.delete(socket);
    });
  });
  app.server.on('request', (req: { socket: Socket }) => waiting.delete(tcpOf(req.socket)));
  app.addHook('onRequest', (req, reply, done) => {
    if (!over.has(tcpOf(req.raw.socket))) return done();
    const e = new ArmError(
      503,
      'ServiceUnavailable',
      `amlite is serving its limit of ${max} open connections; close idle connections or retry.`,
    );
    // Answered here: the request goes no further (done is not called).
    reply.code(503).headers({ 'retry-after': '1', connection: 'close', 'x-ms-request-id': req.id }).send(e.toBody());
  });
}

function evictOldest(waiting: Set<Socket>, served: Set<Socket>): void {
  const [oldest] = waiting;
  if (!oldest) return;
  waiting.delete(oldest);
  served.delete(oldest);
  oldest.destroy();
}

/** The TCP socket under a request's socket (a TLS socket wraps the one the `connection` event saw). */
const tcpOf = (socket: Socket) => (socket as Socket & { _parent?: Socket })._parent ?? socket;
