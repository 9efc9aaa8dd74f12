/**
 * The management plane as clients feel it: create-and-wait through @azure/arm-resources (the whole LRO), then GET,
 * PUT (replace), PATCH and LIST over keep-alive HTTPS with autocannon, each beside a bare Fastify route answering a
 * body of the same size on the same TLS setup. With BENCH_BEFORE, the "before" build runs beside them, in the same
 * rounds, on an identical store.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  API,
  SUB,
  armClient,
  authHeaders,
  beforeTree,
  certPath,
  compare,
  endpointBody,
  keyPath,
  num,
  startAmlite,
  startProcess,
  stat,
  timeLoop,
  work,
  type BenchOptions,
  type Comparison,
  type LoadSpec,
  type Proc,
} from './lib.js';

export interface OpResult {
  bodyBytes: number;
  /** Req/s with many connections (the server saturated): the headline ratio. */
  throughput: Comparison;
  /** One connection, one request at a time: latency without queueing. */
  latency: Comparison;
}

type Stat = { n: number; p50Ms: number; p99Ms: number };

export interface ManagementResults {
  store: string;
  connections: number;
  seconds: number;
  rounds: number;
  createAndWait: Stat & { before?: Stat };
  get: OpResult;
  put: OpResult;
  patch: OpResult;
  list: OpResult;
  /** PUT and PATCH again on the in-memory store (--in-memory): amlite's own cost without the disk's fsync. */
  inMemory?: { put: Comparison; patch: Comparison };
}

