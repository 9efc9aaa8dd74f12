import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import OpenAI from 'openai';
import ModelClient, { isUnexpected } from '@azure-rest/ai-inference';
import { AzureKeyCredential } from '@azure/core-auth';
import { createSseStream } from '@azure/core-sse';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  fakeToken,
  freshDataDir,
  putAndWait,
  startTestServer,
  startWithWorkspace,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';

const SUB = '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9';
const RG = 'inference-rg';
const WS = 'inference-ws';
const PREVIEW = '2026-03-15-preview';

async function createEndpoint(
  server: RunningServer,
  name: string,
  extra: Record<string, unknown> = {},
  apiVersion = PREVIEW,
) {
  const path = endpointPath(SUB, RG, WS, name);
  const { final } = await putAndWait(server, path, apiVersion, endpointBody(extra));
  const keys = await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, apiVersion));
  assert.equal(keys.status, 200);
  return {
    path,
    uri: final.properties.inferenceEndpoint.uri as string,
    keys: keys.body as { primaryKey: string; secondaryKey: string },
  };
}

const chatBody = { messages: [{ role: 'user' as const, content: 'Tell me about local emulators' }], max_tokens: 20 };

describe('data plane of serverless endpoints', () => {
  let server: RunningServer;
  let ep: Awaited<ReturnType<typeof createEndpoint>>;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
    ep = await createEndpoint(server, 'chat-ep');
  });
  after(() => server.close());

  test('openai client: chat completion with real token counts, deterministic for the same request', async () => {
    const client = new OpenAI({ baseURL: ep.uri, apiKey: ep.keys.primaryKey });
    const a = await client.chat.completions.create({ model: 'ignored', ...chatBody, seed: 7 });
    const b = await client.chat.completions.create({ model: 'ignored', ...chatBody, seed: 7 });
    assert.equal(a.object, 'chat.completion');
    assert.ok(a.choices[0].message.content!.length > 0);
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.equal(a.usage!.completion_tokens, 20);
    assert.equal(a.choices[0].finish_reason, 'length');
    assert.ok(a.usage!.prompt_tokens > 5);
    assert.equal(a.usage!.total_tokens, a.usage!.prompt_tokens + a.usage!.completion_tokens);
    assert.equal(a.model, 'Llama-2-7b-chat');
  });

  test('openai client: streaming ends with a finish reason and [DONE]; the text equals the non-streamed one', async () => {
    const client = new OpenAI({ baseURL: ep.uri, apiKey: ep.keys.secondaryKey });
    const whole = await client.chat.completions.create({ model: 'm', ...chatBody });
    const stream = await client.chat.completions.create({ model: 'm', ...chatBody, stream: true });
    let text = '';
    let finish: string | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(chunks > 5, 'token by token');
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, 'length');
    const raw = await fetch(`${ep.uri}/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': ep.keys.primaryKey, 'content-type': 'application/json' },
      body: JSON.stringify({ ...chatBody, stream: true }),
    });
    assert.equal(raw.headers.get('content-type'), 'text/event-stream');
    assert.match(await raw.text(), /data: \[DONE\]\n\n$/);
  });

  test('openai client: embeddings in base64 (its default) and float, of the requested dimensions', async () => {
    const client = new OpenAI({ baseURL: ep.uri, apiKey: ep.keys.primaryKey });
    const b64 = await client.embeddings.create({ model: 'm', input: ['hello', 'world'], dimensions: 64 });
    assert.equal(b64.data.length, 2);
    assert.equal(b64.data[0].embedding.length, 64);
    const float = await client.embeddings.create({
      model: 'm',
      input: 'hello',
      dimensions: 64,
      encoding_format: 'float',
    });
    float.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - b64.data[0].embedding[i]) < 1e-6));
    assert.ok(Math.abs(Math.hypot(...float.data[0].embedding) - 1) < 1e-5, 'unit length');
    assert.ok(float.usage.prompt_tokens >= 1);
  });

  test('@azure-rest/ai-inference: chat, streaming, embeddings and info', async () => {
    const client = ModelClient(ep.uri, new AzureKeyCredential(ep.keys.primaryKey));
    const chat = await client.path('/chat/completions').post({ body: chatBody });
    if (isUnexpected(chat)) assert.fail(JSON.stringify(chat.body));
    assert.equal(chat.body.choices[0].message.role, 'assistant');
    const info = await client.path('/info').get();
    if (isUnexpected(info)) assert.fail(JSON.stringify(info.body));
    assert.deepEqual(info.body, {
      model_name: 'Llama-2-7b-chat',
      model_provider_name: 'Meta',
      model_type: 'chat-completion',
    });
    const emb = await client.path('/embeddings').post({ body: { input: ['a', 'b', 'c'] } });
    if (isUnexpected(emb)) assert.fail(JSON.stringify(emb.body));
    assert.equal(emb.body.data.length, 3);
    const streamed = await client
      .path('/chat/completions')
      .post({ body: { ...chatBody, stream: true } })
      .asNodeStream();
    assert.equal(streamed.status, '200');
    let text = '';
    for await (const event of createSseStream(streamed.body!)) {
      if (event.data === '[DONE]') break;
      text += JSON.parse(event.data).choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, chat.body.choices[0].message.content);
  });

  test('keys: missing or wrong → 401; regenerating a key revokes the old one at once', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${ep.uri}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(chatBody),
      });
    let res = await post({});
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-ms-error-code'), 'Unauthorized');
    res = await post({ 'api-key': 'wrong' });
    assert.equal(res.status, 401);
    assert.ok(!(await res.text()).includes(ep.keys.primaryKey));
    assert.equal((await post({ authorization: `Bearer ${ep.keys.primaryKey}` })).status, 200);
    const regen = await armFetch(server, 'POST', withApiVersion(`${ep.path}/regenerateKeys`, PREVIEW), {
      body: { keyType: 'Primary' },
    });
    assert.equal(regen.status, 200);
    assert.equal((await post({ 'api-key': ep.keys.primaryKey })).status, 401, 'old primary refused');
    assert.equal((await post({ 'api-key': regen.body.primaryKey })).status, 200, 'new primary served');
    assert.equal((await post({ 'api-key': ep.keys.secondaryKey })).status, 200, 'secondary untouched');
    ep.keys = regen.body;
  });

  test('extra-parameters: error (default) → 422, drop → ignored, pass-through → accepted', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${ep.uri}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': ep.keys.primaryKey, ...headers },
        body: JSON.stringify({ ...chatBody, safe_mode: true }),
      });
    const rejected = await post({});
    assert.equal(rejected.status, 422);
    assert.match((await rejected.json()).error.message, /safe_mode/);
    assert.equal((await post({ 'extra-parameters': 'drop' })).status, 200);
    assert.equal((await post({ 'extra-parameters': 'pass-through' })).status, 200);
  });

  test('bad requests are 4xx with an Azure.Core error and x-ms-error-code', async () => {
    const res = await fetch(`${ep.uri}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': ep.keys.primaryKey },
      body: JSON.stringify({ messages: [] }),
    });
    assert.equal(res.status, 422);
    const body = await res.json();
    assert.equal(res.headers.get('x-ms-error-code'), body.error.code);
    assert.match(body.error.message, /messages/);
    const unknown = await fetch(`${new URL(ep.uri).origin}/serverless/no-such-endpoint/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': 'x' },
      body: '{}',
    });
    assert.equal(unknown.status, 404);
  });

  test('content safety: Enabled filters a blocklisted prompt; Disabled lets it through', async () => {
    const guarded = await createEndpoint(server, 'guarded', { contentSafety: { contentSafetyStatus: 'Enabled' } });
    const open = await createEndpoint(server, 'unguarded', { contentSafety: { contentSafetyStatus: 'Disabled' } });
    const ask = (e: typeof guarded) =>
      fetch(`${e.uri}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': e.keys.primaryKey },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'please say amlite:blocked now' }] }),
      });
    const filtered = await ask(guarded);
    assert.equal(filtered.status, 400);
    assert.equal((await filtered.json()).error.code, 'content_filter');
    assert.equal((await ask(open)).status, 200);
  });

  test('AAD endpoints (preview) take ml.azure.com tokens; KeyAndAAD takes both; Key takes no token', async () => {
    const aad = await createEndpoint(server, 'aad-ep', { authMode: 'AAD' });
    const both = await createEndpoint(server, 'both-ep', { authMode: 'KeyAndAAD' });
    const mlToken = fakeToken({ aud: 'https://ml.azure.com' });
    const armToken = fakeToken({ aud: 'https://management.azure.com/' });
    const ask = (uri: string, headers: Record<string, string>) => fetch(`${uri}/info`, { headers });
    assert.equal((await ask(aad.uri, { authorization: `Bearer ${mlToken}` })).status, 200);
    assert.equal((await ask(aad.uri, { authorization: `Bearer ${armToken}` })).status, 401);
    assert.equal((await ask(aad.uri, { 'api-key': aad.keys.primaryKey })).status, 401);
    assert.equal((await ask(both.uri, { 'api-key': both.keys.primaryKey })).status, 200);
    assert.equal((await ask(both.uri, { authorization: `Bearer ${mlToken}` })).status, 200);
    assert.equal((await ask(ep.uri, { authorization: `Bearer ${mlToken}` })).status, 401);
  });
});

