import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  freshDataDir,
  putAndWait,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';

// Issue 18: the openai-compatible proxy relays a streamed answer in batches (all the events one network read brought)
// and builds its upstream requests from a target parsed once. What must not change: one chunk per upstream token in
// Azure's shape, the upstream request as before (path, host, key), and a client leaving ends the upstream request.

const SUB = '18d0a7a1-5e3c-4c1b-9a8e-3f2d1c0b9a19';
const RG = 'stream-rg';
const WS = 'stream-ws';
const API = '2026-03-15-preview';
const TOKENS = ['one ', 'two ', 'three ', 'four ', 'five'];

type Seen = { url?: string; headers: IncomingHttpHeaders; body: any; closedEarly?: boolean };
const event = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;

/** 'all at once': every event in one write; 'hang': one token, then nothing until the client leaves. */
function answer(seen: Seen, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const prompt = String(seen.body.messages.at(-1).content);
  const tokens = TOKENS.map((t) => event({ id: 'up', choices: [{ index: 0, delta: { content: t } }] }));
  if (prompt === 'hang') {
    res.write(tokens[0]);
    res.on('close', () => (seen.closedEarly = !res.writableEnded));
    return;
  }
  res.end(
    tokens.join('') +
      event({ id: 'up', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
      event({ id: 'up', choices: [], usage: { prompt_tokens: 4, completion_tokens: 5 } }) +
      'data: [DONE]\n\n',
  );
}

describe('data plane: streamed answers through the openai-compatible backend', () => {
  const seen: Seen[] = [];
  let upstream: Server;
  let server: RunningServer;
  let ep: { uri: string; key: string };
  before(async () => {
    upstream = createServer(async (req, res) => {
      let raw = '';
      for await (const c of req) raw += c;
      const s: Seen = { url: req.url, headers: req.headers, body: JSON.parse(raw) };
      seen.push(s);
      answer(s, res);
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const base = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/base/v1/`;
    const catalog = join(freshDataDir('amlite-dp18s-'), 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [{ match: '*', backend: 'openai-compatible', url: base, model: 'up', apiKey: 'upstream-secret' }],
      }),
    );
    server = await startTestServer({ catalog });
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, WS);
    const path = endpointPath(SUB, RG, WS, 'streamed');
    const { final } = await putAndWait(server, path, API, endpointBody());
    const keys = (await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, API))).body;
    ep = { uri: final.properties.inferenceEndpoint.uri, key: keys.primaryKey };
  });
  after(async () => {
    await server.close();
    upstream.closeAllConnections();
    upstream.close();
  });

  const chat = (content: string) =>
    fetch(`${ep.uri}/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': ep.key, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content }], stream: true }),
    });

  test('tokens that arrive in one read still reach the client one chunk each, in order, in Azure`s shape', async () => {
    const res = await chat('all at once');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const text = await res.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const chunks = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)));
    assert.equal(chunks.length, TOKENS.length + 1, 'one chunk per token, then the finish with usage');
    assert.deepEqual(
      chunks.slice(0, -1).map((c) => c.choices[0].delta.content),
      TOKENS,
    );
    assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'the first chunk names the role');
    for (const c of chunks) {
      assert.match(c.id, /^chatcmpl-/);
      assert.equal(c.id, chunks[0].id, 'one id for the whole stream');
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, chunks[0].model);
    }
    const last = chunks.at(-1);
    assert.equal(last.choices[0].finish_reason, 'stop');
    assert.deepEqual(last.usage, { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
  });

  test('the upstream is asked at its base path, with its host, its key and the exact body length', async () => {
    seen.length = 0;
    await (await chat('all at once')).text();
    const s = seen[0];
    assert.equal(s.url, '/base/v1/chat/completions');
    assert.equal(s.headers.host, `127.0.0.1:${(upstream.address() as { port: number }).port}`);
    assert.equal(s.headers.authorization, 'Bearer upstream-secret');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.equal(Number(s.headers['content-length']), Buffer.byteLength(JSON.stringify(s.body)));
    assert.equal(s.body.model, 'up');
    assert.equal(s.body.stream, true);
  });

  test('a client that leaves mid-stream ends the upstream request', async () => {
    seen.length = 0;
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'hang' }], stream: true });
    const req = httpsRequest(`${ep.uri}/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': ep.key, 'content-type': 'application/json' },
    });
    req.end(body);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const [first] = (await once(res, 'data')) as [Buffer];
    assert.match(first.toString(), /"content":"one "/);
    req.destroy();
    const deadline = Date.now() + 5000;
    while (seen[0]?.closedEarly === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen[0].closedEarly, true, 'the upstream saw its request closed within 5 seconds');
  });
});
