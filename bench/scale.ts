/**
 * Scale: a workspace with many serverless endpoints (10,000, then 100,000) and a resource group with 1,000
 * workspaces, in the default file store. Measures paging through the whole list, GET by id at random, resident
 * memory and store size at each size (per-request cost should stay flat as the store grows), and the time from
 * spawning the CLI to /health answering 200, with an empty store and with the large one.
 * Seeding: bench/seed.ts copies one resource created through the API, writing through the Store interface in
 * transactions of 5,000 (see there).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  API,
  SUB,
  armClient,
  beforeTree,
  authHeaders,
  endpointBody,
  fileMb,
  load,
  median,
  num,
  round,
  rssMb,
  startAmlite,
  startProcess,
  stat,
  work,
  type BenchOptions,
  type LoadResult,
} from './lib.js';

export interface SizeResult {
  endpoints: number;
  workspaces: number;
  seedMs: number;
  startupMs: number;
  /** Following nextLink from the first page to the last. */
  listEndpoints: { pages: number; totalMs: number; perPage: { p50Ms: number; p99Ms: number } };
  listWorkspaces: { pages: number; totalMs: number; perPage: { p50Ms: number; p99Ms: number } };
  /** Random endpoints, one connection. */
  getEndpoint: LoadResult;
  getWorkspace: LoadResult;
  rssMb?: number;
  peakRssMb?: number;
  /** Without shared file pages (the code, a memory-mapped database). */
  anonRssMb?: number;
  storeMb: number;
}

export interface ScaleResults {
  seeding: string;
  small: SizeResult;
  large: SizeResult;
  /** Spawn to /health 200, median of several starts. */
  startup: { emptyMs: number; largeMs: number; runs: number };
  /** large ÷ small, per request: 1 is flat. */
  growth: Growth;
  /** The BENCH_BEFORE build on the same stores, measured right after. */
  before?: { small: SizeResult; large: SizeResult; growth: Growth; startup: ScaleResults['startup'] };
  beforeSkipped?: string;
}

interface Growth {
  listPerPageP50: number;
  getP99: number;
  /** Own memory (RssAnon). */ rss: number;
  storePerResource: number;
}

