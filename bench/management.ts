/**
 * The management plane as clients feel it: create-and-wait through @azure/arm-resources (the whole LRO), then GET,
 * PUT (replace), PATCH and LIST over keep-alive HTTPS with autocannon, each beside a bare Fastify route answering a
 * body of the same size on the same TLS setup.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  API, SUB, armClient, authHeaders, certPath, compare, endpointBody, keyPath, num, startAmlite, startProcess, stat, timeLoop, work,
  type BenchOptions, type Comparison, type LoadSpec,
} from './lib.js';

export interface OpResult {
  bodyBytes: number;
  /** Req/s with many connections (the server saturated): the headline ratio. */
  throughput: Comparison;
  /** One connection, one request at a time: latency without queueing. */
  latency: Comparison;
}

export interface ManagementResults {
  store: string;
  connections: number;
  seconds: number;
  rounds: number;
  createAndWait: { n: number; p50Ms: number; p99Ms: number };
  get: OpResult;
  put: OpResult;
  patch: OpResult;
  list: OpResult;
  /** PUT and PATCH again on the in-memory store (--in-memory): amlite's own cost without the disk's fsync. */
  inMemory?: { put: Comparison; patch: Comparison };
}

export async function management(opts: BenchOptions): Promise<ManagementResults> {
  const nCreate = num('BENCH_CREATES', 200);
  const connections = num('BENCH_CONNECTIONS', 8);
  const seconds = num('BENCH_SECONDS', 2);
  const rounds = num('BENCH_ROUNDS', 3);
  const inMemory = process.env.BENCH_STORE === 'memory';
  const dataDir = join(work, 'management');
  rmSync(dataDir, { recursive: true, force: true });
  const ws = `/subscriptions/${SUB}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
  const amlite = await startAmlite({ dataDir, inMemory, cpuProf: opts.cpuProf ? 'management' : undefined });
  const url = amlite.url;
  try {
    const client = armClient(url);
    await client.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
    await client.resources.beginCreateOrUpdateByIdAndWait(ws, API, { location: 'eastus', properties: {} });

    // Create-and-wait through the official client: the whole LRO as a user's code sees it.
    let i = 0;
    await timeLoop(20, () => client.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/warm-${i++}`, API, endpointBody));
    i = 0;
    const creates = await timeLoop(nCreate, async () => {
      const r = await client.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/ep-${i++}`, API, endpointBody);
      if ((r.properties as { provisioningState?: string }).provisioningState !== 'Succeeded') throw new Error('create did not succeed');
    });

    // The bodies amlite answers, for the yardstick to answer bodies of the same size.
    const item = (n: number) => `${ws}/serverlessEndpoints/ep-${n}?api-version=${API}`;
    const listPath = `${ws}/serverlessEndpoints?api-version=${API}`;
    const putBody = JSON.stringify(endpointBody);
    const patchBody = JSON.stringify({ tags: { bench: 'patched' } });
    const json = { ...authHeaders, 'content-type': 'application/json' };
    const bodies = join(dataDir, 'bodies');
    mkdirSync(bodies, { recursive: true });
    const capture = async (name: string, path: string, init: RequestInit, status: number) => {
      const res = await fetch(`${url}${path}`, { ...init, headers: { ...json, ...(init.headers as object) } });
      const text = await res.text();
      if (res.status !== status) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text.slice(0, 300)}`);
      writeFileSync(join(bodies, name), text);
      return Buffer.byteLength(text);
    };
    const bytes = {
      get: await capture('get.json', item(0), {}, 200),
      put: await capture('put.json', item(0), { method: 'PUT', body: putBody }, 200),
      patch: await capture('patch.json', item(1), { method: 'PATCH', body: patchBody }, 202),
      list: await capture('list.json', listPath, {}, 200),
    };
    const bare = await startProcess(['--import', 'tsx', 'bench/bare-server.ts', certPath, keyPath, bodies], /^bare listening on (\S+)/);
    try {
      // Each connection works on its own endpoints, so that no write ever waits for another connection's.
      const perConnection = Math.max(1, Math.floor(nCreate / connections));
      const rotating = (conn: number, n: number) => item((conn % connections) * perConnection + (n % perConnection));
      const specs = (base: string, pid: number | undefined): Record<'get' | 'put' | 'patch' | 'list', LoadSpec> => ({
        get: { url: `${base}${item(0)}`, headers: authHeaders, path: rotating, pid },
        put: { url: `${base}${item(0)}`, method: 'PUT', headers: authHeaders, body: putBody, path: rotating, pid },
        patch: { url: `${base}${item(0)}`, method: 'PATCH', headers: authHeaders, body: patchBody, path: rotating, pid },
        list: { url: `${base}${listPath}`, headers: authHeaders, pid },
      });
      const ours = specs(url, amlite.child.pid), theirs = specs(bare.url, bare.child.pid);
      const run = async (op: 'get' | 'put' | 'patch' | 'list'): Promise<OpResult> => ({
        bodyBytes: bytes[op],
        throughput: await compare(ours[op], theirs[op], connections, seconds, rounds),
        latency: await compare(ours[op], theirs[op], 1, seconds, rounds),
      });
      const get = await run('get');
      const put = await run('put');
      const patch = await run('patch');
      const list = await run('list');
      await amlite.stop();

      // PUT and PATCH on the in-memory store: the same requests without waiting for the disk.
      const memory = inMemory ? undefined : await startAmlite({ dataDir: join(dataDir, 'memory'), inMemory: true });
      let inMemoryResults: ManagementResults['inMemory'];
      if (memory) {
        try {
          const c = armClient(memory.url);
          await c.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
          await c.resources.beginCreateOrUpdateByIdAndWait(ws, API, { location: 'eastus', properties: {} });
          for (let k = 0; k < perConnection * connections; k++) await c.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/ep-${k}`, API, endpointBody);
          const mem = specs(memory.url, memory.child.pid);
          inMemoryResults = {
            put: await compare(mem.put, theirs.put, connections, seconds, rounds),
            patch: await compare(mem.patch, theirs.patch, connections, seconds, rounds),
          };
        } finally {
          await memory.stop();
        }
      }
      const { n, p50Ms, p99Ms } = stat(creates);
      return {
        store: inMemory ? 'SQLite in memory' : 'SQLite file (WAL, synchronous=FULL): the default',
        connections, seconds, rounds,
        createAndWait: { n, p50Ms, p99Ms },
        get, put, patch, list,
        ...(inMemoryResults ? { inMemory: inMemoryResults } : {}),
      };
    } finally {
      await bare.stop();
    }
  } finally {
    await amlite.stop();
  }
}
