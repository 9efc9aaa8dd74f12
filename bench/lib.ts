/**
 * What every benchmark section shares: where things live, starting and stopping the processes under test, the load
 * generator (autocannon, in the bench process: never in the process it measures), and statistics.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { autocannon, ResourceManagementClient, type TokenCredential } from '../test/support/bench-clients.js';
import { devToken } from '../src/auth/bearer.js';

export const root = resolve(import.meta.dirname, '..');
export const certDir = join(root, '.amlite-test');
export const certPath = join(certDir, 'cert.pem');
export const keyPath = join(certDir, 'key.pem');
/** Scratch space for one bench run (ignored by git); BENCH_WORK (inside the checkout, e.g. .amlite-bench/mine, for
 * its node_modules) lets two runs share a checkout. */
export const work = process.env.BENCH_WORK ? resolve(process.env.BENCH_WORK) : join(root, '.amlite-bench');
/** Where results go; BENCH_RESULTS elsewhere keeps a trial run (profiling, say) out of latest.json. */
export const resultsDir = process.env.BENCH_RESULTS
  ? resolve(process.env.BENCH_RESULTS)
  : join(root, 'bench', 'results');

export const SUB = '00000000-0000-0000-0000-0000000000b1';
export const API = '2025-09-01';
export const token = devToken();
export const authHeaders = { authorization: `Bearer ${token}` };
const credential: TokenCredential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
export const armClient = (url: string) => new ResourceManagementClient(credential, SUB, { endpoint: url });

export const endpointBody = {
  location: 'eastus',
  sku: { name: 'Consumption' },
  properties: {
    authMode: 'Key',
    modelSettings: { modelId: 'azureml://registries/azureml-meta/models/Llama-2-7b-chat' },
  },
};

export const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/** Options every section sees: --cpu-prof starts amlite with V8's profiler, writing to bench/results/profiles/. */
export interface BenchOptions {
  cpuProf: boolean;
}

// ---------- processes ----------

