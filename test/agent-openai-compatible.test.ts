import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server, ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { startUpstream } from './support/upstream.js';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { RunningServer } from './support/harness.js';
import { agentEndpoint, rawChat, startAgentServer, type AgentEndpoint } from './support/agent-harness.js';

/** An upstream that calls `lookup` (two argument pieces) until a tool answer arrives, then answers in text. */
function answer(body: any, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const send = (delta: object, finish: string | null = null) =>
    res.write(
      `data: ${JSON.stringify({ id: 'u', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
    );
  if (body.messages.at(-1).role === 'tool') {
    send({ role: 'assistant', content: 'It is ' });
    send({ content: `${body.messages.at(-1).content}.` }, 'stop');
  } else {
    send({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, id: 'call_up1', type: 'function', function: { name: 'lookup', arguments: '' } }],
    });
    send({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] });
    send({ tool_calls: [{ index: 0, function: { arguments: '"Lima"}' } }] });
    send({
      tool_calls: [
        { index: 1, id: 'call_up2', type: 'function', function: { name: 'lookup', arguments: '{"city":"Quito"}' } },
      ],
    });
    send({}, 'tool_calls');
  }
  res.write(
    `data: ${JSON.stringify({ id: 'u', choices: [], usage: { prompt_tokens: 40, completion_tokens: 9 } })}\n\n`,
  );
  res.end('data: [DONE]\n\n');
}

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'lookup',
      strict: true,
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
];
const format = { type: 'json_schema' as const, json_schema: { name: 'r', schema: { type: 'object' } } };
const image = { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png', detail: 'low' as const } };

describe('openai-compatible backend: tools, tool_choice, response_format and parts pass through', () => {
  const seen: any[] = [];
  let upstream: Server;
  let server: RunningServer;
  let ep: AgentEndpoint;
  let lacking: AgentEndpoint;
  before(async () => {
    let url: string;
    ({ server: upstream, url } = await startUpstream(seen, answer));
    server = await startAgentServer([
      { match: '*NoTools*', backend: 'openai-compatible', url, features: { tools: false } },
      { match: '*', backend: 'openai-compatible', url, model: 'qwen' },
    ]);
    ep = await agentEndpoint(server, 'proxy-ep');
    lacking = await agentEndpoint(
      server,
      'proxy-no-tools',
      'azureml://registries/azureml-meta/models/NoTools/versions/1',
    );
  });
  after(async () => {
    await server.close();
    upstream.close();
  });

  test('non-streamed: the upstream gets the fields unchanged; its streamed tool calls come back assembled; loop ends', async () => {
    const client = new OpenAI({ baseURL: ep.uri, apiKey: ep.key });
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: 'weather?' }, image] },
    ];
    const toolChoice = { type: 'function' as const, function: { name: 'lookup' } };
    seen.length = 0;
    const r = await client.chat.completions.create({
      model: 'x',
      messages,
      tools,
      tool_choice: toolChoice,
      response_format: format,
    });
    assert.deepEqual(seen[0].tools, tools);
    assert.deepEqual(seen[0].tool_choice, toolChoice);
    assert.deepEqual(seen[0].response_format, format);
    assert.deepEqual(seen[0].messages, messages);
    assert.equal(seen[0].model, 'qwen');
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(r.choices[0].message.tool_calls, [
      { id: 'call_up1', type: 'function', function: { name: 'lookup', arguments: '{"city":"Lima"}' } },
      { id: 'call_up2', type: 'function', function: { name: 'lookup', arguments: '{"city":"Quito"}' } },
    ]);
    assert.deepEqual(r.usage, { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 });
    messages.push(r.choices[0].message);
    for (const c of r.choices[0].message.tool_calls!)
      messages.push({ role: 'tool', tool_call_id: c.id, content: 'sunny' });
    const final = await client.chat.completions.create({ model: 'x', messages, tools });
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.equal(final.choices[0].message.content, 'It is sunny.');
    assert.deepEqual(
      seen[1].messages.at(-3).tool_calls,
      r.choices[0].message.tool_calls,
      'the assistant tool calls went back up',
    );
  });

  test('streamed: the tool-call deltas reach the client as the upstream sent them, and assemble the same', async () => {
    const raw = await rawChat(ep, { messages: [{ role: 'user', content: 'x' }], tools, stream: true });
    const deltas = raw.text
      .split('\n\n')
      .filter((l) => l.startsWith('data: {'))
      .flatMap((l) => JSON.parse(l.slice(6)).choices[0]?.delta.tool_calls ?? []);
    assert.deepEqual(deltas, [
      { index: 0, id: 'call_up1', type: 'function', function: { name: 'lookup', arguments: '' } },
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Lima"}' } },
      { index: 1, id: 'call_up2', type: 'function', function: { name: 'lookup', arguments: '{"city":"Quito"}' } },
    ]);
    const client = new OpenAI({ baseURL: ep.uri, apiKey: ep.key });
    const final = await client.chat.completions
      .stream({ model: 'x', messages: [{ role: 'user', content: 'x' }], tools })
      .finalChatCompletion();
    assert.deepEqual(
      final.choices[0].message.tool_calls!.map((c) => c.type === 'function' && c.function.arguments),
      ['{"city":"Lima"}', '{"city":"Quito"}'],
    );
  });

  test('extra-parameters rules as before: an unknown field is refused, dropped or passed through', async () => {
    const body = { messages: [{ role: 'user', content: 'x' }], tools, parallel_tool_calls: false };
    assert.equal((await rawChat(ep, body)).status, 422);
    seen.length = 0;
    const res = await fetch(`${ep.uri}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'api-key': ep.key, 'content-type': 'application/json', 'extra-parameters': 'pass-through' },
    });
    assert.equal(res.status, 200);
    assert.equal(seen[0].parallel_tool_calls, false);
    assert.deepEqual(seen[0].tools, tools);
  });

  test('a catalog entry without tools answers 422 before asking the upstream', async () => {
    seen.length = 0;
    const r = await rawChat(lacking, { messages: [{ role: 'user', content: 'x' }], tools });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'parameter_not_supported');
    assert.equal(seen.length, 0);
  });
});
