// The HTTP edge under attack (issue 12, items 8, 10, 14, 15): idle sockets that never start TLS, hostile Host
// headers and query values, malformed Basic credentials, DNS rebinding and cross-site requests.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import {
  armFetch,
  certDir,
  createResourceGroup,
  fakeToken,
  createWorkspace,
  endpointBody,
  endpointPath,
  freshDataDir,
  pollUntil,
  rgPath,
  sleep,
  startTestServer,
  withApiVersion,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';
import { openTls, rawRequest, readResponse, type RawResponse } from './support/raw-http.js';
import { killAllCli, startCli } from './support/cli.js';
import { startAmlite } from '../src/server.js';
import { LIMITS, TLS_HANDSHAKE_TIMEOUT_MS, type ServerLimits } from '../src/pipeline.js';
import { hostRefusal, installEdgeRules, isLoopbackBind, redactQuery } from '../src/http-edge.js';
import { assertArmError } from './support/assertions.js';

const SUB = randomUUID();
const STABLE = '2025-09-01';
const TENANT = '9a8b7c6d-0000-4000-8000-00000000edge';

const startTuned = (overrides: Parameters<typeof startAmlite>[0], tuning: Partial<ServerLimits> = {}) =>
  startAmlite(
    {
      port: 0,
      host: '127.0.0.1',
      inMemory: true,
      dataDir: freshDataDir('amlite-edge-'),
      logLevel: 'silent',
      certFile: join(certDir(), 'cert.pem'),
      keyFile: join(certDir(), 'key.pem'),
      ...overrides,
    },
    tuning,
  );