export async function scale(opts: BenchOptions): Promise<ScaleResults> {
  const small = num('BENCH_SCALE_SMALL', 10_000);
  const large = Math.max(small, num('BENCH_SCALE_LARGE', 100_000));
  const nWorkspaces = num('BENCH_WORKSPACES', 1000);
  const seconds = num('BENCH_SECONDS', 2);
  const dataDir = join(work, 'scale');
  const database = join(dataDir, 'amlite.db');
  rmSync(dataDir, { recursive: true, force: true });
  const group = `/subscriptions/${SUB}/resourceGroups/scale`;
  const ws = `${group}/providers/Microsoft.MachineLearningServices/workspaces/big`;

  // The templates, through the API; then the copies, through the store.
  const amlite = await startAmlite({ dataDir });
  const client = armClient(amlite.url);
  await client.resourceGroups.createOrUpdate('scale', { location: 'eastus' });
  await client.resources.beginCreateOrUpdateByIdAndWait(ws, API, {
    location: 'eastus',
    tags: { team: 'bench' },
    properties: { description: 'scale' },
  });
  await client.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/template`, API, endpointBody);
  await amlite.stop();
  const seed = async (templateId: string, prefix: string, from: number, count: number) => {
    if (count <= 0) return 0;
    const t0 = performance.now();
    const p = await startProcess(
      ['--import', 'tsx', 'bench/seed.ts', database, templateId.toLowerCase(), prefix, String(from), String(count)],
      /^(seeded .*)/,
      {},
      300_000,
    );
    await new Promise((r) => (p.child.exitCode !== null ? r(undefined) : p.child.once('exit', r)));
    return performance.now() - t0;
  };

  const startTimed = async (tree?: string) => {
    const t0 = performance.now();
    const p = await startAmlite({ dataDir, tree, cpuProf: opts.cpuProf && !tree ? 'scale' : undefined });
    const res = await fetch(`${p.url}/health`);
    if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
    await res.arrayBuffer();
    return { p, ms: performance.now() - t0 };
  };

  /** Follows nextLink to the end; checks that every item came once. */
  const pageThrough = async (base: string, path: string, expected: number) => {
    let next: string | undefined = `${base}${path}`;
    let items = 0;
    const times: number[] = [];
    const t0 = performance.now();
    for (let guard = 0; next && guard < expected / 50 + 10; guard++) {
      const t = performance.now();
      const res: Response = await fetch(next, { headers: authHeaders });
      const page = (await res.json()) as { value: unknown[]; nextLink?: string };
      times.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`list page answered ${res.status}`);
      items += page.value.length;
      next = page.nextLink;
    }
    if (items !== expected) throw new Error(`paging ${path} gave ${items} items, not ${expected}`);
    const { p50Ms, p99Ms } = stat(times);
    return { pages: times.length, totalMs: round(performance.now() - t0, 0), perPage: { p50Ms, p99Ms } };
  };

  const measure = async (endpoints: number, seedMs: number, tree?: string): Promise<SizeResult> => {
    const { p, ms } = await startTimed(tree);
    try {
      const pick = (n: number) => Math.floor(Math.random() * n);
      const listEndpoints = await pageThrough(p.url, `${ws}/serverlessEndpoints?api-version=${API}`, endpoints);
      const listWorkspaces = await pageThrough(
        p.url,
        `${group}/providers/Microsoft.MachineLearningServices/workspaces?api-version=${API}`,
        nWorkspaces,
      );
      const epPath = () =>
        `${ws}/serverlessEndpoints/ep-${String(pick(endpoints - 1)).padStart(6, '0')}?api-version=${API}`;
      const wsPath = () =>
        `${group}/providers/Microsoft.MachineLearningServices/workspaces/ws-${String(pick(nWorkspaces - 1)).padStart(6, '0')}?api-version=${API}`;
      await load({ url: `${p.url}${epPath()}`, headers: authHeaders, path: epPath }, 1, 1);
      const getEndpoint = await load(
        { url: `${p.url}${epPath()}`, headers: authHeaders, path: epPath, pid: p.child.pid },
        1,
        seconds * 2,
      );
      const getWorkspace = await load(
        { url: `${p.url}${wsPath()}`, headers: authHeaders, path: wsPath, pid: p.child.pid },
        1,
        seconds,
      );
      if (getEndpoint.non2xx || getWorkspace.non2xx) throw new Error('GET by id answered non-2xx');
      return {
        endpoints,
        workspaces: nWorkspaces,
        seedMs: round(seedMs, 0),
        startupMs: round(ms, 0),
        listEndpoints,
        listWorkspaces,
        getEndpoint,
        getWorkspace,
        ...rssMb(p.child.pid),
        storeMb: fileMb(database, `${database}-wal`),
      };
    } finally {
      await p.stop();
    }
  };

  // One endpoint and one workspace exist already (the templates).
  let seedMs = await seed(`${ws}/serverlessEndpoints/template`, 'ep-', 0, small - 1);
  seedMs += await seed(ws, 'ws-', 0, nWorkspaces - 1);
  // The "before" build (BENCH_BEFORE) on the same store, right after; left out if it cannot open it (another schema).
  let beforeFailed: string | undefined;
  const measureBefore = async (endpoints: number, ms: number) => {
    if (!beforeTree || beforeFailed) return undefined;
    try {
      return await measure(endpoints, ms, beforeTree);
    } catch (e) {
      beforeFailed = (e as Error).message;
      return undefined;
    }
  };
  const atSmall = await measure(small, seedMs);
  const beforeSmall = await measureBefore(small, seedMs);
  const largeSeedMs = await seed(`${ws}/serverlessEndpoints/template`, 'ep-', small - 1, large - small);
  const atLarge = await measure(large, largeSeedMs);
  const beforeLarge = await measureBefore(large, largeSeedMs);

  const runs = num('BENCH_STARTS', 3);
  const starts = async (tree?: string) => {
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      const s = await startTimed(tree);
      ms.push(s.ms);
      await s.p.stop();
    }
    return median(ms);
  };
  const largeStarts = await starts();
  const beforeLargeStarts = beforeLarge ? await starts(beforeTree) : undefined;
  rmSync(dataDir, { recursive: true, force: true });
  const emptyStarts = await starts();
  const beforeEmptyStarts = beforeLarge ? await starts(beforeTree) : undefined;
  const growth = (a: SizeResult, b: SizeResult) => ({
    listPerPageP50: round(b.listEndpoints.perPage.p50Ms / a.listEndpoints.perPage.p50Ms),
    getP99: round(b.getEndpoint.p99Ms / a.getEndpoint.p99Ms),
    rss: round((b.anonRssMb ?? NaN) / (a.anonRssMb ?? NaN)),
    storePerResource: round(b.storeMb / (large + nWorkspaces) / (a.storeMb / (small + nWorkspaces))),
  });
  return {
    seeding:
      'bench/seed.ts: copies of a resource created through the API, written through the Store interface (SqliteStore.commit) in transactions of 5,000',
    small: atSmall,
    large: atLarge,
    startup: { emptyMs: round(emptyStarts, 0), largeMs: round(largeStarts, 0), runs },
    growth: growth(atSmall, atLarge),
    ...(beforeSmall && beforeLarge
      ? {
          before: {
            small: beforeSmall,
            large: beforeLarge,
            growth: growth(beforeSmall, beforeLarge),
            startup: { emptyMs: round(beforeEmptyStarts!, 0), largeMs: round(beforeLargeStarts!, 0), runs },
          },
        }
      : {}),
    ...(beforeFailed ? { beforeSkipped: beforeFailed } : {}),
  };
}
