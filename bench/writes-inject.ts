/**
 * The write path's own CPU cost, steadier than `npm run bench` on a busy machine: two builds (this checkout's and
 * the BENCH_BEFORE one's, as `writes-ab.ts` or `npm run bench` compiled them into .amlite-bench/dist and dist-before)
 * run in ONE process on the in-memory store, and PUT (replace) and PATCH (tags) requests go through Fastify's
 * `inject` (the whole pipeline, hooks and all, without TLS and socket writes), in alternating batches. Prints each
 * build's process CPU per request (µs) per batch and the median. Both builds share every disturbance alike.
 *
 *   npx tsx bench/writes-inject.ts [batches (9)] [requests per batch (400)]
 * Other builds: BENCH_DISTS=name=dir,name=dir,… (each dir a `tsc -p tsconfig.build.json --outDir dir` output);
 * BENCH_METHODS=PUT (or PATCH) runs one kind of request.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
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
const ENDPOINTS = 16;
const WS = `/subscriptions/${SUB}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
const item = (n: number) => `${WS}/serverlessEndpoints/ep-${n}?api-version=${API}`;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', host: '127.0.0.1' };

async function started(name: string, dist: string) {
  const { startAmlite } = (await import(pathToFileURL(join(dist, 'server.js')).href)) as { startAmlite: Start };
  const dataDir = mkdtempSync(join(tmpdir(), `amlite-inject-${name}-`));
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
  return { name, call, server, dataDir };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

/** Sends `n` requests one after another, over the endpoints in turn (each one's operation finishes in between). */
async function batch(s: Awaited<ReturnType<typeof started>>, method: 'PUT' | 'PATCH', n: number): Promise<number> {
  await settle();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const url = item(i % ENDPOINTS);
    for (let tries = 0; ; tries++) {
      try {
        await s.call(method, url, method === 'PUT' ? endpointBody : { tags: { bench: `patched-${i}` } });
        break;
      } catch (e) {
        // 409 while the last operation on it runs: let it finish (the fast profile's delay) and try again.
        if (tries > 50 || !String(e).includes(': 409 ')) throw e;
        await settle();
      }
    }
  }
  await settle();
  const cpu = process.cpuUsage(cpu0);
  return round((cpu.user + cpu.system) / n, 1);
}

const dists = process.env.BENCH_DISTS?.split(',').map((d) => d.split('=') as [string, string]) ?? [
  ['after', join(work, 'dist')],
  ['before', join(work, 'dist-before')],
];
const sides = [];
for (const [name, dir] of dists) sides.push(await started(name, dir));
try {
  const methods = (process.env.BENCH_METHODS?.split(',') ?? ['PUT', 'PATCH']) as ('PUT' | 'PATCH')[];
  for (const method of methods) {
    for (const s of sides) await batch(s, method, perBatch / 2);
    const cpu = new Map(sides.map((s) => [s.name, [] as number[]]));
    for (let b = 0; b < batches; b++) {
      const order = sides.slice(b % sides.length).concat(sides.slice(0, b % sides.length));
      for (const s of order) cpu.get(s.name)!.push(await batch(s, method, perBatch));
    }
    for (const [name, xs] of cpu) {
      // Contention only adds CPU time: the lowest batches are the closest to the code's own cost.
      const low = quantile(xs, 0.1);
      console.log(`${method} ${name}: median ${median(xs)}, p10 ${low} µs CPU/request (${xs.join(', ')})`);
    }
  }
} finally {
  for (const s of sides) {
    await s.server.close();
    rmSync(s.dataDir, { recursive: true, force: true });
  }
}
