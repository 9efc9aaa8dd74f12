/**
 * The yardstick for the management plane: bare Fastify routes on the same TLS setup (same certificate, same port
 * kind), answering fixed bodies of the sizes amlite answers: GET of one resource, GET of a list page, PUT (200 and the
 * resource), PATCH (202, empty). The JSON request bodies of PUT and PATCH are parsed, as amlite parses them.
 * Usage: bare-server.ts <cert> <key> <dir with get.json, list.json, put.json>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';

const [certFile, keyFile, dir] = process.argv.slice(2);
const body = (name: string) => readFileSync(join(dir, name), 'utf8');
const get = body('get.json');
const list = body('list.json');
const put = body('put.json');
const app = Fastify({ https: { cert: readFileSync(certFile), key: readFileSync(keyFile) } });
app.get('/*', async (req, reply) =>
  reply.type('application/json').send(/\/serverlessendpoints(\?|$)/i.test(req.url) ? list : get),
);
app.put('/*', async (_req, reply) => reply.type('application/json').send(put));
app.patch('/*', async (_req, reply) => reply.code(202).send());
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(
  `bare listening on https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`,
);
// Exit cleanly on SIGTERM, so that `node --cpu-prof` can write its profile.
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
