// Hardening of the data plane (issue 12, items 2, 3, 12, 16): bounded work per request whatever the prompt, capped
// embeddings, endpoints that keep serving while an update runs, and pool endpoints whose ancestors are named
// `endpoints`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  fakeToken,
  freshDataDir,
  pollUntil,
  putAndWait,
  startTestServer,
  startWithWorkspace,
  waitForTerminal,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';
import {
  DATA_PLANE_BODY_LIMIT,
  MAX_CHAT_MESSAGES,
  MAX_EMBEDDING_INPUTS,
  SIMULATED_CHAT_CONTEXT_TOKENS,
  SIMULATED_DIMENSIONS,
  SIMULATED_EMBEDDINGS_CONTEXT_TOKENS,
} from '../src/inference/input-limits.js';
import { Catalog, CatalogError } from '../src/inference/catalog.js';

const SUB = randomUUID();
const RG = 'rg-dataplane';
const WS = 'ws-dataplane';
const PREVIEW = '2026-03-15-preview';
const CHAT_MODEL = 'azureml://registries/azureml-meta/models/Llama-2-7b-chat/versions/24';
const EMBED_MODEL = 'azureml://registries/azureml-cohere/models/Cohere-embed-v3-english/versions/1';
const SMALL_EMBED_MODEL = 'azureml://registries/azureml/models/small-embed/versions/1';
/** Generous: a request with a megabyte of text answers within this, and /health each time within HEALTH_MS. */
const ANSWER_MS = 60_000;
const HEALTH_MS = 3_000;
const ML_TOKEN = fakeToken({ aud: 'https://ml.azure.com' });
const poolEndpointBody = { location: 'eastus', properties: { authMode: 'AAD', groupName: 'g1' } };

interface Endpoint {
  uri: string;
  key: string;
}

async function serverlessEndpoint(server: RunningServer, name: string, modelId = CHAT_MODEL): Promise<Endpoint> {
  const path = endpointPath(SUB, RG, WS, name);
  const { final } = await putAndWait(server, path, PREVIEW, endpointBody({ modelSettings: { modelId } }));
  const keys = await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, PREVIEW));
  return { uri: final.properties.inferenceEndpoint.uri, key: keys.body.primaryKey };
}

async function call(ep: Endpoint, op: 'chat/completions' | 'embeddings', body: unknown) {
  const res = await fetch(`${ep.uri}/${op}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(ep.key ? { 'api-key': ep.key } : { authorization: `Bearer ${ML_TOKEN}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: json, text: text.slice(0, 500) };
}

const chat = (ep: Endpoint, content: string, extra: Record<string, unknown> = {}) =>
  call(ep, 'chat/completions', { messages: [{ role: 'user', content }], max_tokens: 5, ...extra });

/** 'a' × 8 is one cl100k token: a count within a few tokens of n / 8 is a real count, not an estimate. */
function assertNear(tokens: number, expected: number): void {
  assert.ok(Math.abs(tokens - expected) < 64, `prompt_tokens ${tokens}, expected about ${expected}`);
}

/** Deterministic pseudo-random lowercase letters: one word with no repeats the tokenizer could cache. */
function letters(n: number, seed = 1): string {
  const codes = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    codes[i] = 97 + (x % 26);
  }
  return Buffer.from(codes).toString('latin1');
}

/**
 * Runs `work` while calling /health one call after another; every /health answers within HEALTH_MS and `work`
 * within ANSWER_MS.
 */
async function whileHealthy<T>(server: RunningServer, work: () => Promise<T>): Promise<T> {
  let done = false;
  const started = Date.now();
  const pending = work().finally(() => {
    done = true;
  });
  let probes = 0;
  while (!done) {
    const t0 = performance.now();
    const health = await armFetch(server, 'GET', '/health', { token: null });
    const ms = performance.now() - t0;
    assert.equal(health.status, 200);
    assert.ok(ms < HEALTH_MS, `/health took ${Math.round(ms)} ms while a large request was being served`);
    probes++;
    assert.ok(Date.now() - started < ANSWER_MS, `the large request did not answer within ${ANSWER_MS} ms`);
  }
  const result = await pending;
  assert.ok(probes > 0);
  assert.ok(Date.now() - started < ANSWER_MS, `the large request took ${Date.now() - started} ms`);
  return result;
}

type Answer = { status: number; headers: Headers; body: any; text: string };

function assertApiError(res: Answer, status: number, code: string): string {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.error?.code, code, res.text);
  assert.equal(typeof res.body.error.message, 'string');
  assert.equal(res.headers.get('x-ms-error-code'), code, 'the Azure.Core error header');
  return res.body.error.message;
}

