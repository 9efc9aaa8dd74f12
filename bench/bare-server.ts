/** The yardstick: a bare Fastify route on the same TLS setup, answering a fixed body of the size amlite answers. */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [certFile, keyFile, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile, 'utf8');
const app = Fastify({ https: { cert: readFileSync(certFile), key: readFileSync(keyFile) } });
app.get('/*', async (_req, reply) => reply.type('application/json').send(body));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`bare listening on https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