/** A TCP connection that never sends a byte (so never starts TLS). */
function openIdleTcp(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the server closes (or resets) the socket; rejects after `timeoutMs`. */
function closedByServer(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.readableEnded) return resolve();
    const kept = new Error(`the server kept an idle TCP connection open for ${timeoutMs} ms`);
    const timer = setTimeout(() => reject(kept), timeoutMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

const request = (method: string, path: string, host: string | null, extra = '', version = '1.1') =>
  `${method} ${path} HTTP/${version}\r\n${host === null ? '' : `Host: ${host}\r\n`}${extra}connection: close\r\n\r\n`;

const withBody = (body: string, type = 'application/json') =>
  `content-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;

describe('connections that never start TLS (item 8)', () => {
  test("the default TLS handshake timeout is the documented one, not Node's 120 s", async () => {
    const server = await startTestServer();
    try {
      assert.equal(LIMITS.handshakeTimeoutMs, TLS_HANDSHAKE_TIMEOUT_MS);
      assert.ok(TLS_HANDSHAKE_TIMEOUT_MS > 0 && TLS_HANDSHAKE_TIMEOUT_MS <= 15_000);
      // Node keeps it under a symbol of tls.Server.
      const tlsServer = server.app.server as unknown as Record<symbol, unknown>;
      const key = Object.getOwnPropertySymbols(tlsServer).find((s) => s.description === 'handshake-timeout');
      assert.ok(key, 'the server is a TLS server with a handshake timeout');
      assert.equal(tlsServer[key], TLS_HANDSHAKE_TIMEOUT_MS);
    } finally {
      await server.close();
    }
  });

  test(
    'hundreds of idle TCP sockets do not lock a real client out, and close after the handshake timeout',
    {
      timeout: 60_000,
    },
    async () => {
      const server = await startTuned({}, { maxConnections: 4, handshakeTimeoutMs: 1000 });
      const idle: Socket[] = [];
      try {
        // Past Node's own hard cap (the limit + 100): before, these filled every slot for 120 s.
        for (let i = 0; i < 120; i++) idle.push(await openIdleTcp(server.url));
        for (const s of idle) s.on('error', () => undefined);
        const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) });
        assert.equal(res.status, 200, 'a real HTTPS client is served');
        await Promise.all(idle.map((s) => closedByServer(s, 6000)));
      } finally {
        for (const s of idle) s.destroy();
        await server.close();
      }
    },
  );

  test(
    'beyond the limit while every slot is busy: 503 with Retry-After (no hang), idle sockets closed, then served',
    {
      timeout: 60_000,
    },
    async () => {
      const server = await startTuned({}, { maxConnections: 4, handshakeTimeoutMs: 1000 });
      const held = await Promise.all(Array.from({ length: 4 }, () => openTls(server.url)));
      const idle: Socket[] = [];
      const extra: Awaited<ReturnType<typeof openTls>>[] = [];
      try {
        for (const s of held) {
          const r = readResponse(s);
          s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          assert.equal((await r).status, 200, 'within the limit');
        }
        for (let i = 0; i < 3; i++) idle.push(await openIdleTcp(server.url));
        const over = await openTls(server.url);
        extra.push(over);
        const r = readResponse(over, 5000);
        over.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        const res: RawResponse = await r;
        assertArmError(res, 503, 'ServiceUnavailable', { what: 'over the limit' });
        assert.equal(res.headers['retry-after'], '1');
        await Promise.all(idle.map((s) => closedByServer(s, 6000)));
        held.pop()!.destroy();
        await sleep(100);
        const again = await openTls(server.url);
        extra.push(again);
        const r2 = readResponse(again);
        again.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n');
        assert.equal((await r2).status, 200, 'a freed slot serves again');
      } finally {
        for (const s of [...held, ...extra, ...idle]) s.destroy();
        await server.close();
      }
    },
  );
});

describe('hostile input gets a 4xx, never a 5xx (item 10)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, SUB, 'rg');
  });
  after(() => server.close());

  test('$top=1e300 (and other huge $top values) on /resources is served in pages', async () => {
    for (const path of [`/subscriptions/${SUB}/resources`, `/subscriptions/${SUB}/resourceGroups/rg/resources`]) {
      for (const top of ['1e300', '1e21', '9007199254740993', '5000']) {
        const res = await armFetch(server, 'GET', `${path}?api-version=${RG_API_VERSION}&$top=${top}`);
        assert.equal(res.status, 200, `${path} $top=${top}: ${res.text}`);
        assert.ok(Array.isArray(res.body.value));
      }
      const bad = await armFetch(server, 'GET', `${path}?api-version=${RG_API_VERSION}&$top=1.5`);
      assert.equal(bad.status, 400);
    }
  });

  test('a malformed Basic header at the token endpoint is 400 invalid_request; a well-formed one works', async () => {
    const form = 'grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default';
    const basic = (pair: string) => ({
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(pair).toString('base64')}`,
    });
    for (const pair of ['%E0%A4%A:secret', 'client:%', '%:%']) {
      const res = await fetch(`${server.url}/${TENANT}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: basic(pair),
        body: form,
      });
      const body = await res.json();
      assert.equal(res.status, 400, `${pair}: ${JSON.stringify(body)}`);
      assert.equal(body.error, 'invalid_request');
    }
    const ok = await fetch(`${server.url}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: basic('my%20app:s%3Acret'),
      body: form,
    });
    assert.equal(ok.status, 200);
    assert.equal(typeof (await ok.json()).access_token, 'string');
  });

  test('no Host, an empty Host or a port over 65535: 400 InvalidHostHeader on every plane, with ids', async () => {
    const routes: [string, string, string][] = [
      ['GET', withApiVersion(rgPath(SUB, 'rg'), RG_API_VERSION), ''],
      ['PUT', withApiVersion(rgPath(SUB, 'rg-host'), RG_API_VERSION), withBody('{"location":"eastus"}')],
      ['GET', `/subscriptions/${SUB}/resources?api-version=${RG_API_VERSION}`, ''],
      ['GET', `/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices?api-version=${RG_API_VERSION}`, ''],
      ['GET', '/_amlite/rules', ''],
      ['GET', '/_dashboard', ''],
      ['GET', '/_amlite/api/tree', ''],
      ['POST', '/serverless/nothing-here/chat/completions', withBody('{"messages":[]}')],
      ['GET', `/${TENANT}/v2.0/.well-known/openid-configuration`, ''],
      ['GET', '/common/discovery/instance', ''],
      ['GET', '/health', ''],
    ];
    const auth = `authorization: Bearer ${fakeToken()}\r\n`;
    for (const [method, path, extra] of routes) {
      const hosts = [
        [null, '1.1'],
        [null, '1.0'],
        ['', '1.1'],
        ['x:99999', '1.1'],
        ['127.0.0.1:99999', '1.0'],
        ['a b', '1.1'],
      ];
      for (const [host, version] of hosts as [string | null, string][]) {
        const what = `${method} ${path} with Host ${JSON.stringify(host)} over HTTP/${version}`;
        const res = await rawRequest(server.url, request(method, path, host, auth + extra, version));
        assertArmError(res, 400, 'InvalidHostHeader', { what });
        assert.ok(res.headers['x-ms-request-id'], `${what}: x-ms-request-id`);
      }
    }
    const created = await armFetch(server, 'GET', withApiVersion(rgPath(SUB, 'rg-host'), RG_API_VERSION));
    assert.equal(created.status, 404, 'nothing created');
  });
});

