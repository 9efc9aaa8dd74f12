// A bare HTTP/1.1-over-TLS client for what fetch will not send: oversized headers, slow trickles, garbage, many sockets.
import { connect, type TLSSocket } from 'node:tls';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  json?: any;
}

/** Opens a TLS connection to the server (the test certificate is trusted through NODE_EXTRA_CA_CERTS). */
export async function openTls(url: string): Promise<TLSSocket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: hostname, port: Number(port), servername: hostname === '127.0.0.1' ? undefined : hostname },
      () => resolve(socket),
    );
    socket.once('error', reject);
  });
}

/** Reads one response from the socket (Content-Length framed, or until the server closes). */
export function readResponse(socket: TLSSocket, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(
      () =>
        done(
          new Error(`no complete response within ${timeoutMs} ms; got ${JSON.stringify(buf.toString().slice(0, 300))}`),
        ),
      timeoutMs,
    );
    const parse = (final: boolean): RawResponse | undefined => {
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const bodyBytes = buf.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      if (length !== undefined ? bodyBytes.length < length : !final) return undefined;
      const body = bodyBytes.subarray(0, length ?? bodyBytes.length).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: Number(statusLine.split(' ')[1]), headers, body, json };
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parse(false);
      if (r) done(undefined, r);
    };
    const onEnd = () => {
      const r = parse(true);
      done(
        r
          ? undefined
          : new Error(`connection closed before a response: ${JSON.stringify(buf.toString().slice(0, 300))}`),
        r,
      );
    };
    const done = (err?: Error, r?: RawResponse) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (err) reject(err);
      else resolve(r!);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** Sends `request` (raw text or bytes) on a new connection and reads the response. */
export async function rawRequest(url: string, request: string | Buffer, timeoutMs?: number): Promise<RawResponse> {
  const socket = await openTls(url);
  try {
    const response = readResponse(socket, timeoutMs);
    socket.write(request);
    return await response;
  } finally {
    socket.destroy();
  }
}

/** Resolves when the server closes the socket (or rejects after `timeoutMs`). */
export function closedBy(socket: TLSSocket, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(
      () => reject(new Error(`the server kept the connection open for ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onClose = () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    };
    socket.once('end', onClose);
    socket.once('close', onClose);
  });
}
