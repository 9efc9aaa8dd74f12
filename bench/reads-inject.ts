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
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { API, SUB, endpointBody, median, quantile, round, token, work } from './lib.js';

interface App {
  inject(o: { method: string; url: string; headers?: Record<string, string>; payload?: unknown }): Promise<{
    statusCode: number;
    body: string;
  }>;
}
type Start = (o: Record<string, unknown>) => Promise<{ app: App; close(): Promise<void> }>;

const batches = Number(process.argv[2]) || 9;
const perBatch = Number(process.argv[3]) || 400;
const ENDPOINTS = 120;
const WS = `/subscriptions/${SUB}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
const item = (n: number) => `${WS}/serverlessEndpoints/ep-${n}?api-version=${API}`;
const LIST = `${WS}/serverlessEndpoints?api-version=${API}`;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', host: '127.0.0.1' };

type Side = { name: string; app: App; close(): Promise<void> };

async function started(name: string, dist: string): Promise<Side> {
  const { startAmlite } = (await import(pathToFileURL(join(dist, 'server.js')).href)) as { startAmlite: Start };
  const dataDir = mkdtempSync(join(tmpdir(), `amlite-reads-${name}-`));
  const server = await startAmlite({
    port: 0,
    host: '127.0.0.1',
    inMemory: true,
    http: true,
    dataDir,
    logLevel: 'silent',
    profile: 'fast',
  });
  const call = async (method: string, url: string, payload?: unknown) => {
    const res = await server.app.inject({ method, url, headers, payload: payload && JSON.stringify(payload) });
    if (res.statusCode >= 300) throw new Error(`${name} ${method} ${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    return res;
  };
  await call('PUT', `/subscriptions/${SUB}/resourceGroups/bench?api-version=2025-04-01`, { location: 'eastus' });
  await call('PUT', `${WS}?api-version=${API}`, { location: 'eastus', properties: {} });
  for (let i = 0; i < ENDPOINTS; i++) await call('PUT', item(i), endpointBody);
  await new Promise((r) => setTimeout(r, 1000)); // the fast profile's operations finish
  return {
    name,
    app: server.app,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A bare Fastify route answering the bytes `like` answers. */
async function bare(like: Side): Promise<Side> {
  const get = (await like.app.inject({ method: 'GET', url: item(0), headers })).body;
  const list = (await like.app.inject({ method: 'GET', url: LIST, headers })).body;
  const app = Fastify();
  app.get('/*', async (req, reply) =>
    reply.type('application/json').send(/\/serverlessendpoints(\?|$)/i.test(req.url) ? list : get),
  );
  await app.ready();
  return { name: 'bare', app: app as unknown as App, close: () => app.close() };
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

const dists = process.env.BENCH_DISTS?.split(',').map((d) => d.split('=') as [string, string]) ?? [
  ['after', join(work, 'dist')],
  ['before', join(work, 'dist-before')],
];
const sides: Side[] = [];
for (const [name, dir] of dists) sides.push(await started(name, dir));
sides.push(await bare(sides[0]));
try {
  const ops = (process.env.BENCH_READS?.split(',') ?? ['get', 'list']) as ('get' | 'list')[];
  for (const op of ops) {
    const n = op === 'list' ? Math.ceil(perBatch / 10) : perBatch;
    for (const s of sides) await batch(s, op, n);
    const cpu = new Map(sides.map((s) => [s.name, [] as number[]]));
    for (let b = 0; b < batches; b++) {
      const order = sides.slice(b % sides.length).concat(sides.slice(0, b % sides.length));
      for (const s of order) cpu.get(s.name)!.push(await batch(s, op, n));
    }
    for (const [name, xs] of cpu)
      console.log(`${op} ${name}: median ${median(xs)}, p10 ${quantile(xs, 0.1)} µs CPU/request (${xs.join(', ')})`);
  }
} finally {
  for (const s of sides) await s.close();
}