export interface Proc {
  child: ChildProcess;
  /** What the ready line captured (the URL). */
  url: string;
  /** Milliseconds from spawn to the ready line. */
  readyMs: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
/** Kills what is still running (each child by its own pid): the bench never leaves servers behind. */
export function killAll(): void {
  for (const c of live) c.kill('SIGTERM');
}

/** Starts `node <args>` and resolves with the first capture of `ready` in its stdout. Gives up after `timeoutMs`. */
export async function startProcess(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<Proc> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      const m = ready.exec(line);
      if (!m) continue;
      const readyMs = performance.now() - t0;
      child.stdout!.resume();
      return { child, url: m[1], readyMs, stop: () => stopProcess(child) };
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${args.join(' ')} exited before it was ready`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * How amlite is started: the compiled CLI (what `npm start` / `npx amlite` run), built once per bench run from this
 * checkout — or, for the "before" side (BENCH_BEFORE=DIR, e.g. a `git worktree add DIR HEAD`), from another
 * checkout's sources, measured side by side in the same rounds.
 */
const builds = new Map<string, string[]>();
export const beforeTree = process.env.BENCH_BEFORE ? resolve(process.env.BENCH_BEFORE) : undefined;
export function amliteCommand(tree: string = root): string[] {
  const known = builds.get(tree);
  if (known) return known;
  const out = join(work, tree === root ? 'dist' : 'dist-before');
  let command: string[];
  // BENCH_REUSE_BUILD=1 keeps an earlier build (to try a change in the built files while profiling).
  if (process.env.BENCH_REUSE_BUILD === '1' && existsSync(join(out, 'main.js'))) command = [join(out, 'main.js')];
  else {
    rmSync(out, { recursive: true, force: true });
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(tree, 'tsconfig.build.json'),
        '--outDir',
        out,
        '--sourceMap',
        'false',
      ],
      { cwd: tree, encoding: 'utf8' },
    );
    if (existsSync(join(out, 'main.js'))) command = [join(out, 'main.js')];
    else {
      process.stderr.write(
        `bench: could not build amlite from ${tree} (${r.stdout}${r.stderr}); running it through tsx instead\n`,
      );
      command = ['--import', 'tsx', join(tree, 'src', 'main.ts')];
    }
  }
  builds.set(tree, command);
  return command;
}

export interface AmliteOptions {
  dataDir: string;
  inMemory?: boolean;
  catalog?: string;
  cpuProf?: string;
  /** Which sources: this checkout (default) or the BENCH_BEFORE one. */
  tree?: string;
}

export async function startAmlite(o: AmliteOptions): Promise<Proc> {
  const args = [
    ...(o.cpuProf
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          join(resultsDir, 'profiles'),
          '--cpu-prof-name',
          `${o.cpuProf}-${Date.now()}.cpuprofile`,
        ]
      : []),
    ...amliteCommand(o.tree),
    '--port',
    '0',
    '--data-dir',
    o.dataDir,
    '--cert',
    certPath,
    '--key',
    keyPath,
    '--log-level',
    'warn',
    ...(o.inMemory ? ['--in-memory'] : []),
    ...(o.catalog ? ['--catalog', o.catalog] : []),
  ];
  return startProcess(args, /^amlite listening on (\S+)/);
}

/** Resident memory of a process we started, in MB (Linux; undefined elsewhere). */
export function rssMb(pid: number | undefined): { rssMb?: number; peakRssMb?: number; anonRssMb?: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
    // RssAnon is the process's own memory; the rest of VmRSS is shared files (code, a memory-mapped database).
    return {
      rssMb: round(kb('VmRSS') / 1024, 1),
      peakRssMb: round(kb('VmHWM') / 1024, 1),
      anonRssMb: round(kb('RssAnon') / 1024, 1),
    };
  } catch {
    return {};
  }
}

export const fileMb = (...files: string[]) =>
  round(files.filter(existsSync).reduce((n, f) => n + statSync(f).size, 0) / 2 ** 20, 1);

// ---------- statistics ----------

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
export const median = (xs: number[]) => quantile(xs, 0.5);
export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
export const stat = (xs: number[]) => ({
  n: xs.length,
  p50Ms: round(quantile(xs, 0.5)),
  p99Ms: round(quantile(xs, 0.99)),
});

export async function timeLoop(n: number, fn: () => Promise<unknown>, maxMs = 120_000): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + maxMs;
  for (let i = 0; i < n && performance.now() < end; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

// ---------- load ----------

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'PUT' | 'PATCH' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Varies the path per request: gets the connection's number and its request count. */
  path?: (connection: number, n: number) => string;
  /** The server's process id: its CPU time per request is reported too (steadier than req/s on a shared machine). */
  pid?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** The server process's CPU time (user + system) per request, in µs (Linux). */
  cpuUsPerRequest?: number;
}

/** CPU time a process has used so far, in ms (Linux /proc; undefined elsewhere). */
export function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * Runs autocannon against one URL for `seconds` with `connections` keep-alive connections (TLS without verification:
 * the same for amlite and its yardsticks). Latencies are collected at sub-millisecond precision.
 */
export async function load(spec: LoadSpec, connections: number, seconds: number): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  const instance = autocannon({
    url: spec.url,
    connections,
    duration: seconds,
    method: spec.method ?? 'GET',
    headers: { ...spec.headers, ...(spec.body ? { 'content-type': 'application/json' } : {}) },
    body: spec.body,
    timeout: 30,
    requests: spec.path
      ? [
          {
            setupRequest: (req: { path: string }, context: { conn?: number; n?: number }) => {
              context.conn ??= next++;
              context.n = (context.n ?? 0) + 1;
              req.path = spec.path!(context.conn, context.n);
              return req;
            },
          },
        ]
      : undefined,
  } as autocannon.Options) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
  });
  const cpu0 = cpuMs(spec.pid);
  const r = await instance;
  const cpu1 = cpuMs(spec.pid);
  return {
    requests: r.requests.total,
    rps: round(r.requests.total / (r.duration || seconds), 0),
    p50Ms: round(quantile(latencies, 0.5) ?? NaN),
    p99Ms: round(quantile(latencies, 0.99) ?? NaN),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    ...(cpu0 !== undefined && cpu1 !== undefined && r.requests.total
      ? { cpuUsPerRequest: round(((cpu1 - cpu0) * 1000) / r.requests.total, 1) }
      : {}),
  };
}

export interface Comparison {
  amlite: LoadResult;
  yardstick: LoadResult;
  /** Median over rounds of amlite's req/s divided by the yardstick's in the same round. */
  ratio: number;
  /** Median over rounds of the yardstick's server CPU per request divided by amlite's (1 = as cheap as the yardstick). */
  cpuRatio?: number;
  /** The BENCH_BEFORE build, loaded in the same rounds. */
  before?: { amlite: LoadResult; ratio: number; cpuRatio?: number };
}

/**
 * amlite and a yardstick (and the "before" build, when given), one after the other, `rounds` times, so that noise
 * on a shared machine hits all alike; reports for each the round with the median req/s, and the median of the
 * per-round ratios to the yardstick.
 */
export async function compare(
  ours: LoadSpec,
  theirs: LoadSpec,
  connections: number,
  seconds: number,
  rounds: number,
  before?: LoadSpec,
  warmSeconds = 3,
): Promise<Comparison> {
  const sides = before ? [ours, before, theirs] : [ours, theirs];
  // Warm all up (JIT, caches, connections): the first seconds of a fresh process are much slower.
  for (const side of sides) await load(side, connections, warmSeconds);
  const runs: LoadResult[][] = sides.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, side] of sides.entries()) runs[i].push(await load(side, connections, seconds));
  }
  const bad = runs.flat().find((x) => x.errors || x.non2xx);
  if (bad)
    throw new Error(
      `load run had ${bad.errors} errors and ${bad.non2xx} non-2xx answers (${ours.method ?? 'GET'} ${ours.url})`,
    );
  const yard = runs.at(-1)!;
  const mid = (xs: LoadResult[]) => [...xs].sort((x, y) => x.rps - y.rps)[Math.floor(xs.length / 2)];
  const versus = (xs: LoadResult[]) => {
    const cpu = xs
      .map((x, i) =>
        x.cpuUsPerRequest && yard[i].cpuUsPerRequest ? yard[i].cpuUsPerRequest! / x.cpuUsPerRequest : NaN,
      )
      .filter((x) => !Number.isNaN(x));
    return {
      amlite: mid(xs),
      ratio: round(median(xs.map((x, i) => x.rps / yard[i].rps))),
      ...(cpu.length ? { cpuRatio: round(median(cpu)) } : {}),
    };
  };
  return { ...versus(runs[0]), yardstick: mid(yard), ...(before ? { before: versus(runs[1]) } : {}) };
}