describe('request logs (item 14)', () => {
  after(() => killAllCli());

  test('query values are redacted in the request log, except api-version', { timeout: 60_000 }, async () => {
    const cli = await startCli(['--data-dir', freshDataDir('amlite-edge-log-'), '--in-memory', '--log-level', 'info']);
    const secrets = Array.from({ length: 6 }, () => `q${randomUUID().replaceAll('-', '')}`);
    const [token, code, sig, key, bare, clientSecret] = secrets;
    await fetch(`${cli.url}/health?access_token=${token}&api-version=${RG_API_VERSION}`);
    await fetch(
      `${cli.url}/subscriptions/${SUB}/resources?api-version=${RG_API_VERSION}&code=${code}&sig=${sig}` +
        `&key=${key}&${bare}`,
    );
    await fetch(`${cli.url}/${TENANT}/oauth2/v2.0/token?client_secret=${clientSecret}`, { method: 'POST' });
    const logged = () => (cli.output().match(/"msg":"request"/g) ?? []).length;
    await pollUntil('three request log lines', async () => (logged() >= 3 ? true : undefined));
    const log = cli.output();
    for (const s of secrets) assert.ok(!log.includes(s), `a query value in the log: ${s}`);
    assert.match(log, /access_token=REDACTED/);
    assert.ok(log.includes(`api-version=${RG_API_VERSION}`), 'the api-version stays readable');
  });

  test('redactQuery keeps the path and the api-version, whatever its spelling', () => {
    assert.equal(redactQuery('/a/b'), '/a/b');
    assert.equal(
      redactQuery('/a?api-version=1&sig=x&Api-Version=2&flag&k=a=b'),
      '/a?api-version=1&sig=REDACTED&Api-Version=2&REDACTED&k=REDACTED',
    );
    assert.equal(redactQuery('/a?api%2Dversion=1&code=%zz'), '/a?api%2Dversion=1&code=REDACTED');
  });
});

