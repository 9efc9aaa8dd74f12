/**
 * A quick A/B of the write path: PUT (replace) and PATCH (tags) on the in-memory store (`--durable`: the default
 * SQLite file, group-committed), this checkout beside the
 * BENCH_BEFORE one, alternating in the same rounds; prints each side's server CPU per request (µs), per round and the
 * median. Minutes instead of the whole management section, for trying a change to the write path.
 *
 *   BENCH_BEFORE=/tmp/before npx tsx bench/writes-ab.ts [rounds (5)] [--cpu-prof] [--durable]
 * (run it as `npm run bench` runs: NODE_EXTRA_CA_CERTS set to .amlite-test/cert.pem.) BENCH_REUSE_BUILD=1 skips the
 * builds; BENCH_CONNECTIONS (8), BENCH_SECONDS (2).
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import {
  API,
  armClient,
  authHeaders,
  beforeTree,
  endpointBody,
  killAll,
  load,
  median,
  num,
  work,
  startAmlite,
  type LoadSpec,
  type Proc,
} from './lib.js';

const WS =
  '/subscriptions/00000000-0000-0000-0000-0000000000b1/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws';
const ENDPOINTS = 32;
const item = (n: number) => `${WS}/serverlessEndpoints/ep-${n}?api-version=${API}`;

const rounds = Number(process.argv[2]) || 5;
const connections = num('BENCH_CONNECTIONS', 8);
const seconds = num('BENCH_SECONDS', 2);
const cpuProf = process.argv.includes('--cpu-prof');
const inMemory = !process.argv.includes('--durable');

async function prepared(name: string, tree?: string): Promise<Proc> {
  const dataDir = join(work, `writes-ab-${name}`);
  rmSync(dataDir, { recursive: true, force: true });
  const p = await startAmlite({ dataDir, inMemory, tree, cpuProf: cpuProf ? `writes-${name}` : undefined });
  const client = armClient(p.url);
  await client.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
  await client.resources.beginCreateOrUpdateByIdAndWait(WS, API, { location: 'eastus', properties: {} });
  for (let i = 0; i < ENDPOINTS; i++)
    await client.resources.beginCreateOrUpdateByIdAndWait(`${WS}/serverlessEndpoints/ep-${i}`, API, endpointBody);
  return p;
}

const spec = (p: Proc, method: 'PUT' | 'PATCH'): LoadSpec => ({
  url: `${p.url}${item(0)}`,
  method,
  headers: authHeaders,
  body: JSON.stringify(method === 'PUT' ? endpointBody : { tags: { bench: 'patched' } }),
  path: (conn, n) => item((conn % connections) * 4 + (n % 4)),
  pid: p.child.pid,
});

try {
  const sides: [string, Proc][] = [['after', await prepared('after')]];
  if (beforeTree) sides.push(['before', await prepared('before', beforeTree)]);
  for (const method of ['PUT', 'PATCH'] as const) {
    for (const [, p] of sides) await load(spec(p, method), connections, 3);
    const cpu = new Map<string, number[]>(sides.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, p] of sides) {
        const res = await load(spec(p, method), connections, seconds);
        if (res.errors || res.non2xx) throw new Error(`${name} ${method}: ${res.errors} errors, ${res.non2xx} non-2xx`);
        cpu.get(name)!.push(res.cpuUsPerRequest ?? NaN);
      }
    }
    for (const [name, xs] of cpu)
      console.log(`${method} ${name}: median ${median(xs)} µs CPU/request (${xs.join(', ')})`);
  }
  for (const [, p] of sides) await p.stop();
} finally {
  killAll();
}
