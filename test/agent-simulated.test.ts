import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import ModelClient, { isUnexpected } from '@azure-rest/ai-inference';
import { AzureKeyCredential } from '@azure/core-auth';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { z } from 'zod';
import type { RunningServer } from './support/harness.js';
import { countTokens } from '../src/inference/tokens.js';
import { agentEndpoint, rawChat, startAgentServer, type AgentEndpoint } from './support/agent-harness.js';

const ajv = new Ajv({ strict: false, allErrors: true });
ajvFormats.default(ajv);
const validates = (schema: object, value: unknown) => {
  const check = ajv.compile(schema);
  assert.ok(check(value), `${JSON.stringify(value)}: ${ajv.errorsText(check.errors)}`);
};

const weatherParams = {
  type: 'object',
  additionalProperties: false,
  required: ['city', 'unit', 'when', 'coords', 'tags', 'contact'],
  properties: {
    city: { type: 'string', description: 'The city' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    when: { type: 'string', format: 'date-time' },
    coords: {
      type: 'object',
      additionalProperties: false,
      required: ['lat', 'lon'],
      properties: {
        lat: { type: 'number', minimum: -90, maximum: 90 },
        lon: { type: 'number', minimum: -180, maximum: 180 },
      },
    },
    tags: { type: 'array', items: { type: 'string', format: 'uuid' }, minItems: 1, maxItems: 3 },
    contact: { type: ['string', 'null'], format: 'email' },
  },
};
const lookupParams = {
  type: 'object',
  required: ['id', 'homepage', 'tree'],
  properties: {
    id: { type: 'integer', minimum: 1, maximum: 10 },
    homepage: { type: 'string', format: 'uri' },
    days: { type: 'integer', multipleOf: 7, minimum: 0, maximum: 70 },
    tree: { $ref: '#/$defs/node' },
  },
  $defs: {
    node: {
      type: 'object',
      required: ['name', 'children'],
      properties: {
        name: { type: 'string', minLength: 3 },
        children: { type: 'array', items: { $ref: '#/$defs/node' } },
      },
    },
  },
};
const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather now', parameters: weatherParams, strict: true },
  },
  { type: 'function', function: { name: 'lookup_user', parameters: lookupParams } },
];
const schemaOf = (name: string) => (name === 'get_weather' ? weatherParams : lookupParams);
const ask = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