describe('bounded work per data-plane request (item 2) and capped embeddings (item 3)', () => {
  let server: RunningServer;
  let ep: Endpoint;
  let embed: Endpoint;
  let small: Endpoint;
  before(async () => {
    const catalog = join(freshDataDir(), 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [
          { match: '*small-embed*', backend: 'simulated', dimensions: 256, contextSize: 512 },
          { match: '*', backend: 'simulated' },
        ],
      }),
    );
    server = await startTestServer({ catalog });
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, WS);
    ep = await serverlessEndpoint(server, 'big-prompts');
    embed = await serverlessEndpoint(server, 'embedder', EMBED_MODEL);
    small = await serverlessEndpoint(server, 'small-embedder', SMALL_EMBED_MODEL);
  });
  after(() => server.close());

  test('a 1 MB one-word prompt answers 400 context_length_exceeded in bounded time; /health answers', async () => {
    const res = await whileHealthy(server, () => chat(ep, letters(1024 * 1024)));
    const message = assertApiError(res, 400, 'context_length_exceeded');
    assert.match(message, new RegExp(`maximum context length is ${SIMULATED_CHAT_CONTEXT_TOKENS} tokens`));
    assert.equal((await chat(ep, 'still here?')).status, 200, 'and the endpoint serves the next request');
  });

  test('~300 KB of letters is served (no 500), with a real prompt token count', async () => {
    const res = await whileHealthy(server, () => chat(ep, 'a'.repeat(300 * 1024)));
    assert.equal(res.status, 200, res.text);
    assertNear(res.body.usage.prompt_tokens, (300 * 1024) / 8);
    const mixed = await whileHealthy(server, () => chat(ep, letters(300 * 1024, 7), { stream: true }));
    assert.ok(mixed.status === 200 || mixed.status === 400, mixed.text);
  });

  test('a prompt of ordinary words is counted exactly as before: usage is unchanged by the slicing', async () => {
    const words = Array.from({ length: 3000 }, (_, i) => `word${i % 97} is, here.\n`).join('');
    const res = await chat(ep, words);
    assert.equal(res.status, 200, res.text);
    const { encode } = await import('gpt-tokenizer');
    assert.equal(res.body.usage.prompt_tokens, 3 + 4 + encode('user').length + encode(words).length);
  });

  test(`a body over the data plane's ${DATA_PLANE_BODY_LIMIT} bytes is 413 in the Azure.Core envelope`, async () => {
    const res = await whileHealthy(server, () => chat(ep, letters(DATA_PLANE_BODY_LIMIT + 1024, 3)));
    const message = assertApiError(res, 413, 'RequestEntityTooLarge');
    assert.match(message, new RegExp(String(DATA_PLANE_BODY_LIMIT)));
  });

  test(`more than ${MAX_CHAT_MESSAGES} messages is 400`, async () => {
    const messages = Array.from({ length: MAX_CHAT_MESSAGES + 1 }, () => ({ role: 'user', content: 'hi' }));
    assertApiError(await call(ep, 'chat/completions', { messages }), 400, 'BadRequest');
    const ok = await call(ep, 'chat/completions', { messages: messages.slice(1), max_tokens: 1 });
    assert.equal(ok.status, 200, ok.text);
  });

  test('a 1 MB embeddings input answers 400 in bounded time; /health keeps answering', async () => {
    const res = await whileHealthy(server, () => call(embed, 'embeddings', { input: [letters(1024 * 1024, 5)] }));
    const message = assertApiError(res, 400, 'context_length_exceeded');
    assert.match(message, new RegExp(`maximum context length is ${SIMULATED_EMBEDDINGS_CONTEXT_TOKENS} tokens`));
    assert.match(message, /input\[0\]/);
    const fine = await call(embed, 'embeddings', { input: ['a'.repeat(8 * 1000)] });
    assert.equal(fine.status, 200, fine.text);
    assert.equal(fine.body.usage.prompt_tokens, 1000);
  });

  test("64 inputs asking 65,536 dimensions (the 92 MB answer) is 400; the model's own size is the most", async () => {
    const input = Array.from({ length: 64 }, (_, i) => `text ${i}`);
    const huge = await call(embed, 'embeddings', { input, dimensions: 65536 });
    assert.match(assertApiError(huge, 400, 'InvalidDimensions'), new RegExp(`at most ${SIMULATED_DIMENSIONS}`));
    const over = await call(embed, 'embeddings', { input, dimensions: SIMULATED_DIMENSIONS + 1 });
    assertApiError(over, 400, 'InvalidDimensions');
    const most = await call(embed, 'embeddings', {
      input: ['x'],
      dimensions: SIMULATED_DIMENSIONS,
      encoding_format: 'float',
    });
    assert.equal(most.status, 200, most.text);
    assert.equal(most.body.data[0].embedding.length, SIMULATED_DIMENSIONS);
  });

  test("the catalog sets a model's size and context: dimensions beyond it and longer inputs are 400", async () => {
    assertApiError(await call(small, 'embeddings', { input: ['x'], dimensions: 257 }), 400, 'InvalidDimensions');
    const own = await call(small, 'embeddings', { input: ['x'], encoding_format: 'float' });
    assert.equal(own.body.data[0].embedding.length, 256, "no dimensions: the model's own size");
    const long = await call(small, 'embeddings', { input: ['ok', 'a'.repeat(8 * 600)] });
    assertApiError(long, 400, 'context_length_exceeded');
    assert.equal((await call(small, 'embeddings', { input: ['a'.repeat(8 * 500)] })).status, 200);
  });

  test('a catalog whose dimensions or contextSize is out of range is refused at start', () => {
    for (const bad of [{ dimensions: 65536 }, { dimensions: 0 }, { contextSize: 1.5 }, { contextSize: -1 }]) {
      const file = join(freshDataDir(), 'catalog.json');
      writeFileSync(file, JSON.stringify({ models: [{ match: '*', backend: 'simulated', ...bad }] }));
      assert.throws(() => Catalog.load(file), CatalogError, JSON.stringify(bad));
    }
  });

  test(`more than ${MAX_EMBEDDING_INPUTS} inputs is 400; ${MAX_EMBEDDING_INPUTS} are served`, async () => {
    const input = Array.from({ length: MAX_EMBEDDING_INPUTS + 1 }, (_, i) => `t${i}`);
    assertApiError(await call(embed, 'embeddings', { input, dimensions: 8 }), 400, 'BadRequest');
    const ok = await call(embed, 'embeddings', { input: input.slice(1), dimensions: 8 });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.data.length, MAX_EMBEDDING_INPUTS);
  });
});

