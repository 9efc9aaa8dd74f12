/**
 * A quick A/B of the read path: GET by id and LIST (a page of 100) on the default file store, this checkout beside
 * the BENCH_BEFORE one and a bare Fastify route answering the same bytes, alternating in the same rounds; prints each
 * side's req/s and server CPU per request (µs), per round and the median, and the ratios to the bare route. Minutes
 * instead of the whole management section, for trying a change to the read path.
 *
 *   BENCH_BEFORE=/tmp/before npx tsx bench/reads-ab.ts [rounds (5)] [--cpu-prof] [--only=get|list]
 * (run it as `npm run bench` runs: NODE_EXTRA_CA_CERTS set to .amlite-test/cert.pem.) BENCH_REUSE_BUILD=1 skips the
 * builds; BENCH_CONNECTIONS (8), BENCH_SECONDS (2).
 */
import { join } from 'node:path';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import {
  API,
  armClient,
  authHeaders,
  beforeTree,
  certPath,
  endpointBody,
  keyPath,
  killAll,
  load,
  median,
  num,
  round,
  startAmlite,
  startProcess,
  work,
  type LoadSpec,
  type Proc,
} from './lib.js';

const WS =
  '/subscriptions/00000000-0000-0000-0000-0000000000b1/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws';
const ENDPOINTS = 120;
const item = (n: number) => `${WS}/serverlessEndpoints/ep-${n}?api-version=${API}`;
const LIST = `${WS}/serverlessEndpoints?api-version=${API}`;

const rounds = Number(process.argv[2]) || 5;
const connections = num('BENCH_CONNECTIONS', 8);
const seconds = num('BENCH_SECONDS', 2);
const cpuProf = process.argv.includes('--cpu-prof');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

async function prepared(name: string, tree?: string): Promise<Proc> {
  const dataDir = join(work, `reads-ab-${name}`);
  rmSync(dataDir, { recursive: true, force: true });
  const p = await startAmlite({ dataDir, tree, cpuProf: cpuProf ? `reads-${name}` : undefined });
  const client = armClient(p.url);
  await client.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
  await client.resources.beginCreateOrUpdateByIdAndWait(WS, API, { location: 'eastus', properties: {} });
  await Promise.all(
    Array.from({ length: 8 }, async (_, c) => {
      for (let i = c; i < ENDPOINTS; i += 8)
        await client.resources.beginCreateOrUpdateByIdAndWait(`${WS}/serverlessEndpoints/ep-${i}`, API, endpointBody);
    }),
  );
  return p;
}

async function bare(p: Proc): Promise<Proc> {
  const dir = join(work, 'reads-ab-bodies');
  mkdirSync(dir, { recursive: true });
  for (const [name, path] of [
    ['get.json', item(0)],
    ['list.json', LIST],
    ['put.json', item(0)],
  ]) {
    const res = await fetch(`${p.url}${path}`, { headers: authHeaders });
    writeFileSync(join(dir, name), await res.text());
  }
  return startProcess(['--import', 'tsx', 'bench/bare-server.ts', certPath, keyPath, dir], /^bare listening on (\S+)/);
}

const spec = (p: Proc, op: 'get' | 'list'): LoadSpec =>
  op === 'get'
    ? {
        url: `${p.url}${item(0)}`,
        headers: authHeaders,
        path: (c, n) => item((c * 13 + n) % ENDPOINTS),
        pid: p.child.pid,
      }
    : { url: `${p.url}${LIST}`, headers: authHeaders, pid: p.child.pid };

try {
  const sides: [string, Proc][] = [['after', await prepared('after')]];
  if (beforeTree) sides.push(['before', await prepared('before', beforeTree)]);
  sides.push(['bare', await bare(sides[0][1])]);
  for (const op of ['get', 'list'] as const) {
    if (only && only !== op) continue;
    for (const [, p] of sides) await load(spec(p, op), connections, 3);
    const cpu = new Map<string, number[]>(sides.map(([name]) => [name, []]));
    const rps = new Map<string, number[]>(sides.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, p] of sides) {
        const res = await load(spec(p, op), connections, seconds);
        if (res.errors || res.non2xx) throw new Error(`${name} ${op}: ${res.errors} errors, ${res.non2xx} non-2xx`);
        cpu.get(name)!.push(res.cpuUsPerRequest ?? NaN);
        rps.get(name)!.push(res.rps);
      }
    }
    const bareRps = rps.get('bare')!,
      bareCpu = cpu.get('bare')!;
    for (const [name] of sides) {
      const c = cpu.get(name)!,
        q = rps.get(name)!;
      const ratio = median(q.map((x, i) => x / bareRps[i]));
      const cpuRatio = median(c.map((x, i) => bareCpu[i] / x));
      console.log(
        `${op} ${name}: ${median(q)} req/s, ${median(c)} µs CPU/request (${c.join(', ')})` +
          (name === 'bare' ? '' : ` ratio ${round(ratio)} (CPU ${round(cpuRatio)})`),
      );
    }
  }
  for (const [, p] of sides) await p.stop();
} finally {
  killAll();
}