describe('state gating', () => {
  test('an endpoint that is not Online refuses with a message naming its state', async () => {
    const server = await startTestServer({ profile: 'realistic' });
    try {
      await createResourceGroup(server, SUB, RG);
      await createWorkspace(server, SUB, RG, WS);
      const path = endpointPath(SUB, RG, WS, 'slow-ep');
      const put = await armFetch(server, 'PUT', withApiVersion(path, PREVIEW), { body: endpointBody() });
      assert.equal(put.status, 201);
      const keys = (await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, PREVIEW))).body;
      const res = await fetch(`${put.body.properties.inferenceEndpoint.uri}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': keys.primaryKey },
        body: JSON.stringify(chatBody),
      });
      assert.equal(res.status, 409);
      assert.match((await res.json()).error.message, /Creating/);
    } finally {
      await server.close();
    }
  });
});

describe('openai-compatible upstream backend', () => {
  let upstream: Server;
  let upstreamUrl: string;
  let releaseSecondChunk: () => void;
  const seen: any[] = [];
  before(async () => {
    upstream = createServer(async (req, res) => {
      let raw = '';
      for await (const c of req) raw += c;
      const body = JSON.parse(raw);
      seen.push({ url: req.url, body });
      if (req.url === '/v1/embeddings') {
        res.setHeader('content-type', 'application/json');
        return res.end(
          JSON.stringify({
            object: 'list',
            data: body.input.map((_: string, i: number) => ({ object: 'embedding', index: i, embedding: [i, 0.5] })),
            usage: { prompt_tokens: 3, total_tokens: 3 },
          }),
        );
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
      res.write(chunk('first '));
      await new Promise<void>((r) => {
        releaseSecondChunk = r;
      });
      res.write(chunk('second', 'stop'));
      res.write(
        `data: ${JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 11, completion_tokens: 2 } })}\n\n`,
      );
      res.end('data: [DONE]\n\n');
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const address = upstream.address();
    upstreamUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  });
  after(() => upstream.close());

  test('streams tokens through as they arrive (no buffering), with the upstream usage; embeddings proxied', async () => {
    const catalog = join(freshDataDir(), 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [
          { match: '*Llama*', backend: 'openai-compatible', url: upstreamUrl, model: 'llama3.2' },
          { match: '*', backend: 'simulated' },
        ],
      }),
    );
    const server = await startTestServer({ catalog });
    try {
      await createResourceGroup(server, SUB, RG);
      await createWorkspace(server, SUB, RG, WS);
      const e = await createEndpoint(server, 'proxied');
      const client = new OpenAI({ baseURL: e.uri, apiKey: e.keys.primaryKey });
      const stream = await client.chat.completions.create({
        model: 'x',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      assert.equal(
        first.value.choices[0].delta.content,
        'first ',
        'the first token arrived while the upstream still holds the second',
      );
      releaseSecondChunk();
      let rest = '';
      let usage;
      for (let n = await it.next(); !n.done; n = await it.next()) {
        rest += n.value.choices[0]?.delta?.content ?? '';
        usage = n.value.usage ?? usage;
      }
      assert.equal(rest, 'second');
      assert.deepEqual(usage, { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 });
      assert.equal(seen[0].body.model, 'llama3.2');
      const emb = await client.embeddings.create({ model: 'x', input: ['a', 'b'], encoding_format: 'float' });
      assert.deepEqual(
        emb.data.map((d) => d.embedding),
        [
          [0, 0.5],
          [1, 0.5],
        ],
      );
    } finally {
      await server.close();
    }
  });
});

describe('data plane of pool endpoints', () => {
  const POOL_API = '2026-03-15-preview';
  let server: RunningServer;
  const pool = `${endpointPath(SUB, RG, WS, 'x').replace('/serverlessEndpoints/x', '')}/inferencePools/pool-1`;
  const mlToken = fakeToken({ aud: 'https://ml.azure.com' });
  const ask = (uri: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${mlToken}` }) =>
    fetch(`${uri}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  before(async () => {
    const catalog = join(freshDataDir(), 'catalog.json');
    // The pool's model streams slowly, so requests stay in flight long enough to meet the limits.
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [
          { match: '*slow*', backend: 'simulated', tokensPerSecond: 40 },
          { match: '*', backend: 'simulated' },
        ],
      }),
    );
    server = await startTestServer({ catalog });
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, WS);
    await putAndWait(server, pool, POOL_API, { location: 'eastus', sku: { name: 'S1', capacity: 1 }, properties: {} });
    await putAndWait(server, `${pool}/groups/g1`, POOL_API, {
      location: 'eastus',
      sku: { name: 'Standard_NC24ads_A100_v4', capacity: 1 },
      properties: {
        scaleUnitSize: 1,
        modelConfiguration: { modelId: 'azureml://registries/azureml/models/slow-model/versions/1' },
      },
    });
  });
  after(() => server.close());

  async function poolEndpoint(name: string, requestConfiguration: Record<string, unknown>) {
    const { final } = await putAndWait(server, `${pool}/endpoints/${name}`, POOL_API, {
      location: 'eastus',
      properties: { authMode: 'AAD', groupName: 'g1', requestConfiguration },
    });
    return final.properties.endpointUri as string;
  }

  test('serves with an ml.azure.com token, refuses without one', async () => {
    const uri = await poolEndpoint('e-auth', { maxConcurrentRequestsPerInstance: 4, requestTimeout: 'PT30S' });
    const ok = await ask(uri, { ...chatBody, max_tokens: 2 });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal((await ok.json()).usage.completion_tokens, 2);
    assert.equal((await ask(uri, chatBody, {})).status, 401);
    assert.equal((await ask(uri, chatBody, { 'api-key': 'anything' })).status, 401);
  });

  test('at most maxConcurrentRequestsPerInstance × instances in flight: the next gets 429 with Retry-After', async () => {
    const uri = await poolEndpoint('e-busy', { maxConcurrentRequestsPerInstance: 2, requestTimeout: 'PT30S' });
    // Streamed answers hold their slot from the moment their headers arrive until the stream ends (~1 s at 40
    // tokens/s), so once both have answered with headers the third request meets a full endpoint, however slow the
    // machine is.
    const slow = { ...chatBody, max_tokens: 40, stream: true };
    const inFlight = await Promise.all([ask(uri, slow), ask(uri, slow)]);
    assert.deepEqual(
      inFlight.map((r) => r.status),
      [200, 200],
    );
    const third = await ask(uri, slow);
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    await Promise.all(inFlight.map((r) => r.text()));
    assert.equal((await ask(uri, { ...chatBody, max_tokens: 1 })).status, 200, 'capacity is back once they finish');
  });

  test('requestTimeout is enforced: 408', async () => {
    const uri = await poolEndpoint('e-timeout', { maxConcurrentRequestsPerInstance: 1, requestTimeout: 'PT0.2S' });
    const res = await ask(uri, { ...chatBody, max_tokens: 40 }); // ~1 s at 40 tokens/s
    assert.equal(res.status, 408);
    assert.equal((await res.json()).error.code, 'RequestTimeout');
    assert.equal(
      (await ask(uri, { ...chatBody, max_tokens: 1 })).status,
      200,
      'the timed-out request released its slot',
    );
  });
});

describe('llama-cpp backend through the data plane', () => {
  test('a serverless endpoint whose model is a local GGUF answers the openai client with real generation', async () => {
    const { writeTinyGguf } = await import('./support/tiny-gguf.js');
    const dir = freshDataDir();
    const modelPath = join(dir, 'tiny.gguf');
    writeTinyGguf(modelPath);
    const catalog = join(dir, 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [
          { match: '*tiny*', backend: 'llama-cpp', modelPath, threads: 1 },
          { match: '*', backend: 'simulated' },
        ],
      }),
    );
    const server = await startTestServer({ catalog });
    try {
      await createResourceGroup(server, SUB, RG);
      await createWorkspace(server, SUB, RG, WS);
      const e = await createEndpoint(server, 'local-llm', {
        modelSettings: { modelId: 'azureml://registries/local/models/tiny/versions/1' },
      });
      const client = new OpenAI({ baseURL: e.uri, apiKey: e.keys.primaryKey });
      const a = await client.chat.completions.create({
        model: 'tiny',
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 6,
        seed: 3,
        temperature: 0,
      });
      assert.equal(a.choices[0].finish_reason, 'length');
      assert.ok(a.usage!.completion_tokens > 0 && a.usage!.completion_tokens <= 6);
      assert.ok(a.usage!.prompt_tokens > 0);
      const stream = await client.chat.completions.create({
        model: 'tiny',
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 6,
        seed: 3,
        temperature: 0,
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      assert.equal(text, a.choices[0].message.content, 'same seed, same text, streamed or not');
      const info = await (await fetch(`${e.uri}/info`, { headers: { 'api-key': e.keys.primaryKey } })).json();
      assert.equal(info.model_provider_name, 'llama.cpp');
    } finally {
      await server.close();
    }
  });
});