describe('bounded work in front of an openai-compatible upstream (item 2)', () => {
  let upstream: Server;
  let server: RunningServer;
  let open: Endpoint;
  let bounded: Endpoint;
  before(async () => {
    // An upstream that answers without usage: amlite counts the prompt itself.
    upstream = createServer(async (req, res) => {
      for await (const _ of req) {
        /* drain */
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const choice = { index: 0, delta: { content: 'ok' }, finish_reason: 'stop' };
      res.write(`data: ${JSON.stringify({ id: 'x', choices: [choice] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const address = upstream.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
    const catalog = join(freshDataDir(), 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [
          { match: '*bounded*', backend: 'openai-compatible', url, contextSize: 1000 },
          { match: '*', backend: 'openai-compatible', url },
        ],
      }),
    );
    server = await startTestServer({ catalog });
    await createResourceGroup(server, SUB, RG);
    await createWorkspace(server, SUB, RG, WS);
    open = await serverlessEndpoint(server, 'proxied');
    bounded = await serverlessEndpoint(server, 'proxied-bounded', 'azureml://registries/x/models/bounded/versions/1');
  });
  after(async () => {
    await server.close();
    upstream.close();
  });

  test('a 1 MB one-word prompt is proxied and counted in bounded time; /health keeps answering', async () => {
    const res = await whileHealthy(server, () => chat(open, 'a'.repeat(1024 * 1024)));
    assert.equal(res.status, 200, res.text);
    assertNear(res.body.usage.prompt_tokens, (1024 * 1024) / 8);
  });

  test('a catalog contextSize is enforced before the upstream is called', async () => {
    const message = assertApiError(await chat(bounded, 'a'.repeat(8 * 1200)), 400, 'context_length_exceeded');
    assert.match(message, /maximum context length is 1000 tokens/);
    assert.equal((await chat(bounded, 'short')).status, 200);
  });
});

describe('endpoints keep serving while an update runs (item 12)', () => {
  let server: RunningServer;
  const pool = `${workspacePath(SUB, RG, WS)}/inferencePools/pool-upd`;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server.close());

  const hold = (resourceType: string, method: string) =>
    armFetch(server, 'POST', '/_amlite/rules', { body: { kind: 'delay', match: { resourceType, method } } });
  async function releaseAll(): Promise<void> {
    assert.equal((await armFetch(server, 'POST', '/_amlite/reset')).status, 200);
  }
  const stateOf = async (path: string) =>
    (await armFetch(server, 'GET', withApiVersion(path, PREVIEW))).body.properties;

  test('a serverless endpoint whose tags-only PATCH is in progress (Updating) answers chat', async () => {
    const ep = await serverlessEndpoint(server, 'upd-ep');
    const path = endpointPath(SUB, RG, WS, 'upd-ep');
    assert.equal((await hold('serverlessEndpoints', 'PATCH')).status, 201);
    try {
      const patch = await armFetch(server, 'PATCH', withApiVersion(path, PREVIEW), { body: { tags: { team: 'nlp' } } });
      assert.ok(patch.status === 200 || patch.status === 202, `PATCH: ${patch.status} ${patch.text}`);
      assert.deepEqual(await stateOf(path).then((p) => [p.provisioningState, p.endpointState]), ['Updating', 'Online']);
      const res = await chat(ep, 'hello during an update');
      assert.equal(res.status, 200, res.text);
    } finally {
      await releaseAll();
    }
    await waitForTerminal(server, path, PREVIEW);
    assert.equal((await chat(ep, 'hello after')).status, 200);
  });

  test('a serverless endpoint still Creating, or Deleting, does not serve', async () => {
    const path = endpointPath(SUB, RG, WS, 'held-create');
    assert.equal((await hold('serverlessEndpoints', 'PUT')).status, 201);
    try {
      const put = await armFetch(server, 'PUT', withApiVersion(path, PREVIEW), { body: endpointBody() });
      assert.equal(put.status, 201, put.text);
      const uri = put.body.properties.inferenceEndpoint.uri;
      const keys = (await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, PREVIEW))).body;
      const res = await chat({ uri, key: keys.primaryKey }, 'too early');
      assertApiError(res, 409, 'EndpointNotReady');
    } finally {
      await releaseAll();
    }
    const ep = await serverlessEndpoint(server, 'held-delete');
    const epPath = endpointPath(SUB, RG, WS, 'held-delete');
    assert.equal((await hold('serverlessEndpoints', 'DELETE')).status, 201);
    try {
      assert.equal((await armFetch(server, 'DELETE', withApiVersion(epPath, PREVIEW))).status, 202);
      assertApiError(await chat(ep, 'too late'), 409, 'EndpointNotReady');
    } finally {
      await releaseAll();
    }
  });

  test('a pool endpoint whose PATCH is in progress (Updating) answers chat', async () => {
    await putAndWait(server, pool, PREVIEW, { location: 'eastus', sku: { name: 'S1', capacity: 1 }, properties: {} });
    await putAndWait(server, `${pool}/groups/g1`, PREVIEW, {
      location: 'eastus',
      sku: { name: 'Standard_NC24ads_A100_v4', capacity: 1 },
      properties: { scaleUnitSize: 1, modelConfiguration: { modelId: CHAT_MODEL } },
    });
    const path = `${pool}/endpoints/e-upd`;
    const { final } = await putAndWait(server, path, PREVIEW, poolEndpointBody);
    const ep = { uri: final.properties.endpointUri as string, key: '' };
    assert.equal((await hold('inferencePools/endpoints', 'PATCH')).status, 201);
    try {
      const patch = await armFetch(server, 'PATCH', withApiVersion(path, PREVIEW), { body: { tags: { team: 'nlp' } } });
      assert.ok(patch.status === 200 || patch.status === 202, `PATCH: ${patch.status} ${patch.text}`);
      await pollUntil('the endpoint to be Updating', async () =>
        (await stateOf(path)).provisioningState === 'Updating' ? true : undefined,
      );
      const res = await chat(ep, 'hello during an update');
      assert.equal(res.status, 200, res.text);
    } finally {
      await releaseAll();
    }
  });
});

describe('pool endpoints under ancestors named `endpoints` (item 16)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function poolEndpointUnder(rg: string, ws: string, poolName: string): Promise<Endpoint> {
    await createResourceGroup(server, SUB, rg);
    await createWorkspace(server, SUB, rg, ws);
    const pool = `${workspacePath(SUB, rg, ws)}/inferencePools/${poolName}`;
    await putAndWait(server, pool, PREVIEW, { location: 'eastus', sku: { name: 'S1', capacity: 1 }, properties: {} });
    await putAndWait(server, `${pool}/groups/g1`, PREVIEW, {
      location: 'eastus',
      sku: { name: 'Standard_NC24ads_A100_v4', capacity: 1 },
      properties: { scaleUnitSize: 1, modelConfiguration: { modelId: CHAT_MODEL } },
    });
    const { final } = await putAndWait(server, `${pool}/endpoints/e1`, PREVIEW, poolEndpointBody);
    assert.equal(final.properties.provisioningState, 'Succeeded');
    return { uri: final.properties.endpointUri, key: '' };
  }

  for (const [what, rg, ws, poolName] of [
    ['a resource group', 'endpoints', 'ws-a', 'pool-a'],
    ['a workspace', 'rg-b', 'endpoints', 'pool-b'],
    ['a pool', 'rg-c', 'ws-c', 'endpoints'],
  ] as const) {
    test(`a pool endpoint serves when ${what} above it is named 'endpoints'`, async () => {
      const ep = await poolEndpointUnder(rg, ws, poolName);
      const res = await chat(ep, 'hello');
      assert.equal(res.status, 200, res.text);
    });
  }
});