describe('simulated model: tool calls, structured output and content parts, through the clients', () => {
  let server: RunningServer;
  let ep: AgentEndpoint;
  let client: OpenAI;
  before(async () => {
    server = await startAgentServer([
      { match: '*NoTools*', backend: 'simulated', features: { tools: false, jsonSchema: false, images: false } },
    ]);
    ep = await agentEndpoint(server, 'agent-ep');
    client = new OpenAI({ baseURL: ep.uri, apiKey: ep.key });
  });
  after(() => server.close());

  test('openai agent loop: the named tool is called with arguments valid against its schema, then a final answer', async () => {
    const messages = ask('What is the weather in Paris? Use get_weather.');
    const first = await client.chat.completions.create({ model: 'm', messages, tools });
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    const calls = first.choices[0].message.tool_calls!;
    assert.deepEqual(
      calls.map((c) => c.type === 'function' && c.function.name),
      ['get_weather'],
    );
    assert.equal(first.choices[0].message.content, null);
    const again = await client.chat.completions.create({ model: 'm', messages, tools });
    assert.deepEqual(again.choices[0].message.tool_calls, calls, 'same request, same calls');
    let rounds = 0;
    let reply = first;
    while (reply.choices[0].finish_reason === 'tool_calls') {
      assert.ok(++rounds <= 3, 'the loop ends');
      messages.push(reply.choices[0].message);
      for (const call of reply.choices[0].message.tool_calls!) {
        assert.ok(call.type === 'function');
        assert.match(call.id, /^call_[0-9a-f]{24}$/);
        validates(schemaOf(call.function.name), JSON.parse(call.function.arguments));
        messages.push({ role: 'tool', tool_call_id: call.id, content: '18 degrees and sunny' });
      }
      reply = await client.chat.completions.create({ model: 'm', messages, tools });
    }
    assert.equal(reply.choices[0].finish_reason, 'stop');
    assert.match(reply.choices[0].message.content!, /get_weather said 18 degrees and sunny/);
    assert.ok(
      reply.usage!.prompt_tokens > first.usage!.prompt_tokens,
      'the tool call and its answer are in the prompt',
    );
  });

  test('several tools named: parallel calls, each valid; recursive $ref, formats, multipleOf', async () => {
    const r = await client.chat.completions.create({
      model: 'm',
      messages: ask('call get weather and lookup_user'),
      tools,
    });
    const calls = r.choices[0].message.tool_calls!.filter((c) => c.type === 'function');
    assert.deepEqual(
      calls.map((c) => c.function.name),
      ['get_weather', 'lookup_user'],
    );
    for (const c of calls) validates(schemaOf(c.function.name), JSON.parse(c.function.arguments));
    assert.notEqual(calls[0].id, calls[1].id);
    assert.equal(
      r.usage!.completion_tokens,
      calls.reduce((n, c) => n + countTokens(c.function.arguments), 0),
    );
  });

  test('streamed: tool-call deltas assemble (openai stream helper) into the non-streamed calls; first piece names them', async () => {
    const messages = ask('Use get_weather and lookup_user please');
    const whole = await client.chat.completions.create({ model: 'm', messages, tools });
    const stream = client.chat.completions.stream({ model: 'm', messages, tools });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(
      final.choices[0].message.tool_calls!.map(
        (c) => c.type === 'function' && [c.id, c.function.name, c.function.arguments],
      ),
      whole.choices[0].message.tool_calls!.map(
        (c) => c.type === 'function' && [c.id, c.function.name, c.function.arguments],
      ),
    );
    const raw = await rawChat(ep, { messages, tools, stream: true });
    const chunks = raw.text
      .split('\n\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)));
    const deltas = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    assert.deepEqual(Object.keys(deltas[0]).sort(), ['function', 'id', 'index', 'type']);
    assert.deepEqual(deltas[0].function, { name: 'get_weather', arguments: '' });
    assert.ok(deltas.slice(1).some((d) => d.index === 0 && !('id' in d) && d.function.arguments.length > 0));
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(chunks.at(-1).usage, whole.usage);
  });

  test('openai runTools: the client runs the loop (plain and streamed) to a final answer using the tool result', async () => {
    for (const stream of [false, true]) {
      const seen: unknown[] = [];
      const runner = client.chat.completions.runTools({
        model: 'm',
        stream,
        messages: ask('weather in Oslo via get_weather?'),
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              parameters: weatherParams,
              parse: JSON.parse,
              function: (args: unknown) => {
                seen.push(args);
                return 'cold, -3';
              },
            },
          },
        ],
      } as unknown as Parameters<typeof client.chat.completions.runTools>[0]);
      const content = await runner.finalContent();
      assert.equal(seen.length, 1, `stream ${stream}`);
      validates(weatherParams, seen[0]);
      assert.match(content!, /get_weather said cold, -3/);
    }
  });

  test('tool_choice: none answers text; a named function is called; required calls again after tool answers', async () => {
    const none = await client.chat.completions.create({
      model: 'm',
      messages: ask('weather?'),
      tools,
      tool_choice: 'none',
    });
    assert.equal(none.choices[0].finish_reason, 'stop');
    assert.equal(none.choices[0].message.tool_calls, undefined);
    const named = await client.chat.completions.create({
      model: 'm',
      messages: ask('get_weather please'),
      tools,
      tool_choice: { type: 'function', function: { name: 'lookup_user' } },
    });
    assert.deepEqual(
      named.choices[0].message.tool_calls!.map((c) => c.type === 'function' && c.function.name),
      ['lookup_user'],
    );
    const answered: ChatCompletionMessageParam[] = [
      ...ask('get_weather'),
      named.choices[0].message,
      { role: 'tool', tool_call_id: named.choices[0].message.tool_calls![0].id, content: 'done' },
    ];
    const required = await client.chat.completions.create({
      model: 'm',
      messages: answered,
      tools,
      tool_choice: 'required',
    });
    assert.equal(required.choices[0].finish_reason, 'tool_calls');
    const auto = await client.chat.completions.create({ model: 'm', messages: answered, tools, tool_choice: 'auto' });
    assert.equal(auto.choices[0].finish_reason, 'stop');
  });

  test('max_tokens cuts tool arguments: finish_reason length, completion_tokens = max_tokens', async () => {
    const r = await client.chat.completions.create({ model: 'm', messages: ask('get_weather'), tools, max_tokens: 5 });
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage!.completion_tokens, 5);
  });

  test('structured output: zod parse (plain and streamed), a zod tool, and json_object', async () => {
    const Event = z.object({
      title: z.string(),
      when: z.string().datetime(),
      attendees: z.array(z.object({ email: z.string().email(), role: z.enum(['host', 'guest']) })),
      priority: z.number().int().min(1).max(5),
      notes: z.string().nullable(),
    });
    const format = zodResponseFormat(Event, 'event');
    const parsed = await client.chat.completions.parse({
      model: 'm',
      messages: ask('Plan a meeting'),
      response_format: format,
    });
    const event = parsed.choices[0].message.parsed!;
    assert.ok(Event.safeParse(event).success, JSON.stringify(event));
    const streamed = await client.chat.completions
      .stream({ model: 'm', messages: ask('Plan a meeting'), response_format: format })
      .finalChatCompletion();
    assert.deepEqual(streamed.choices[0].message.parsed, event, 'streamed the same JSON');
    const tool = await client.chat.completions.parse({
      model: 'm',
      messages: ask('book it'),
      tools: [zodFunction({ name: 'book', parameters: Event })],
    });
    assert.ok(Event.safeParse(tool.choices[0].message.tool_calls?.[0].function.parsed_arguments).success);
    const json = await client.chat.completions.create({
      model: 'm',
      messages: ask('Answer in JSON'),
      response_format: { type: 'json_object' },
    });
    const obj = JSON.parse(json.choices[0].message.content!);
    assert.equal(typeof obj, 'object');
    assert.ok(!Array.isArray(obj));
    const noWord = await rawChat(ep, { messages: ask('hello'), response_format: { type: 'json_object' } });
    assert.equal(noWord.status, 400);
    assert.match(noWord.body.error.message, /must contain the word 'json'/);
  });

  test('a schema strict mode does not allow answers 400 with the reason', async () => {
    const strict = (schema: object) => ({
      messages: ask('x'),
      response_format: { type: 'json_schema', json_schema: { name: 's', strict: true, schema } },
    });
    const cases: [object, RegExp][] = [
      [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        /'additionalProperties' is required to be supplied and to be false/,
      ],
      [
        {
          type: 'object',
          properties: { a: { type: 'string' }, b: { type: 'string' } },
          required: ['a'],
          additionalProperties: false,
        },
        /Missing 'b'/,
      ],
      [
        {
          type: 'object',
          properties: { a: { allOf: [{ type: 'string' }] } },
          required: ['a'],
          additionalProperties: false,
        },
        /'allOf' is not permitted/,
      ],
      [
        {
          type: 'object',
          properties: { a: { type: 'string', format: 'uri' } },
          required: ['a'],
          additionalProperties: false,
        },
        /format 'uri' is not permitted/,
      ],
      [{ type: 'array', items: { type: 'string' } }, /root schema must be an object/],
    ];
    for (const [schema, reason] of cases) {
      const r = await rawChat(ep, strict(schema));
      assert.equal(r.status, 400, JSON.stringify(schema));
      assert.match(r.body.error.message, reason);
      assert.match(r.body.error.message, /Invalid schema for response_format 's'/);
    }
    const tool = await rawChat(ep, {
      messages: ask('x'),
      tools: [
        { type: 'function', function: { name: 'f', strict: true, parameters: { type: 'object', properties: {} } } },
      ],
    });
    assert.equal(tool.status, 400);
    assert.match(tool.body.error.message, /Invalid schema for function 'f'/);
    const loose = await rawChat(ep, {
      messages: ask('x'),
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 's',
          schema: { type: 'object', properties: { u: { type: 'string', format: 'uri' } }, required: ['u'] },
        },
      },
    });
    assert.equal(loose.status, 200, 'not strict: any schema');
    validates(
      { type: 'object', properties: { u: { type: 'string', format: 'uri' } }, required: ['u'] },
      JSON.parse(loose.body.choices[0].message.content),
    );
  });

  test('tool messages must answer every call; tool_choice needs tools and a known name', async () => {
    const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } };
    const unanswered = await rawChat(ep, {
      messages: [...ask('x'), { role: 'assistant', content: null, tool_calls: [call] }, ...ask('y')],
      tools,
    });
    assert.equal(unanswered.status, 400);
    assert.match(unanswered.body.error.message, /did not have response messages: call_1/);
    const orphan = await rawChat(ep, {
      messages: [...ask('x'), { role: 'tool', tool_call_id: 'call_9', content: 'r' }],
    });
    assert.equal(orphan.status, 400);
    const noTools = await rawChat(ep, { messages: ask('x'), tool_choice: 'auto' });
    assert.equal(noTools.status, 400);
    const unknown = await rawChat(ep, {
      messages: ask('x'),
      tools,
      tool_choice: { type: 'function', function: { name: 'nope' } },
    });
    assert.equal(unknown.status, 400);
  });

  test('content parts: images and audio are counted by the documented estimate and never fetched', async () => {
    let fetched = 0;
    const images: Server = createServer((_req, res) => {
      fetched++;
      res.end();
    });
    images.listen(0, '127.0.0.1');
    await once(images, 'listening');
    const port = (images.address() as { port: number }).port;
    try {
      const png = (w: number, h: number) => {
        const b = Buffer.alloc(33);
        b.writeUInt32BE(0x89504e47, 0);
        b.writeUInt32BE(0x0d0a1a0a, 4);
        b.write('IHDR', 12, 'latin1');
        b.writeUInt32BE(w, 16);
        b.writeUInt32BE(h, 20);
        return `data:image/png;base64,${b.toString('base64')}`;
      };
      const wav = Buffer.alloc(44 + 32000 * 2);
      wav.write('RIFF', 0, 'latin1');
      wav.write('WAVE', 8, 'latin1');
      wav.writeUInt32LE(32000, 28);
      const base = (
        await client.chat.completions.create({
          model: 'm',
          messages: [{ role: 'user', content: [{ type: 'text', text: 'describe' }] }],
        })
      ).usage!.prompt_tokens;
      const cost = async (part: object) =>
        (
          await client.chat.completions.create({
            model: 'm',
            messages: [{ role: 'user', content: [{ type: 'text', text: 'describe' }, part as never] }],
          })
        ).usage!.prompt_tokens - base;
      assert.equal(await cost({ type: 'image_url', image_url: { url: png(1024, 2048) } }), 85 + 170 * 6);
      assert.equal(await cost({ type: 'image_url', image_url: { url: png(4096, 4096), detail: 'low' } }), 85);
      assert.equal(await cost({ type: 'image_url', image_url: { url: `http://127.0.0.1:${port}/cat.png` } }), 765);
      assert.equal(
        await cost({ type: 'input_audio', input_audio: { data: wav.toString('base64'), format: 'wav' } }),
        20,
      );
      assert.equal(fetched, 0, 'nothing was fetched');
      const bad = await rawChat(ep, {
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }],
      });
      assert.equal(bad.status, 422);
      const systemImage = await rawChat(ep, {
        messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: png(1, 1) } }] }],
      });
      assert.equal(systemImage.status, 422);
    } finally {
      images.close();
    }
  });

  test('a model whose catalog entry lacks a feature answers 422 parameter_not_supported (plain and streamed)', async () => {
    const lacking = await agentEndpoint(
      server,
      'no-tools-ep',
      'azureml://registries/azureml-meta/models/NoTools-model/versions/1',
    );
    for (const stream of [false, true]) {
      const r = await rawChat(lacking, { messages: ask('x'), tools, stream });
      assert.equal(r.status, 422);
      assert.equal(r.body.error.code, 'parameter_not_supported');
      assert.match(r.body.error.message, /'tools'/);
    }
    const image = await rawChat(lacking, {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
    });
    assert.equal(image.status, 422);
    const schema = await rawChat(lacking, {
      messages: ask('x'),
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object' } } },
    });
    assert.equal(schema.status, 422);
    assert.equal((await rawChat(lacking, { messages: ask('x') })).status, 200, 'plain chat still works');
  });

  test('@azure-rest/ai-inference agent loop: tool calls, results fed back, a final answer', async () => {
    const azure = ModelClient(ep.uri, new AzureKeyCredential(ep.key));
    const messages: Record<string, unknown>[] = [{ role: 'user', content: 'Check get_weather for Rome' }];
    let res = await azure
      .path('/chat/completions')
      .post({ body: { messages: messages as never, tools: tools as never } });
    if (isUnexpected(res)) throw new Error(JSON.stringify(res.body));
    assert.equal(res.body.choices[0].finish_reason, 'tool_calls');
    const message = res.body.choices[0].message;
    messages.push(message as never);
    for (const call of message.tool_calls!) {
      validates(weatherParams, JSON.parse(call.function.arguments));
      messages.push({ role: 'tool', tool_call_id: call.id, content: 'warm' });
    }
    res = await azure.path('/chat/completions').post({ body: { messages: messages as never, tools: tools as never } });
    if (isUnexpected(res)) throw new Error(JSON.stringify(res.body));
    assert.equal(res.body.choices[0].finish_reason, 'stop');
    assert.match(res.body.choices[0].message.content!, /get_weather said warm/);
    const structured = await azure.path('/chat/completions').post({
      body: {
        messages: [{ role: 'user', content: 'x' }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'w', strict: true, schema: weatherParams },
        } as never,
      },
    });
    if (isUnexpected(structured)) throw new Error(JSON.stringify(structured.body));
    validates(weatherParams, JSON.parse(structured.body.choices[0].message.content!));
  });
});
