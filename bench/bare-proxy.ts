/**
 * The floor of any proxy in Node: a bare HTTPS server relaying each request to the upstream on keep-alive connections
 * (node:https, the same pool settings as the openai-compatible backend) and piping the answer back byte for byte — no
 * framework, no auth, no JSON. Served with amlite's certificate (usage: bare-proxy.ts <cert> <key> <upstream base>), so
 * amlite ÷ this is amlite's own cost and this ÷ the upstream is the hop's (TLS both ways, HTTP parsing, the client).
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';

const [certFile, keyFile, upstream] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
    const up = request(`${upstream}/chat/completions`, { method: 'POST', agent, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { 'content-type': String(answer.headers['content-type']) });
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `bare proxy listening on https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`,
  );
});
