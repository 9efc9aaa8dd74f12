/**
 * The yardstick upstream: an OpenAI-compatible server answering a fixed 32-token reply as fast as it can, plain or
 * streamed. Served over HTTPS with the certificate amlite serves (usage: upstream-server.ts <cert> <key>), so that
 * calling it directly and calling it through amlite cross the same TLS: the ratio is amlite's own overhead.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

// An optional third argument: milliseconds each answer takes (a model's time), spent before it is sent.
const [certFile, keyFile, delayArg] = process.argv.slice(2);
const delayMs = Number(delayArg ?? 0);
const TOKENS = Array.from({ length: 32 }, (_, i) => `tok${i} `);
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => (delayMs > 0 ? setTimeout(answer, delayMs) : answer()));
  const answer = () => {
    const body = JSON.parse(raw || '{}');
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          id: 'u',
          object: 'chat.completion',
          created: 0,
          model: 'upstream',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: TOKENS.join('') } }],
          usage: { prompt_tokens: 8, completion_tokens: 32, total_tokens: 40 },
        }),
      );
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const t of TOKENS)
      res.write(
        `data: ${JSON.stringify({ id: 'u', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })}\n\n`,
      );
    res.write(
      `data: ${JSON.stringify({ id: 'u', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 8, completion_tokens: 32 } })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  };
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `upstream listening on https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1\n`,
  );
});
