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
import { alternate, distsFromEnv, item, startInjected, type Injected } from './inject.js';
import { endpointBody, median, quantile, round, work } from './lib.js';

const batches = Number(process.argv[2]) || 9;
const perBatch = Number(process.argv[3]) || 400;
const ENDPOINTS = 16;

const settle = () => new Promise((r) => setTimeout(r, 30));

/** Sends `n` requests one after another, over the endpoints in turn (each one's operation finishes in between). */
async function batch(s: Injected, method: 'PUT' | 'PATCH', n: number): Promise<number> {
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

const sides: Injected[] = [];
for (const [name, dir] of distsFromEnv(work)) sides.push(await startInjected(name, dir, ENDPOINTS));
try {
  const methods = (process.env.BENCH_METHODS?.split(',') ?? ['PUT', 'PATCH']) as ('PUT' | 'PATCH')[];
  for (const method of methods) {
    const cpu = await alternate(sides, batches, (s) => batch(s, method, perBatch));
    for (const [name, xs] of cpu) {
      // Contention only adds CPU time: the lowest batches are the closest to the code's own cost.
      const low = quantile(xs, 0.1);
      console.log(`${method} ${name}: median ${median(xs)}, p10 ${low} µs CPU/request (${xs.join(', ')})`);
    }
  }
} finally {
  for (const s of sides) await s.close();
}
