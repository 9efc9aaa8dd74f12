/**
 * The read path's own CPU cost, steadier than `npm run bench` on a busy machine: builds (this checkout's and the
 * BENCH_BEFORE one's, as `reads-ab.ts` or `npm run bench` compiled them into .amlite-bench/dist and dist-before) and
 * a bare Fastify route answering the same bytes run in ONE process on the in-memory store; GET by id and LIST (a
 * page of 100) go through Fastify's `inject` (the whole pipeline, hooks and all, without TLS and socket writes), in
 * alternating batches. Prints each side's process CPU per request (µs), median and 10th percentile.
 *
 *   npx tsx bench/reads-inject.ts [batches (9)] [requests per batch (400)]
 * Other builds: BENCH_DISTS=name=dir,name=dir,…; BENCH_READS=get (or list) runs one kind of request.
 */
import Fastify from 'fastify';
import { alternate, distsFromEnv, headers, item, startInjected, WS, type InjectApp } from './inject.js';
import { API, median, quantile, round, work } from './lib.js';

const batches = Number(process.argv[2]) || 9;
const perBatch = Number(process.argv[3]) || 400;
const ENDPOINTS = 120;
const LIST = `${WS}/serverlessEndpoints?api-version=${API}`;

type Side = { name: string; app: InjectApp; close(): Promise<void> };

/** A bare Fastify route answering the bytes `like` answers. */
async function bare(like: Side): Promise<Side> {
  const get = (await like.app.inject({ method: 'GET', url: item(0), headers })).body;
  const list = (await like.app.inject({ method: 'GET', url: LIST, headers })).body;
  const app = Fastify();
  app.get('/*', async (req, reply) =>
    reply.type('application/json').send(/\/serverlessendpoints(\?|$)/i.test(req.url) ? list : get),
  );
  await app.ready();
  return { name: 'bare', app: app as unknown as InjectApp, close: () => app.close() };
}

async function batch(s: Side, op: 'get' | 'list', n: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await s.app.inject({ method: 'GET', url: op === 'get' ? item(i % ENDPOINTS) : LIST, headers });
    if (res.statusCode !== 200) throw new Error(`${s.name} ${op}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  }
  const cpu = process.cpuUsage(cpu0);
  return round((cpu.user + cpu.system) / n, 1);
}

const sides: Side[] = [];
for (const [name, dir] of distsFromEnv(work)) {
  const started = await startInjected(name, dir, ENDPOINTS);
  await new Promise((r) => setTimeout(r, 1000)); // the fast profile's operations finish
  sides.push(started);
}
sides.push(await bare(sides[0]));
try {
  const ops = (process.env.BENCH_READS?.split(',') ?? ['get', 'list']) as ('get' | 'list')[];
  for (const op of ops) {
    const n = op === 'list' ? Math.ceil(perBatch / 10) : perBatch;
    const cpu = await alternate(sides, batches, (s) => batch(s, op, n));
    for (const [name, xs] of cpu)
      console.log(`${op} ${name}: median ${median(xs)}, p10 ${quantile(xs, 0.1)} µs CPU/request (${xs.join(', ')})`);
  }
} finally {
  for (const s of sides) await s.close();
}
