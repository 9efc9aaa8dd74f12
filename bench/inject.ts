/**
 * What the in-process A/B benchmarks (`reads-inject.ts`, `writes-inject.ts`) share: a build of amlite started in this
 * process on the in-memory store, with a workspace of `endpoints` serverless endpoints, driven through Fastify's
 * `inject` (the whole pipeline, without TLS and socket writes).
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { API, SUB, endpointBody, token } from './lib.js';

export interface InjectApp {
  inject(o: { method: string; url: string; headers?: Record<string, string>; payload?: unknown }): Promise<{
    statusCode: number;
    body: string;
  }>;
}
type Start = (o: Record<string, unknown>) => Promise<{ app: InjectApp; close(): Promise<void> }>;

export const WS = `/subscriptions/${SUB}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
export const item = (n: number) => `${WS}/serverlessEndpoints/ep-${n}?api-version=${API}`;
export const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', host: '127.0.0.1' };

export interface Injected {
  name: string;
  app: InjectApp;
  /** Sends a request; anything but a 2xx throws. */
  call(method: string, url: string, payload?: unknown): Promise<{ statusCode: number; body: string }>;
  close(): Promise<void>;
}

/** The build in `dist` (a `tsc -p tsconfig.build.json` output), started with a workspace of `endpoints` endpoints. */
export async function startInjected(name: string, dist: string, endpoints: number): Promise<Injected> {
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
  for (let i = 0; i < endpoints; i++) await call('PUT', item(i), endpointBody);
  return {
    name,
    app: server.app,
    call,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The builds to compare: BENCH_DISTS=name=dir,… or this checkout's and BENCH_BEFORE's, as `npm run bench` built them. */
export const distsFromEnv = (work: string): [string, string][] =>
  process.env.BENCH_DISTS?.split(',').map((d) => d.split('=') as [string, string]) ?? [
    ['after', join(work, 'dist')],
    ['before', join(work, 'dist-before')],
  ];

/**
 * Runs `batch` for every side in turn, `batches` rounds with the order rotated each round (every side shares every
 * disturbance alike), after one warm-up round; each side's results in round order.
 */
export async function alternate<S extends { name: string }>(
  sides: S[],
  batches: number,
  batch: (s: S) => Promise<number>,
): Promise<Map<string, number[]>> {
  for (const s of sides) await batch(s);
  const out = new Map(sides.map((s) => [s.name, [] as number[]]));
  for (let b = 0; b < batches; b++) {
    const order = sides.slice(b % sides.length).concat(sides.slice(0, b % sides.length));
    for (const s of order) out.get(s.name)!.push(await batch(s));
  }
  return out;
}