const WS = `/subscriptions/${SUB}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
const item = (n: number) => `${WS}/serverlessEndpoints/ep-${n}?api-version=${API}`;
const LIST = `${WS}/serverlessEndpoints?api-version=${API}`;
const PUT_BODY = JSON.stringify(endpointBody);
const PATCH_BODY = JSON.stringify({ tags: { bench: 'patched' } });

/** The resource group and the workspace; `creates` endpoints come after (timed). */
async function prepare(url: string): Promise<ReturnType<typeof armClient>> {
  const client = armClient(url);
  await client.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
  await client.resources.beginCreateOrUpdateByIdAndWait(WS, API, { location: 'eastus', properties: {} });
  return client;
}

export async function management(opts: BenchOptions): Promise<ManagementResults> {
  const nCreate = num('BENCH_CREATES', 200);
  const connections = num('BENCH_CONNECTIONS', 8);
  const seconds = num('BENCH_SECONDS', 2);
  const rounds = num('BENCH_ROUNDS', 3);
  const inMemory = process.env.BENCH_STORE === 'memory';
  const dataDir = join(work, 'management');
  rmSync(dataDir, { recursive: true, force: true });
  const started: Proc[] = [];
  const start = async (o: Parameters<typeof startAmlite>[0]) => {
    const p = await startAmlite(o);
    started.push(p);
    return p;
  };
  try {
    const amlite = await start({ dataDir, inMemory, cpuProf: opts.cpuProf ? 'management' : undefined });
    const before = beforeTree
      ? await start({ dataDir: join(dataDir, 'before'), inMemory, tree: beforeTree })
      : undefined;
    const clients = [await prepare(amlite.url), ...(before ? [await prepare(before.url)] : [])];

    // Create-and-wait through the official client: the whole LRO as a user's code sees it (the builds alternating).
    const times: number[][] = clients.map(() => []);
    for (const client of clients) {
      let w = 0;
      await timeLoop(20, () =>
        client.resources.beginCreateOrUpdateByIdAndWait(`${WS}/serverlessEndpoints/warm-${w++}`, API, endpointBody),
      );
    }
    for (let i = 0; i < nCreate; i++) {
      for (const [k, client] of clients.entries()) {
        const t0 = performance.now();
        const r = await client.resources.beginCreateOrUpdateByIdAndWait(
          `${WS}/serverlessEndpoints/ep-${i}`,
          API,
          endpointBody,
        );
        times[k].push(performance.now() - t0);
        if ((r.properties as { provisioningState?: string }).provisioningState !== 'Succeeded')
          throw new Error('create did not succeed');
      }
    }

    // The bodies amlite answers, for the yardstick to answer bodies of the same size.
    const bodies = join(dataDir, 'bodies');
    mkdirSync(bodies, { recursive: true });
    const capture = async (name: string, path: string, init: RequestInit, status: number) => {
      const res = await fetch(`${amlite.url}${path}`, {
        ...init,
        headers: { ...authHeaders, 'content-type': 'application/json' },
      });
      const text = await res.text();
      if (res.status !== status)
        throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text.slice(0, 300)}`);
      writeFileSync(join(bodies, name), text);
      return Buffer.byteLength(text);
    };
    const bytes = {
      get: await capture('get.json', item(0), {}, 200),
      put: await capture('put.json', item(0), { method: 'PUT', body: PUT_BODY }, 200),
      patch: await capture('patch.json', item(1), { method: 'PATCH', body: PATCH_BODY }, 202),
      list: await capture('list.json', LIST, {}, 200),
    };
    const bare = await startProcess(
      ['--import', 'tsx', 'bench/bare-server.ts', certPath, keyPath, bodies],
      /^bare listening on (\S+)/,
    );
    started.push(bare);

    // Each connection works on its own endpoints, so that no write ever waits for another connection's.
    const perConnection = Math.max(1, Math.floor(nCreate / connections));
    const rotating = (conn: number, n: number) => item((conn % connections) * perConnection + (n % perConnection));
    const specs = (p: Proc): Record<'get' | 'put' | 'patch' | 'list', LoadSpec> => ({
      get: { url: `${p.url}${item(0)}`, headers: authHeaders, path: rotating, pid: p.child.pid },
      put: {
        url: `${p.url}${item(0)}`,
        method: 'PUT',
        headers: authHeaders,
        body: PUT_BODY,
        path: rotating,
        pid: p.child.pid,
      },
      patch: {
        url: `${p.url}${item(0)}`,
        method: 'PATCH',
        headers: authHeaders,
        body: PATCH_BODY,
        path: rotating,
        pid: p.child.pid,
      },
      list: { url: `${p.url}${LIST}`, headers: authHeaders, pid: p.child.pid },
    });
    const ours = specs(amlite),
      theirs = specs(bare),
      old = before && specs(before);
    const run = async (op: 'get' | 'put' | 'patch' | 'list'): Promise<OpResult> => ({
      bodyBytes: bytes[op],
      throughput: await compare(ours[op], theirs[op], connections, seconds, rounds, old?.[op]),
      latency: await compare(ours[op], theirs[op], 1, seconds, rounds, old?.[op]),
    });
    const get = await run('get');
    const put = await run('put');
    const patch = await run('patch');
    const list = await run('list');
    await amlite.stop();
    await before?.stop();

    // PUT and PATCH on the in-memory store: the same requests without waiting for the disk.
    let inMemoryResults: ManagementResults['inMemory'];
    if (!inMemory) {
      const memory = await start({ dataDir: join(dataDir, 'memory'), inMemory: true });
      const memoryBefore = beforeTree
        ? await start({ dataDir: join(dataDir, 'memory-before'), inMemory: true, tree: beforeTree })
        : undefined;
      for (const p of [memory, ...(memoryBefore ? [memoryBefore] : [])]) {
        const c = await prepare(p.url);
        for (let k = 0; k < perConnection * connections; k++)
          await c.resources.beginCreateOrUpdateByIdAndWait(`${WS}/serverlessEndpoints/ep-${k}`, API, endpointBody);
      }
      const mem = specs(memory),
        memOld = memoryBefore && specs(memoryBefore);
      inMemoryResults = {
        put: await compare(mem.put, theirs.put, connections, seconds, rounds, memOld?.put),
        patch: await compare(mem.patch, theirs.patch, connections, seconds, rounds, memOld?.patch),
      };
    }
    return {
      store: inMemory ? 'SQLite in memory' : 'SQLite file (WAL, group commit: fsynced before each answer): the default',
      connections,
      seconds,
      rounds,
      createAndWait: { ...stat(times[0]), ...(times[1] ? { before: stat(times[1]) } : {}) },
      get,
      put,
      patch,
      list,
      ...(inMemoryResults ? { inMemory: inMemoryResults } : {}),
    };
  } finally {
    for (const p of started) await p.stop();
  }
}
