/**
 * The stores side by side: throughput of a mixed management-plane workload on the embedded SQLite file (one
 * process), on PostgreSQL with one amlite process, and on PostgreSQL with two amlite processes sharing the database
 * (clients alternate between them, as behind a round-robin load balancer). PostgreSQL is a throwaway server from
 * Debian's package, durable like the SQLite file (fsync on; SQLite fsyncs its WAL before each answer, by group commit).
 *
 * `stores()` is what bench/run.ts calls; `storesMarkdown()` renders its rows. BENCH_STORE_SECONDS (3) sets how long
 * each configuration is loaded per round, BENCH_STORE_ROUNDS (3) how many rounds, BENCH_STORE_CLIENTS (8) by how
 * many clients at once; BENCH_STORES_BEFORE=DIR adds another checkout's PostgreSQL rows in the same rounds.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { devToken } from '../src/auth/bearer.js';
import { loadOrCreateCertificate } from '../src/tls.js';
import { postgresMissing, startPostgres } from '../test/support/postgres.js';
import { amliteCommand, certDir, cpuMs, startProcess, type Proc } from './lib.js';

const SUB = '00000000-0000-0000-0000-0000000000b5';
const API = '2025-09-01';
const WS = `/subscriptions/${SUB}/resourceGroups/bench-stores/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
const ENDPOINT = JSON.stringify({
  location: 'eastus',
  sku: { name: 'Consumption' },
  properties: {
    authMode: 'Key',
    modelSettings: { modelId: 'azureml://registries/azureml-meta/models/Llama-2-7b-chat' },
  },
});

/** The mix, in percent: a request picks one of these. */
const MIX = { get: 40, create: 20, patch: 15, list: 15, delete: 10 } as const;

export interface StoreRun {
  store: 'sqlite' | 'postgres';
  processes: number;
  clients: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** A row of the BENCH_STORES_BEFORE checkout. */
  before?: boolean;
  /** Answers other than the expected 2xx (each is reported; a 5xx would be a bug). */
  unexpected: number;
  /**
   * CPU time per request (µs, from /proc) in the measured seconds: the amlite processes together, the PostgreSQL
   * server's processes together (its backends, WAL writer, checkpointer) and the load generator (this process).
   */
  cpuUs?: { amlite: number; postgres?: number; client: number };
  /** Requests per second of every round (the fields above are the median round's). */
  rounds?: number[];
  /**
   * PostgreSQL runs: the median over rounds of this run's requests per second ÷ one PostgreSQL process's in the same
   * round. Rounds are loaded back to back, so a paired ratio cancels most of the noise a shared machine adds.
   */
  perRoundVsOneProcess?: number;
}

