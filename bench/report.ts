/** Renders bench results (and, when given, a baseline run's: the "before" column) as the Markdown tables the README shows. */
import type { ManagementResults, OpResult } from './management.js';
import type { ScaleResults, SizeResult } from './scale.js';
import type { DataPlaneResults } from './dataplane.js';
import type { Comparison, LoadResult } from './lib.js';

export interface Results {
  date?: string;
  node?: string;
  cpus?: number;
  /** What was measured, when not this checkout's sources (BENCH_TREE). */
  tree?: string;
  management?: ManagementResults;
  scale?: ScaleResults;
  dataPlane?: DataPlaneResults;
  [section: string]: unknown;
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (x >= 100 ? int(x) : String(x));
const kb = (bytes: number) => (bytes >= 10_000 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`);
const secs = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${int(x)} ms`);
const load = (r: LoadResult) => `${int(r.rps)} req/s${r.cpuUsPerRequest ? ` (${int(r.cpuUsPerRequest)} µs CPU)` : ''}`;
const lat = (c: Comparison, side: 'amlite' | 'yardstick') => `${c[side].p50Ms} / ${c[side].p99Ms} ms`;
const pair = (throughput: Comparison, latency: Comparison | undefined, side: 'amlite' | 'yardstick') =>
  latency ? `${load(throughput[side])} · ${lat(latency, side)}` : load(throughput[side]);
const ratios = (c: Comparison) => `${c.ratio}${c.cpuRatio !== undefined ? ` (CPU ${c.cpuRatio})` : ''}`;

type Cell = (r: Results) => string | undefined;
/** Label, amlite, yardstick, ratio, and what the "before" column shows from the baseline (default: the ratio, else amlite). */
type Row = [string, Cell, Cell, Cell, Cell?];

function table(header: string[], rows: Row[], results: Results, baseline?: Results): string {
  const safe = (f: (r: Results) => string | undefined, r: Results | undefined) => {
    if (!r) return undefined;
    try { return f(r); } catch { return undefined; }
  };
  const lines = [
    `| ${[...header, ...(baseline ? ['before'] : [])].join(' | ')} |`,
    `|${[...header, ...(baseline ? ['before'] : [])].map(() => '---').join('|')}|`,
  ];
  for (const [label, a, b, ratio, before] of rows) {
    if (safe(a, results) === undefined) continue;
    const cells = [label, safe(a, results), safe(b, results) ?? '–', safe(ratio, results) ?? '–'];
    if (baseline) cells.push(safe(before ?? ratio, baseline) ?? safe(a, baseline) ?? '–');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function render(results: Results, baseline?: Results): string {
  const out: string[] = [];
  const m = results.management;
  if (m) {
    const op = (name: string, pick: (m: ManagementResults) => OpResult): Row => [
      `${name} (${kb(pick(m).bodyBytes)} body)`,
      (r) => pair(pick(r.management!).throughput, pick(r.management!).latency, 'amlite'),
      (r) => pair(pick(r.management!).throughput, pick(r.management!).latency, 'yardstick'),
      (r) => ratios(pick(r.management!).throughput),
    ];
    const memory = (name: string, pick: (m: NonNullable<ManagementResults['inMemory']>) => Comparison): Row => [
      `${name}, in-memory store (no fsync)`,
      (r) => pair(pick(r.management!.inMemory!), undefined, 'amlite'),
      (r) => pair(pick(r.management!.inMemory!), undefined, 'yardstick'),
      (r) => ratios(pick(r.management!.inMemory!)),
    ];
    out.push(`**Management plane** — HTTPS keep-alive, ${m.store}. Each cell: req/s with ${m.connections} connections (the server's CPU time per request), then p50 / p99 latency with 1 connection; medians of ${m.rounds} alternating ${m.seconds}-second rounds. Ratio: amlite's req/s ÷ the bare route's in the same round (and the bare route's CPU per request ÷ amlite's).`, '');
    out.push(table(['request', 'amlite', 'bare Fastify, same TLS and body size', 'ratio'], [
      op('GET by id', (x) => x.get),
      op('PUT (replace)', (x) => x.put),
      op('PATCH (tags; 202)', (x) => x.patch),
      op('LIST, a page of 100', (x) => x.list),
      memory('PUT (replace)', (x) => x.put),
      memory('PATCH (tags; 202)', (x) => x.patch),
      ['SDK create-and-wait (`@azure/arm-resources`, whole LRO), p50 / p99', (r) => `${r.management!.createAndWait.p50Ms} / ${r.management!.createAndWait.p99Ms} ms`, () => undefined, () => undefined],
    ], results, baseline), '');
  }
  const d = results.dataPlane;
  if (d) {
    out.push(`**Data plane** — chat completions through a serverless endpoint (key auth, \`openai-compatible\` backend) ÷ the same upstream called directly over the same TLS; req/s with ${d.connections} connections, then p50 / p99 with 1 connection.`, '');
    const row = (name: string, pick: (d: DataPlaneResults) => { throughput: Comparison; latency: Comparison }): Row => [
      name,
      (r) => pair(pick(r.dataPlane!).throughput, pick(r.dataPlane!).latency, 'amlite'),
      (r) => pair(pick(r.dataPlane!).throughput, pick(r.dataPlane!).latency, 'yardstick'),
      (r) => String(pick(r.dataPlane!).throughput.ratio),
    ];
    out.push(table(['request', 'through amlite', 'upstream direct', 'ratio'], [
      row('chat completion', (x) => x.chat),
      row('chat completion, streamed (32 tokens)', (x) => x.streamedChat),
      ['time to first token, p50 / p99 (1 connection)',
        (r) => `${r.dataPlane!.timeToFirstToken.amlite.p50Ms} / ${r.dataPlane!.timeToFirstToken.amlite.p99Ms} ms`,
        (r) => `${r.dataPlane!.timeToFirstToken.direct.p50Ms} / ${r.dataPlane!.timeToFirstToken.direct.p99Ms} ms`,
        (r) => `+${r.dataPlane!.timeToFirstToken.overheadP50Ms} ms`],
    ], results, baseline), '');
  }
  const s = results.scale;
  if (s) {
    const size = (r: Results, which: 'small' | 'large') => r.scale![which];
    const row = (label: string, f: (x: SizeResult) => string, growth: (r: ScaleResults) => string | undefined): Row =>
      [label, (r) => f(size(r, 'small')), (r) => f(size(r, 'large')), (r) => growth(r.scale!), (r) => `${f(size(r, 'large'))} (${int(size(r, 'large').endpoints)})`];
    out.push(`**Scale** — the default file store; one workspace with ${int(s.small.endpoints)}, then ${int(s.large.endpoints)} serverless endpoints, and ${int(s.small.workspaces)} workspaces in one resource group (seeded through the Store interface). The last column is the large store ÷ the small one, per request: 1 is flat.`, '');
    out.push(table(['measure', `${int(s.small.endpoints)} endpoints`, `${int(s.large.endpoints)} endpoints`, 'growth'], [
      row('page through every endpoint (100 a page): total · per page p50 / p99', (x) => `${secs(x.listEndpoints.totalMs)} · ${x.listEndpoints.perPage.p50Ms} / ${x.listEndpoints.perPage.p99Ms} ms`, (g) => `×${g.growth.listPerPageP50} per page`),
      row('GET an endpoint at random, 1 connection: p50 / p99', (x) => `${x.getEndpoint.p50Ms} / ${x.getEndpoint.p99Ms} ms`, (g) => `×${g.growth.getP99} p99`),
      row(`page through ${int(s.small.workspaces)} workspaces · GET one at random p50 / p99`, (x) => `${secs(x.listWorkspaces.totalMs)} · ${x.getWorkspace.p50Ms} / ${x.getWorkspace.p99Ms} ms`, () => undefined),
      row('resident memory after the runs: all (own, without mapped files) · peak', (x) => `${x.rssMb} MB (${x.anonRssMb} MB) · ${x.peakRssMb} MB`, (g) => `×${g.growth.rss} own`),
      row('store size on disk', (x) => `${x.storeMb} MB`, (g) => `×${g.growth.storePerResource} per resource`),
      row('seeding time (5,000 a transaction)', (x) => secs(x.seedMs), () => undefined),
      ['start-up: spawn `amlite` to `/health` 200, median', (r) => `empty store: ${ms(r.scale!.startup.emptyMs)} ms`, (r) => `${ms(r.scale!.startup.largeMs)} ms`, (r) => `×${Math.round((r.scale!.startup.largeMs / r.scale!.startup.emptyMs) * 100) / 100}`, (r) => `${ms(r.scale!.startup.emptyMs)} / ${ms(r.scale!.startup.largeMs)} ms`],
    ], results, baseline), '');
  }
  for (const [name, value] of Object.entries(results)) {
    if (['date', 'node', 'cpus', 'tree', 'management', 'scale', 'dataPlane'].includes(name)) continue;
    if (value && typeof value === 'object' && typeof (value as { markdown?: unknown }).markdown === 'string') out.push((value as { markdown: string }).markdown, '');
  }
  return out.join('\n');
}

/** The line under the tables: when and where the run was made, and what "before" is. */
export function footer(results: Results, baseline?: Results): string {
  return `\nRun ${results.date ?? ''} on Node ${results.node ?? ''}, ${results.cpus ?? '?'} CPUs${baseline ? `; "before" is the run of ${baseline.date ?? 'the baseline'} (bench/results/baseline.json${baseline.tree ? `, ${String(baseline.tree)}` : ''}): its ratio, or its value` : ''}.`;
}
