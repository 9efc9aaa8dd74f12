// Limits and timeouts: body size, header size, slow clients, idle keep-alive, connection count, unparseable input.
// Each one ends in a clear ARM error (or a closed idle socket), and the server keeps serving.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  armFetch,
  certDir,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  fakeToken,
  freshDataDir,
  rgPath,
  sleep,
  startTestServer,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';
import { closedBy, openTls, rawRequest, readResponse, type RawResponse } from './support/raw-http.js';
import { startAmlite } from '../src/server.js';
import { BODY_LIMIT, LIMITS, MAX_JSON_DEPTH, type ServerLimits } from '../src/pipeline.js';
import { assertArmError } from './support/assertions.js';

const SUB = randomUUID();
const PREVIEW = '2026-03-15-preview';

const startTuned = (tuning: Partial<ServerLimits>) =>
  startAmlite(
    {
      port: 0,
      host: '127.0.0.1',
      inMemory: true,
      dataDir: freshDataDir(),
      logLevel: 'silent',
      certFile: join(certDir(), 'cert.pem'),
      keyFile: join(certDir(), 'key.pem'),
    },
    tuning,
  );

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

async function healthy(server: { url: string }): Promise<void> {
  const res = await armFetch(server, 'GET', '/health', { token: null });
  assert.equal(res.status, 200, 'the server still serves');
}

