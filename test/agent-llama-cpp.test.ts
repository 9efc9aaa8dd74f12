/**
 * The llama-cpp backend's structured output and tool calls through node-llama-cpp's grammars and function calling, on
 * the tiny random-weight GGUF: output valid by construction, whatever the weights. Skipped without node-llama-cpp
 * (opt-in: `npm run setup:llama`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { ChatChunk, ChatRequest, ToolCallChunk } from '../src/inference/backend.js';
import { LLAMA_SETUP_COMMAND, LlamaCppBackend, llamaCppMissing } from '../src/inference/backends/llama-cpp.js';
import { writeTinyGguf } from './support/tiny-gguf.js';

const missing = llamaCppMissing();
const skip = missing ? `node-llama-cpp is not installed (run ${LLAMA_SETUP_COMMAND})` : false;
const ajv = new Ajv({ strict: false });

/** A schema whose every instance is short: enums, booleans, a bounded array (so a random model still finishes). */
const bounded = {
  type: 'object',
  additionalProperties: false,
  required: ['unit', 'ok', 'tags', 'where'],
  properties: {
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    ok: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, maxItems: 2 },
    where: {
      type: 'object',
      additionalProperties: false,
      required: ['zone'],
      properties: { zone: { enum: ['north', 'south'] } },
    },
  },
};
const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', parameters: bounded } }];

async function run(backend: LlamaCppBackend, req: ChatRequest) {
  const chunks: ChatChunk[] = [];
  for await (const c of backend.chat(req, { modelId: 'tiny', signal: new AbortController().signal })) chunks.push(c);
  const done = chunks.at(-1) as Extract<ChatChunk, { type: 'done' }>;
  assert.equal(done.type, 'done');
  const text = chunks
    .filter((c) => c.type === 'delta')
    .map((c) => (c as { text: string }).text)
    .join('');
  const calls = chunks.filter((c): c is ToolCallChunk => c.type === 'tool_call');
  return { done, text, calls };
}

describe('llama-cpp: response_format and tools through grammars', { skip }, () => {
  let dir: string;
  let backend: LlamaCppBackend;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'amlite-agent-llama-'));
    const modelPath = join(dir, 'tiny.gguf');
    writeTinyGguf(modelPath, { seed: 11 });
    backend = new LlamaCppBackend({ modelPath, threads: 1 });
  });
  after(async () => {
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('json_schema: the reply is JSON valid against the schema', async () => {
    const { done, text } = await run(backend, {
      messages: [{ role: 'user', content: 'weather' }],
      max_tokens: 300,
      seed: 3,
      responseFormat: { type: 'json_schema', json_schema: { name: 'w', schema: bounded } },
    });
    assert.equal(done.finishReason, 'stop', text);
    assert.ok(ajv.validate(bounded, JSON.parse(text)), `${text}: ${ajv.errorsText()}`);
  });

  it('json_object: the reply is a JSON object (or its cut start at max_tokens)', async () => {
    const { done, text } = await run(backend, {
      messages: [{ role: 'user', content: 'answer in json' }],
      max_tokens: 60,
      seed: 3,
      responseFormat: { type: 'json_object' },
    });
    assert.match(text.trimStart(), /^\{/);
    if (done.finishReason === 'stop') assert.equal(typeof JSON.parse(text), 'object');
    else assert.equal(done.finishReason, 'length');
  });

  it('a named tool: one call (id and name first, then argument pieces) whose arguments fit its schema; the loop goes on', async () => {
    const req: ChatRequest = {
      messages: [{ role: 'user', content: 'weather?' }],
      max_tokens: 300,
      seed: 5,
      tools,
      toolChoice: { type: 'function', function: { name: 'get_weather' } },
    };
    const { done, calls } = await run(backend, req);
    assert.equal(done.finishReason, 'tool_calls');
    assert.equal(calls[0].name, 'get_weather');
    assert.match(calls[0].id!, /^call_/);
    const args = calls.map((c) => c.arguments).join('');
    assert.ok(ajv.validate(bounded, JSON.parse(args)), `${args}: ${ajv.errorsText()}`);
    // The call and its answer go back in; with tool_choice auto the model may answer or call again, validly.
    const next = await run(backend, {
      ...req,
      toolChoice: 'auto',
      max_tokens: 40,
      messages: [
        ...req.messages,
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: calls[0].id, type: 'function', function: { name: 'get_weather', arguments: args } }],
        },
        { role: 'tool', tool_call_id: calls[0].id, content: 'sunny' },
      ],
    });
    assert.ok(['stop', 'length', 'tool_calls'].includes(next.done.finishReason));
    for (const c of next.calls.filter((c) => c.name)) assert.equal(c.name, 'get_weather');
  });
});