describe('DNS rebinding and cross-site requests (item 15)', () => {
  let server: RunningServer;
  let port: string;
  let keysPath: string;
  let chatUri: string;
  before(async () => {
    server = await startTuned({ auth: 'none' });
    port = new URL(server.url).port;
    await createResourceGroup(server, SUB, 'rg');
    await createWorkspace(server, SUB, 'rg', 'ws-edge');
    const ep = endpointPath(SUB, 'rg', 'ws-edge', 'ep-edge');
    assert.equal((await armFetch(server, 'PUT', withApiVersion(ep, STABLE), { body: endpointBody() })).status, 201);
    chatUri = await pollUntil('endpoint online', async () => {
      const r = await armFetch(server, 'GET', withApiVersion(ep, STABLE));
      const props = r.body.properties;
      return props.provisioningState === 'Succeeded' ? (props.inferenceEndpoint.uri as string) : undefined;
    });
    keysPath = withApiVersion(`${ep}/listKeys`, STABLE);
  });
  after(() => server.close());

  test('bound to loopback, a foreign Host is 403 on the management, control, data plane and token issuer', async () => {
    const chatPath = `${new URL(chatUri).pathname}/chat/completions`;
    const chat = '{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}';
    const form =
      'grant_type=client_credentials&client_id=a&client_secret=b' +
      '&scope=https%3A%2F%2Fmanagement.azure.com%2F.default';
    const routes: [string, string, string][] = [
      ['POST', keysPath, 'content-length: 0\r\n'],
      ['GET', `/subscriptions/${SUB}/resources?api-version=${RG_API_VERSION}`, ''],
      ['POST', '/_amlite/reset', 'content-length: 0\r\n'],
      ['GET', '/_amlite/rules', ''],
      ['POST', chatPath, withBody(chat)],
      ['POST', `/${TENANT}/oauth2/v2.0/token`, withBody(form, 'application/x-www-form-urlencoded')],
      ['GET', '/_amlite/api/tree', ''],
    ];
    for (const [method, path, extra] of routes) {
      const body = extra.includes('form-urlencoded') ? form : extra.includes('json') ? chat : '';
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, '10.0.0.1']) {
        const res = await rawRequest(server.url, request(method, path, host, extra) + body);
        assertArmError(res, 403, 'Forbidden', { what: `${method} ${path} with Host ${host}` });
        assert.match(res.json.error.message, /loopback/);
      }
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, '127.0.0.1', 'LOCALHOST']) {
        const res = await rawRequest(server.url, request(method, path, host, extra) + body);
        const what = `${method} ${path} with Host ${host}: ${res.status} ${res.body}`;
        assert.ok(res.status !== 403 && res.status < 500, what);
      }
    }
  });

  test('state-changing requests from a browser on another site are 403; same-origin, other clients work', async () => {
    const rules = async () => (await armFetch(server, 'GET', '/_amlite/rules')).body.value.length as number;
    const rule = (name: string) => ({ kind: 'fail', match: { name }, error: { code: 'Conflict', message: 'x' } });
    const added = await armFetch(server, 'POST', '/_amlite/rules', { body: rule('never-*') });
    assert.equal(added.status, 201, added.text);
    const crossSite: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: `https://evil.example:${port}` },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: `https://localhost:${Number(port) + 1}` },
      { origin: `https://localhost:${port}` }, // another origin than the one called (127.0.0.1)
    ];
    for (const headers of crossSite) {
      const what = JSON.stringify(headers);
      // A bodiless POST needs no preflight (fetch with mode no-cors): exactly what a hostile page can send.
      const reset = await armFetch(server, 'POST', '/_amlite/reset', { headers });
      assert.equal(reset.status, 403, `${what}: ${reset.text}`);
      assert.equal(reset.body.error.code, 'Forbidden');
      assert.match(reset.body.error.message, /another site/);
      const rg = withApiVersion(rgPath(SUB, 'rg-csrf'), RG_API_VERSION);
      const put = await armFetch(server, 'PUT', rg, { body: { location: 'eastus' }, headers });
      assert.equal(put.status, 403, `${what}: ${put.text}`);
      const read = await armFetch(server, 'GET', withApiVersion(rgPath(SUB, 'rg'), RG_API_VERSION), { headers });
      assert.equal(read.status, 200, `${what}: reads are not refused`);
    }
    assert.equal(await rules(), 1, 'no cross-site reset went through');
    assert.equal((await armFetch(server, 'GET', withApiVersion(rgPath(SUB, 'rg-csrf'), RG_API_VERSION))).status, 404);

    // The dashboard's own requests (same origin) and non-browser clients keep working.
    const keys = await armFetch(server, 'POST', keysPath);
    const chat = await fetch(`${chatUri}/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'api-key': keys.body.primaryKey,
        origin: server.url,
        'sec-fetch-site': 'same-origin',
      },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    assert.equal(chat.status, 200, await chat.text());
    const navigated = await armFetch(server, 'POST', '/_amlite/reset', { headers: { 'sec-fetch-site': 'none' } });
    assert.equal(navigated.status, 200, 'typed into the browser (no initiator)');
    const again = await armFetch(server, 'POST', '/_amlite/rules', { body: rule('x-*') });
    assert.equal(again.status, 201, again.text);
    const sameOrigin = await armFetch(server, 'POST', '/_amlite/reset', { headers: { origin: server.url } });
    assert.equal(sameOrigin.status, 200, sameOrigin.text);
    assert.equal(await rules(), 0);
  });

  test('listening on another address (0.0.0.0, a LAN address), the loopback Host rule is off', async () => {
    for (const a of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackBind(a), true, a);
    for (const a of ['0.0.0.0', '::', '192.168.1.10', 'amlite.example']) assert.equal(isLoopbackBind(a), false, a);
    assert.equal(hostRefusal('amlite.example:8443', false), undefined);
    assert.equal(hostRefusal('amlite.example:8443', true)?.status, 403);
    // The same hook amlite installs, on a bare Fastify: any valid Host is served, invalid ones still 400.
    const app = Fastify();
    app.setErrorHandler(async (e: { status: number; toBody(): unknown }, _req, reply) =>
      reply.code(e.status).send(e.toBody()),
    );
    installEdgeRules(app, { loopbackOnly: false });
    app.get('/x', async () => ({ ok: true }));
    try {
      assert.equal((await app.inject({ url: '/x', headers: { host: 'amlite.example:8443' } })).statusCode, 200);
      assert.equal((await app.inject({ url: '/x', headers: { host: 'x:99999' } })).statusCode, 400);
    } finally {
      await app.close();
    }
  });
});