describe('limits with their defaults', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, SUB, 'rg');
    await createWorkspace(server, SUB, 'rg', 'ws-limits');
  });
  after(() => server.close());

  test('the Node server carries the documented limits, and they are sensible', () => {
    const s = server.app.server as unknown as {
      headersTimeout: number;
      requestTimeout: number;
      keepAliveTimeout: number;
      maxHeaderSize?: number;
      maxConnections: number;
    };
    assert.equal(s.headersTimeout, LIMITS.headersTimeoutMs);
    assert.equal(s.requestTimeout, LIMITS.requestTimeoutMs);
    assert.equal(s.keepAliveTimeout, LIMITS.keepAliveTimeoutMs);
    assert.equal(s.maxHeaderSize, LIMITS.headerBytes);
    assert.ok(s.maxConnections > LIMITS.maxConnections, 'a hard cap above the served limit');
    assert.ok(LIMITS.requestTimeoutMs > 0 && LIMITS.requestTimeoutMs <= 300_000, 'slow bodies are cut off');
    assert.ok(LIMITS.headersTimeoutMs > 0 && LIMITS.headersTimeoutMs <= 60_000, 'slow headers are cut off');
    assert.ok(LIMITS.keepAliveTimeoutMs > 5_000, 'idle sockets outlive the 4-5 s clients keep them (no reset races)');
    assert.ok(LIMITS.timeoutCheckIntervalMs <= 5_000, 'timeouts are enforced close to time');
    assert.equal(LIMITS.bodyBytes, 4 * 1024 * 1024, "ARM's 4 MB");
  });

  test('a body over 4 MB is 413 RequestEntityTooLarge, with or without Content-Length; just under is served', async () => {
    const path = withApiVersion(`${workspacePath(SUB, 'rg', 'ws-limits')}/serverlessEndpoints/big`, PREVIEW);
    const filler = (n: number) =>
      JSON.stringify({ location: 'eastus', properties: { authMode: 'Key', filler: 'x'.repeat(n) } });
    const over = await armFetch(server, 'PUT', path, {
      body: filler(BODY_LIMIT),
      headers: { 'content-type': 'application/json' },
    });
    assertArmError(over, 413, 'RequestEntityTooLarge');
    // Chunked: no Content-Length, the limit applies as the bytes arrive.
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('x'.repeat(1024 * 1024)));
        c.close();
      },
    });
    const chunked = await fetch(`${server.url}${path}`, {
      method: 'PUT',
      body: chunks,
      duplex: 'half',
      headers: { authorization: `Bearer ${fakeToken()}`, 'content-type': 'application/json' },
    } as RequestInit);
    assertArmError({ status: chunked.status, body: await chunked.json() }, 413, 'RequestEntityTooLarge');
    const under = await armFetch(server, 'PUT', path, {
      body: filler(BODY_LIMIT - 1024),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(under.status, 201, `just under the limit: ${describeResponse(under)}`);
    const check = await armFetch(server, 'GET', path);
    assert.equal(check.body.properties.filler, undefined, 'the preview drops unknown fields');
  });

  test('headers over the limit are 431 RequestHeaderFieldsTooLarge in an ARM envelope; the server goes on', async () => {
    const res = await rawRequest(server.url, get('/health', `x-big: ${'a'.repeat(LIMITS.headerBytes + 10)}\r\n`));
    assertArmError(res, 431, 'RequestHeaderFieldsTooLarge');
    assert.match(res.json.error.message, new RegExp(String(LIMITS.headerBytes)));
    assert.equal(res.headers.connection, 'close');
    assert.ok(res.headers['x-ms-request-id']);
    const fits = await rawRequest(
      server.url,
      get('/health', `x-big: ${'a'.repeat(LIMITS.headerBytes - 200)}\r\nconnection: close\r\n`),
    );
    assert.equal(fits.status, 200, 'headers within the limit are served');
    await healthy(server);
  });

  test('bytes that are not HTTP get 400 BadRequest; a bad percent-encoding 400 InvalidRequestUri; a 1000+ character segment 400', async () => {
    assertArmError(await rawRequest(server.url, 'HELLO\x00WORLD\r\n\r\n'), 400, 'BadRequest');
    const badUrl = await armFetch(server, 'GET', withApiVersion(`${rgPath(SUB, '%E0%A4%A')}`, RG_API_VERSION));
    assertArmError(badUrl, 400, 'InvalidRequestUri');
    const long = await armFetch(server, 'GET', withApiVersion(`${rgPath(SUB, 'a'.repeat(1500))}`, RG_API_VERSION));
    assertArmError(long, 400, 'InvalidResourceName');
    await healthy(server);
  });

  test(`JSON nested deeper than ${MAX_JSON_DEPTH} levels, and __proto__ members, are refused as InvalidRequestFormat`, async () => {
    const path = withApiVersion(rgPath(SUB, 'rg-deep'), RG_API_VERSION);
    const deep = `{"location":"eastus","tags":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    assertArmError(
      await armFetch(server, 'PUT', path, { body: deep, headers: { 'content-type': 'application/json' } }),
      400,
      'InvalidRequestFormat',
    );
    const arrays = `{"location":"eastus","x":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`;
    assertArmError(
      await armFetch(server, 'PUT', path, { body: arrays, headers: { 'content-type': 'application/json' } }),
      400,
      'InvalidRequestFormat',
    );
    const fine = `{"location":"eastus","properties":${'{"a":'.repeat(MAX_JSON_DEPTH - 2)}1${'}'.repeat(MAX_JSON_DEPTH - 2)}}`;
    assert.equal(
      (await armFetch(server, 'PUT', path, { body: fine, headers: { 'content-type': 'application/json' } })).status,
      201,
      'nesting within the limit',
    );
    for (const body of [
      '{"location":"eastus","__proto__":{"tags":{"x":"y"}}}',
      '{"location":"eastus","tags":{"\\u005f_proto__":{"a":"b"}}}',
    ]) {
      assertArmError(
        await armFetch(server, 'PATCH', path, { body, headers: { 'content-type': 'application/json' } }),
        400,
        'InvalidRequestFormat',
      );
    }
    assert.deepEqual((await armFetch(server, 'GET', path)).body.tags ?? {}, {}, 'nothing changed');
  });
});

describe('slow and idle clients, and the connection limit (short timeouts)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTuned({
      headersTimeoutMs: 800,
      requestTimeoutMs: 1500,
      keepAliveTimeoutMs: 400,
      timeoutCheckIntervalMs: 100,
      maxConnections: 4,
    });
  });
  after(() => server.close());

  test('headers trickling in slower than headersTimeout get 408 RequestTimeout and the connection closes', async () => {
    const socket = await openTls(server.url);
    const started = Date.now();
    const response = readResponse(socket, 5000);
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const trickle = setInterval(() => socket.writable && socket.write(`x-slow-${Date.now()}: 1\r\n`), 150);
    try {
      const res = await response;
      assertArmError(res, 408, 'RequestTimeout');
      const took = Date.now() - started;
      assert.ok(took >= 700 && took < 3000, `cut off after ${took} ms`);
      await closedBy(socket, 2000);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  test('a connection that sends nothing gets 408 RequestTimeout after headersTimeout', async () => {
    const socket = await openTls(server.url);
    try {
      const started = Date.now();
      const res = await readResponse(socket, 5000);
      assertArmError(res, 408, 'RequestTimeout');
      assert.ok(Date.now() - started < 3000);
    } finally {
      socket.destroy();
    }
  });

  test('a body slower than requestTimeout gets 408 RequestTimeout', async () => {
    const socket = await openTls(server.url);
    const started = Date.now();
    const response = readResponse(socket, 5000);
    socket.write(
      `PUT ${withApiVersion(rgPath(SUB, 'rg-slow'), RG_API_VERSION)} HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: Bearer ${fakeToken()}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"location":`,
    );
    try {
      const res = await response;
      assertArmError(res, 408, 'RequestTimeout');
      const took = Date.now() - started;
      assert.ok(took >= 1300 && took < 4000, `cut off after ${took} ms`);
    } finally {
      socket.destroy();
    }
    const check = await armFetch(server, 'GET', withApiVersion(rgPath(SUB, 'rg-slow'), RG_API_VERSION));
    assert.equal(check.status, 404, 'the cut-off request changed nothing');
  });

  test('an idle keep-alive connection is closed after keepAliveTimeout', async () => {
    const socket = await openTls(server.url);
    try {
      const response = readResponse(socket);
      socket.write(get('/health'));
      const res = await response;
      assert.equal(res.status, 200);
      assert.notEqual(res.headers.connection, 'close', 'kept alive');
      const idle = await closedBy(socket, 3000);
      assert.ok(idle < 2500, `closed after ${idle} ms idle`);
    } finally {
      socket.destroy();
    }
  });

  test('connections beyond maxConnections get 503 ServiceUnavailable with Retry-After; served again once one closes', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => openTls(server.url)));
    const extra: Awaited<ReturnType<typeof openTls>>[] = [];
    try {
      for (const s of held) {
        const r = readResponse(s);
        s.write(get('/health'));
        assert.equal((await r).status, 200, 'within the limit');
      }
      const over = await openTls(server.url);
      extra.push(over);
      const r = readResponse(over);
      over.write(get('/health'));
      const res: RawResponse = await r;
      assertArmError(res, 503, 'ServiceUnavailable');
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(res.headers.connection, 'close');
      await closedBy(over, 2000);
      held.pop()!.destroy();
      await sleep(100);
      const again = await openTls(server.url);
      extra.push(again);
      const r2 = readResponse(again);
      again.write(get('/health', 'connection: close\r\n'));
      assert.equal((await r2).status, 200, 'a freed slot serves again');
    } finally {
      for (const s of [...held, ...extra]) s.destroy();
    }
  });
});