export interface StoresResults {
  mix: typeof MIX;
  runs: StoreRun[];
  /** Why PostgreSQL was left out, when it was. */
  skipped?: string;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

/**
 * Starts the three configurations together, then loads them in turn, round after round (noise on a shared machine
 * hits all alike), and reports for each the round with the median throughput.
 */
export async function stores(): Promise<StoresResults> {
  const seconds = Number(process.env.BENCH_STORE_SECONDS) || 3;
  const rounds = Number(process.env.BENCH_STORE_ROUNDS) || 3;
  const clients = Number(process.env.BENCH_STORE_CLIENTS) || 8;
  await loadOrCreateCertificate(certDir);
  const scratch = mkdtempSync(join(tmpdir(), 'amlite-bench-stores-'));
  const started: { stop(): Promise<void> }[] = [];
  const configs: {
    store: StoreRun['store'];
    processes: number;
    urls: string[];
    pids: number[];
    runs: StoreRun[];
    before?: boolean;
  }[] = [];
  let pgPort: number | undefined;
  let skipped = postgresMissing();
  try {
    const one = await startAmlite(join(scratch, 'sqlite'), []);
    started.push(one);
    configs.push({ store: 'sqlite', processes: 1, urls: [one.url], pids: [one.child.pid!], runs: [] });
    if (!skipped) {
      const pg = await startPostgres({ durable: true });
      started.push(pg);
      pgPort = pg.port;
      // BENCH_STORES_BEFORE=DIR (another checkout's sources, e.g. a `git worktree`): its PostgreSQL rows are
      // loaded in the same rounds, beside this checkout's.
      const trees = [undefined, ...(beforeTree ? [beforeTree] : [])];
      for (const [tree, processes] of trees.flatMap((t) => [1, 2].map((n) => [t, n] as const))) {
        const url = await pg.freshDatabase('amlite_bench');
        const urls: string[] = [];
        const pids: number[] = [];
        for (let i = 0; i < processes; i++) {
          const dir = join(scratch, `pg-${tree ? 'before-' : ''}${processes}-${i}`);
          const server = await startAmlite(dir, ['--store', url], tree);
          started.unshift(server); // stopped before PostgreSQL
          urls.push(server.url);
          pids.push(server.child.pid!);
        }
        configs.push({ store: 'postgres', processes, urls, pids, runs: [], ...(tree ? { before: true } : {}) });
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const c of configs)
        c.runs.push({
          store: c.store,
          processes: c.processes,
          ...(c.before ? { before: true } : {}),
          ...(await mixedLoad(c.urls, clients, seconds, `r${round}`, {
            amlite: c.pids,
            postgres: c.store === 'postgres' && pgPort ? postgresPids(pgPort) : [],
          })),
        });
    }
  } catch (e) {
    skipped ??= `PostgreSQL runs failed: ${(e as Error).message}`;
    if (!configs[0]?.runs.length) throw e;
  } finally {
    for (const s of started) await s.stop().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
  const runs = configs
    .filter((c) => c.runs.length)
    .map((c) => {
      const onePg = configs.find((o) => o.store === 'postgres' && o.processes === 1 && o.before === c.before)?.runs;
      const sorted = [...c.runs].sort((x, y) => x.requestsPerSecond - y.requestsPerSecond);
      const paired =
        c.store === 'postgres' && onePg?.length === c.runs.length
          ? {
              perRoundVsOneProcess: round(
                quantile(
                  c.runs.map((r, i) => r.requestsPerSecond / onePg[i].requestsPerSecond),
                  0.5,
                ),
              ),
            }
          : {};
      return { ...sorted[Math.floor(sorted.length / 2)], rounds: c.runs.map((r) => r.requestsPerSecond), ...paired };
    });
  return { mix: MIX, runs, ...(skipped ? { skipped } : {}) };
}

/** Markdown rows for bench/results/latest.md: one table, each configuration beside SQLite's single process. */
export function storesMarkdown(r: StoresResults | undefined): string {
  if (!r?.runs.length) return '';
  const base = r.runs.find((x) => x.store === 'sqlite')?.requestsPerSecond;
  const mix = Object.entries(r.mix)
    .map(([k, v]) => `${v}% ${k}`)
    .join(', ');
  const lines = [
    '',
    '',
    `Stores: mixed management requests (${mix}) from ${r.runs[0].clients} clients, median of ${r.runs[0].rounds?.length ?? 1} rounds of ${r.runs[0].seconds} s, durable commits (SQLite group commit, PostgreSQL fsync on).`,
    '',
    '| store | amlite processes | requests/s | median / p99 | vs SQLite | ÷ 1 PostgreSQL process, per round | CPU µs/request: amlite + PostgreSQL + client | unexpected answers |',
    '|---|---|---|---|---|---|---|---|',
    ...r.runs.map(
      (x) =>
        `| ${x.store === 'sqlite' ? 'SQLite file' : 'PostgreSQL'}${x.before ? ' (before)' : ''} | ${x.processes} | ${Math.round(x.requestsPerSecond)} | ${x.p50Ms} / ${x.p99Ms} ms | ${base ? round(x.requestsPerSecond / base) : '–'} | ${x.perRoundVsOneProcess ?? '–'} | ${cpuCell(x.cpuUs)} | ${x.unexpected} |`,
    ),
  ];
  if (r.skipped) lines.push('', `PostgreSQL left out: ${r.skipped}`);
  return lines.join('\n');
}

const cpuCell = (c: StoreRun['cpuUs']) => (c ? `${c.amlite} + ${c.postgres ?? '–'} + ${c.client}` : '–');

// ---------- amlite processes ----------

const beforeTree = process.env.BENCH_STORES_BEFORE ? resolve(process.env.BENCH_STORES_BEFORE) : undefined;

function startAmlite(dataDir: string, extra: string[], tree?: string): Promise<Proc> {
  // Compiled, as `npm start` runs it and as the other sections start it (this checkout's build or the before tree's).
  const args = [
    ...amliteCommand(tree),
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--cert',
    join(certDir, 'cert.pem'),
    '--key',
    join(certDir, 'key.pem'),
    '--log-level',
    'warn',
    ...extra,
  ];
  return startProcess(args, /^amlite listening on (\S+)/);
}

/** The PostgreSQL server listening on `port`: its postmaster and the postmaster's children (Linux /proc). */
function postgresPids(port: number): number[] {
  const procs: { pid: number; ppid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      procs.push({ pid: Number(d), ppid, cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch {
      // gone meanwhile
    }
  }
  const master = procs.find((p) => p.cmd.includes('postgres') && p.cmd.includes(`\0${port}\0`))?.pid;
  return master ? [master, ...procs.filter((p) => p.ppid === master).map((p) => p.pid)] : [];
}

const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);

// ---------- the workload ----------

interface Answer {
  status: number;
  ms: number;
}

function client(ca: Buffer) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  const headers = { authorization: `Bearer ${devToken()}`, 'content-type': 'application/json' };
  return (base: string, method: string, path: string, body?: string) =>
    new Promise<Answer>((resolvePromise, reject) => {
      const t0 = performance.now();
      const req = request(`${base}${path}`, { method, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      });
      req.on('error', reject);
      req.end(body);
    });
}

/** `clients` loops for `seconds`, each owning its endpoints, spreading requests over `urls` in turn. */
async function mixedLoad(
  urls: string[],
  clients: number,
  seconds: number,
  prefix: string,
  pids: { amlite: number[]; postgres: number[] },
): Promise<Omit<StoreRun, 'store' | 'processes'>> {
  const ca = readFileSync(join(certDir, 'cert.pem'));
  const setup = client(ca);
  const ok = (a: Answer, what: string) => {
    if (a.status >= 300) throw new Error(`${what}: ${a.status}`);
  };
  ok(
    await setup(
      urls[0],
      'PUT',
      `/subscriptions/${SUB}/resourceGroups/bench-stores?api-version=2025-04-01`,
      '{"location":"eastus"}',
    ),
    'resource group',
  );
  ok(await setup(urls[0], 'PUT', `${WS}?api-version=${API}`, '{"location":"eastus","properties":{}}'), 'workspace');

  const latencies: number[] = [];
  let unexpected = 0;
  const warmUpMs = 1000;
  const t0 = performance.now();
  const measureFrom = t0 + warmUpMs;
  const end = measureFrom + seconds * 1000;
  const picks = Object.entries(MIX).flatMap(([op, pct]) => Array<string>(pct).fill(op));
  // CPU is read when the measured seconds start and end (the warm-up's requests are not counted).
  let cpu0: { amlite: number; postgres: number; client: number } | undefined;
  let cpu1: typeof cpu0 = undefined;
  const readCpu = () => {
    const own = process.cpuUsage();
    return { amlite: cpuOf(pids.amlite), postgres: cpuOf(pids.postgres), client: (own.user + own.system) / 1000 };
  };
  const cpuAt = setTimeout(() => (cpu0 = readCpu()), warmUpMs);

  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const send = client(ca);
      const mine: string[] = [];
      let made = 0;
      let turn = c;
      for (;;) {
        const now = performance.now();
        if (now >= end) break;
        const measuring = now >= measureFrom;
        const base = urls[turn++ % urls.length];
        let op = picks[Math.floor(Math.random() * picks.length)];
        if (!mine.length && op !== 'list') op = 'create';
        const pick = () => mine[Math.floor(Math.random() * mine.length)];
        let a: Answer;
        let expected: number[];
        switch (op) {
          case 'create': {
            const name = `${prefix}c${c}-e${made++}`;
            a = await send(base, 'PUT', `${WS}/serverlessEndpoints/${name}?api-version=${API}`, ENDPOINT);
            expected = [201];
            if (a.status === 201) mine.push(name);
            break;
          }
          case 'get':
            a = await send(base, 'GET', `${WS}/serverlessEndpoints/${pick()}?api-version=${API}`);
            expected = [200];
            break;
          case 'patch':
            a = await send(
              base,
              'PATCH',
              `${WS}/serverlessEndpoints/${pick()}?api-version=${API}`,
              JSON.stringify({ tags: { n: String(made) } }),
            );
            expected = [202];
            break;
          case 'list':
            a = await send(base, 'GET', `${WS}/serverlessEndpoints?api-version=${API}`);
            expected = [200];
            break;
          default: {
            const name = mine.splice(Math.floor(Math.random() * mine.length), 1)[0];
            a = await send(base, 'DELETE', `${WS}/serverlessEndpoints/${name}?api-version=${API}`);
            expected = [202];
          }
        }
        if (!measuring) continue;
        latencies.push(a.ms);
        if (!expected.includes(a.status)) {
          if (unexpected++ < 5) process.stderr.write(`bench stores: ${op} answered ${a.status}\n`);
        }
      }
    }),
  );
  // Read when the last measured request has its answer (each started within the measured seconds).
  if (cpu0) cpu1 = readCpu();
  clearTimeout(cpuAt);
  const perRequest = (key: 'amlite' | 'postgres' | 'client') =>
    cpu0 && cpu1 ? Math.round(((cpu1[key] - cpu0[key]) * 1000) / Math.max(1, latencies.length)) : NaN;
  return {
    clients,
    seconds,
    ...(cpu0 && cpu1
      ? {
          cpuUs: {
            amlite: perRequest('amlite'),
            ...(pids.postgres.length ? { postgres: perRequest('postgres') } : {}),
            client: perRequest('client'),
          },
        }
      : {}),
    requests: latencies.length,
    requestsPerSecond: round(latencies.length / seconds, 0),
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
    unexpected,
  };
}

// `npx tsx bench/stores.ts` runs this section alone.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const r = await stores();
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n${storesMarkdown(r)}\n`);
}
