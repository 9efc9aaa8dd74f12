import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server, ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startUpstream } from './support/upstream.js';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  followLocation,
  freshDataDir,
  putAndWait,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';

// Issue 18: the data plane keeps an endpoint's resolution between requests and asks an openai-compatible upstream
// for a whole answer unstreamed. What must not change: a key rotation, an update or a delete takes effect at once.

const SUB = '18d0a7a1-5e3c-4c1b-9a8e-3f2d1c0b9a18';
const RG = 'cache-rg';
const WS = 'cache-ws';
const API = '2026-03-15-preview';

/** An upstream answering JSON when asked unstreamed (with usage unless the prompt says 'no usage'), SSE otherwise. */
function answer(body: any, res: ServerResponse): void {
  const prompt = String(body.messages.at(-1).content);
  if (!body.stream) {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        id: 'up',
        object: 'chat.completion',
        created: 1,
        model: body.model,
        choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: `echo ${prompt}` } }],
        ...(prompt === 'no usage' ? {} : { usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } }),
      }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'streamed' }, finish_reason: null }] })}\n\n`,
  );
  res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 } })}\n\n`);
  res.end('data: [DONE]\n\n');
}

describe('data plane: resolution kept between requests, unstreamed upstream answers', () => {
  const seen: any[] = [];
  let upstream: Server;
  let server: RunningServer;
  before(async () => {
    let url: string;
    ({ server: upstream, url } = await startUpstream(seen, answer));
    const catalog = join(freshDataDir('amlite-dp18-'), 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({ models: [{ match: '*', backend: 'openai-compatible', url, model: 'up' }] }),
    );
    server = await startTestServer({ catalog });
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, WS);
  });
  after(async () => {
    await server.close();
    upstream.close();
  });

  async function endpoint(name: string) {
    const path = endpointPath(SUB, RG, WS, name);
    const { final } = await putAndWait(server, path, API, endpointBody());
    const keys = (await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, API))).body;
    return { path, uri: final.properties.inferenceEndpoint.uri as string, keys };
  }
  const chat = (uri: string, key: string, content = 'hi', stream = false) =>
    fetch(`${uri}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': key },
      body: JSON.stringify({ messages: [{ role: 'user', content }], stream }),
    });

  test('a regenerated key is refused on the very next request, though the endpoint was resolved before', async () => {
    const ep = await endpoint('rotated');
    for (let i = 0; i < 3; i++) assert.equal((await chat(ep.uri, ep.keys.secondaryKey)).status, 200);
    const regen = await armFetch(server, 'POST', withApiVersion(`${ep.path}/regenerateKeys`, API), {
      body: { keyType: 'Secondary' },
    });
    assert.equal(regen.status, 200);
    assert.equal((await chat(ep.uri, ep.keys.secondaryKey)).status, 401, 'old secondary refused at once');
    assert.equal((await chat(ep.uri, regen.body.secondaryKey)).status, 200, 'new secondary served');
    assert.equal((await chat(ep.uri, ep.keys.primaryKey)).status, 200, 'primary untouched');
  });

  test('a deleted endpoint stops serving at once, and one created again under the name serves with its new keys', async () => {
    const ep = await endpoint('deleted');
    assert.equal((await chat(ep.uri, ep.keys.primaryKey)).status, 200);
    const del = await armFetch(server, 'DELETE', withApiVersion(ep.path, API));
    assert.ok([200, 202, 204].includes(del.status), `DELETE answered ${del.status}`);
    await followLocation(server, del);
    const after = await chat(ep.uri, ep.keys.primaryKey);
    assert.ok([404, 409].includes(after.status), `a deleted endpoint answered ${after.status}`);
    const again = await endpoint('deleted');
    assert.equal((await chat(again.uri, ep.keys.primaryKey)).status, 401, "the old endpoint's key is refused");
    assert.equal((await chat(again.uri, again.keys.primaryKey)).status, 200);
  });

  test('unstreamed: the upstream is asked unstreamed, and its JSON answer comes back in amlite`s shape', async () => {
    const ep = await endpoint('plain');
    seen.length = 0;
    const client = new OpenAI({ baseURL: ep.uri, apiKey: ep.keys.primaryKey });
    const r = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'ping' }] });
    assert.equal(seen[0].stream, false);
    assert.equal(seen[0].stream_options, undefined, 'stream_options only goes with stream: true');
    assert.equal(seen[0].model, 'up');
    assert.equal(r.choices[0].message.content, 'echo ping');
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.match(r.id, /^chatcmpl-/);
    assert.deepEqual(r.usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    const counted = await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'no usage' }],
    });
    assert.ok(counted.usage!.prompt_tokens > 0 && counted.usage!.completion_tokens > 0, 'usage counted here');
    const streamed = await (await chat(ep.uri, ep.keys.primaryKey, 'hi', true)).text();
    assert.equal(seen.at(-1).stream, true);
    assert.deepEqual(seen.at(-1).stream_options, { include_usage: true });
    assert.match(streamed, /"content":"streamed"/);
    assert.match(streamed, /"usage":\{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6\}/);
    assert.ok(streamed.endsWith('data: [DONE]\n\n'));
  });
});
