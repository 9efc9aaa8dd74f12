/**
 * The llama-cpp backend through the real node-llama-cpp and its prebuilt llama.cpp binary, on a tiny random-weight
 * GGUF model written here (no download). node-llama-cpp is opt-in (`npm run setup:llama`, which CI runs): without it
 * these tests are reported as skipped, and the ones below prove what a user without it is told.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CallOptions, ChatChunk, ChatRequest } from '../src/inference/backend.js';
import { BackendError } from '../src/inference/backend.js';
import { LLAMA_SETUP_COMMAND, LlamaCppBackend, llamaCppMissing } from '../src/inference/backends/llama-cpp.js';
import { TINY_GGUF, writeTinyGguf } from './support/tiny-gguf.js';

const missing = llamaCppMissing();
const skip = missing ? `node-llama-cpp is not installed (run ${LLAMA_SETUP_COMMAND}): ${missing}` : false;
const root = resolve(import.meta.dirname, '..');

/** A module hook that makes `node-llama-cpp` unresolvable, as on a default install. */
const HIDE_LLAMA = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) {
  if (s === 'node-llama-cpp' || s.startsWith('node-llama-cpp/')) {
    throw Object.assign(new Error("Cannot find package 'node-llama-cpp'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(s, c);
}\`));`)}`;

describe('llama-cpp without node-llama-cpp installed (the default install)', () => {
  it('warns at start and answers 503 naming the setup command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'amlite-nollama-'));
    try {
      const modelPath = join(dir, 'tiny.gguf');
      writeTinyGguf(modelPath, { seed: 1 });
      const catalogPath = join(dir, 'catalog.json');
      writeFileSync(catalogPath, JSON.stringify({ models: [{ match: '*', backend: 'llama-cpp', modelPath }] }));
      const src = (p: string) => JSON.stringify(pathToFileURL(join(root, 'src', p)).href);
      const script = `
        const { llamaCppMissing } = await import(${src('inference/backends/llama-cpp.ts')});
        const { Catalog } = await import(${src('inference/catalog.ts')});
        const { fileWarnings } = await import(${src('inference/catalog-health.ts')});
        const catalog = Catalog.load(${JSON.stringify(catalogPath)});
        const out = { missing: llamaCppMissing(), warnings: fileWarnings(catalog.file) };
        try {
          const backend = await catalog.backendFor('azureml://registries/local/models/tiny/versions/1');
          await backend.embeddings({ input: ['hi'] }, { modelId: 'tiny', signal: new AbortController().signal });
        } catch (e) {
          out.error = { status: e.status ?? e.statusCode, code: e.code, message: e.message };
        }
        console.log(JSON.stringify(out));`;
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', HIDE_LLAMA, '--input-type=module', '-e', script],
        { cwd: root, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
      assert.match(out.missing, /npm run setup:llama/);
      assert.equal(out.warnings.length, 1, JSON.stringify(out.warnings));
      assert.match(out.warnings[0], /models\[0\].*node-llama-cpp is not installed.*npm run setup:llama/);
      assert.equal(out.error?.status, 503, JSON.stringify(out.error));
      assert.match(out.error.message, /node-llama-cpp is not installed.*npm run setup:llama/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

if (skip) it('llama-cpp backend on a tiny random-weight GGUF (real node-llama-cpp)', { skip }, () => {});

const call = (signal = new AbortController().signal): CallOptions => ({
  modelId: 'azureml://registries/local/models/tiny/versions/1',
  signal,
});

async function run(backend: LlamaCppBackend, req: ChatRequest, opts = call()) {
  const chunks: ChatChunk[] = [];
  for await (const chunk of backend.chat(req, opts)) chunks.push(chunk);
  const deltas = chunks.filter((c) => c.type === 'delta').map((c) => c.text);
  const done = chunks.at(-1)?.type === 'done' ? (chunks.at(-1) as Extract<ChatChunk, { type: 'done' }>) : undefined;
  assert.equal(chunks.filter((c) => c.type === 'done').length, done ? 1 : 0, 'a done chunk comes last, once');
  return { deltas, text: deltas.join(''), done };
}

const ask = (content: string, more: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'user', content }],
  ...more,
});

if (!skip)
  describe('llama-cpp backend on a tiny random-weight GGUF', () => {
    let dir: string;
    let modelPath: string;
    let backend: LlamaCppBackend;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'amlite-llama-'));
      modelPath = join(dir, 'tiny-random.gguf');
      writeTinyGguf(modelPath, { seed: 7 });
      assert.ok(statSync(modelPath).size < 5 * 1024 * 1024);
      // One thread: the model is tiny, and llama.cpp's spinning thread pool crawls when the 2 cores are shared.
      backend = new LlamaCppBackend({ modelPath, threads: 1 });
    });
    after(async () => {
      await backend?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("streams deltas, then a done chunk with the tokenizer's counts", async () => {
      const { deltas, text, done } = await run(backend, {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello there, tiny model' },
        ],
        max_tokens: 24,
        temperature: 0.8,
        seed: 3,
      });
      assert.ok(deltas.length > 1, `several deltas (got ${deltas.length})`);
      assert.ok(text.length > 0);
      assert.ok(done, 'ends with done');
      // Every byte is a token in this vocabulary, so the prompt holds at least the messages' bytes.
      assert.ok(
        done.usage.promptTokens >= 'Be brief.'.length + 'Hello there, tiny model'.length,
        `promptTokens ${done.usage.promptTokens}`,
      );
      assert.ok(
        done.usage.completionTokens > 0 && done.usage.completionTokens <= 24,
        `completionTokens ${done.usage.completionTokens}`,
      );
    });

    it('stops at max_tokens with finish reason length', async () => {
      const { done, text } = await run(backend, ask('Count to ten', { max_tokens: 5, temperature: 0.5, seed: 1 }));
      assert.equal(done?.finishReason, 'length');
      assert.ok(
        done.usage.completionTokens > 0 && done.usage.completionTokens <= 5,
        `completionTokens ${done.usage.completionTokens}`,
      );
      assert.ok(Buffer.byteLength(text) <= 5, `at most 5 one-byte tokens: ${JSON.stringify(text)}`);
    });

    it('is deterministic for the same seed (temperature 0, and sampling too)', async () => {
      const greedy = ask('Say something', { max_tokens: 20, temperature: 0, seed: 42 });
      const a = await run(backend, greedy);
      const b = await run(backend, greedy);
      assert.ok(a.text.length > 0);
      assert.equal(b.text, a.text);
      const sampled = ask('Say something', { max_tokens: 20, temperature: 1, top_p: 0.9, seed: 7 });
      assert.equal((await run(backend, sampled)).text, (await run(backend, sampled)).text);
    });

    it('ends the reply where a stop sequence appears', async () => {
      const req = ask('Tell me a story', { max_tokens: 40, temperature: 0, seed: 5 });
      const full = (await run(backend, req)).text;
      const stop = full.slice(12, 14);
      assert.equal(stop.length, 2, `a reply long enough to cut: ${JSON.stringify(full)}`);
      const { text, done } = await run(backend, { ...req, stop: [stop] });
      assert.equal(done?.finishReason, 'stop');
      assert.equal(text.trimEnd(), full.slice(0, full.indexOf(stop)).trimEnd());
    });

    it('stops generating promptly when the signal aborts', async () => {
      const controller = new AbortController();
      const started = Date.now();
      let deltas = 0;
      let sawDone = false;
      for await (const chunk of backend.chat(
        ask('Go on forever', { temperature: 1, seed: 9 }),
        call(controller.signal),
      )) {
        if (chunk.type === 'done') sawDone = true;
        else if (++deltas === 3) controller.abort();
      }
      assert.equal(sawDone, false, 'no done chunk after an abort');
      assert.ok(
        deltas < 100,
        `generation stopped soon after the abort (${deltas} deltas, the context had room for ~2000)`,
      );
      assert.ok(Date.now() - started < 10_000);
      // The sequence is free again.
      assert.equal((await run(backend, ask('Again', { max_tokens: 3, temperature: 0 }))).done?.finishReason, 'length');
    });

    it('frees the sequence when the reader stops early, and lets a queued request leave on abort', async () => {
      for (let i = 0; i < 2; i++) {
        let deltas = 0;
        for await (const chunk of backend.chat(ask('Stop reading me', { temperature: 1, seed: i }), call())) {
          if (chunk.type === 'delta' && ++deltas === 2) break;
        }
      }
      // Both sequences busy (they were freed above), a third request waits; aborting it ends it with nothing.
      const busy = [1, 2].map((seed) => run(backend, ask('Keep going', { max_tokens: 300, temperature: 1, seed })));
      const controller = new AbortController();
      const queued = run(backend, ask('Waiting', { max_tokens: 5 }), call(controller.signal));
      setTimeout(() => controller.abort(), 5);
      const waited = await queued;
      assert.equal(waited.deltas.length, 0);
      assert.equal(waited.done, undefined);
      for (const r of await Promise.all(busy)) assert.equal(r.done?.usage.completionTokens, 300);
    });

    it('does not start when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const { deltas, done } = await run(backend, ask('Hi', { max_tokens: 5 }), call(controller.signal));
      assert.equal(deltas.length, 0);
      assert.equal(done, undefined);
    });

    it('serves concurrent chats (more than the sequence pool) without mixing them up', async () => {
      const prompts = ['First question', 'A second, different question', 'Third!'];
      const reqs = prompts.map((p) => ask(p, { max_tokens: 12, temperature: 0 }));
      const alone = [];
      for (const req of reqs) alone.push((await run(backend, req)).text);
      const together = await Promise.all(reqs.map((req) => run(backend, req)));
      for (const [i, r] of together.entries()) {
        assert.equal(r.done?.finishReason, 'length');
        assert.equal(r.done.usage.completionTokens, 12);
        assert.equal(r.text, alone[i], `reply ${i} is the same as when it ran alone`);
      }
    });

    it("embeds each input as a unit vector of the model's size, or of `dimensions`", async () => {
      const full = await backend.embeddings({ input: ['hello', 'a longer sentence to embed'] }, call());
      assert.equal(full.vectors.length, 2);
      for (const v of full.vectors) {
        assert.equal(v.length, TINY_GGUF.embeddingLength);
        assert.ok(v.every(Number.isFinite));
        assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
      }
      assert.notDeepEqual(full.vectors[0], full.vectors[1]);
      assert.ok(
        full.promptTokens >= 'hello'.length + 'a longer sentence to embed'.length,
        `promptTokens ${full.promptTokens}`,
      );

      const small = await backend.embeddings({ input: ['hello'], dimensions: 16 }, call());
      assert.equal(small.vectors[0]!.length, 16);
      assert.ok(Math.abs(Math.hypot(...small.vectors[0]!) - 1) < 1e-6);
      const expected = normalize(full.vectors[0]!.slice(0, 16));
      assert.ok(
        small.vectors[0]!.every((x, i) => Math.abs(x - expected[i]!) < 1e-5),
        'the first 16 dimensions, re-normalized',
      );

      await assert.rejects(
        backend.embeddings({ input: ['hello'], dimensions: TINY_GGUF.embeddingLength + 1 }, call()),
        (e: unknown) => e instanceof BackendError && e.status === 400,
      );
    });

    it('describes the model by its file name', () => {
      assert.deepEqual(backend.info('azureml://registries/local/models/tiny/versions/1'), {
        model_name: 'tiny-random',
        model_provider_name: 'llama.cpp',
        model_type: 'chat-completion',
      });
    });

    it('names the missing model file when it cannot load', async () => {
      const missing = new LlamaCppBackend({ modelPath: join(dir, 'nope.gguf') });
      await assert.rejects(missing.embeddings({ input: ['x'] }, call()), /nope\.gguf/);
      await missing.close();
    });
  });

function normalize(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
