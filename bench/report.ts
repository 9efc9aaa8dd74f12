/**
 * Renders bench results as the Markdown tables the README shows. The "before" column comes from the BENCH_BEFORE
 * build measured side by side in the same run when there is one, else from a baseline run (bench/results/baseline.json).
 */
import type { ManagementResults } from './management.js';
import type { ScaleResults, SizeResult } from './scale.js';
import type { DataPlaneResults } from './dataplane.js';
import type { Comparison, LoadResult } from './lib.js';

export interface Results {
  date?: string;
  node?: string;
  cpus?: number;
  /** The sources measured as "before", side by side (BENCH_BEFORE). */
  before?: string;
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
const lat = (r: LoadResult) => `${r.p50Ms} / ${r.p99Ms} ms`;
const ratios = (c: { ratio: number; cpuRatio?: number }) =>
  `**${c.ratio}**${c.cpuRatio !== undefined ? ` (CPU ${c.cpuRatio})` : ''}`;
/** A proxy's req/s ratio, and its CPU per request as a multiple of the upstream's (the data plane's target). */
const proxyRatio = (c: { ratio: number; cpuRatio?: number }) =>
  `**${c.ratio}**${c.cpuRatio ? ` (CPU ×${Math.round(10 / c.cpuRatio) / 10})` : ''}`;

interface Pair {
  throughput: Comparison;
  latency?: Comparison;
}
const amliteCell = (p: Pair) => `${load(p.throughput.amlite)}${p.latency ? ` · ${lat(p.latency.amlite)}` : ''}`;
const yardstickCell = (p: Pair) =>
  `${load(p.throughput.yardstick)}${p.latency ? ` · ${lat(p.latency.yardstick)}` : ''}`;
/** The before build's ratio, req/s and latency, measured in the same rounds. */
const beforeCell = (p: Pair) =>
  p.throughput.before &&
  `${ratios(p.throughput.before)} · ${load(p.throughput.before.amlite)}${p.latency?.before ? ` · ${lat(p.latency.before.amlite)}` : ''}`;

type Cell = (r: Results) => string | undefined;
/**
 * Label, amlite, yardstick, ratio, and the "before" cell: `sideBySide` reads the same run's BENCH_BEFORE figures;
 * without them, `fromBaseline` (default: the ratio cell, else the amlite cell) reads the baseline run.
 */
interface Row {
  label: string;
  amlite: Cell;
  yardstick?: Cell;
  ratio?: Cell;
  sideBySide?: Cell;
  fromBaseline?: Cell;
}

function table(header: string[], rows: Row[], results: Results, baseline?: Results): string {
  const safe = (f: Cell | undefined, r: Results | undefined) => {
    if (!f || !r) return undefined;
    try {
      return f(r) || undefined;
    } catch {
      return undefined;
    }
  };
  const before = (row: Row) =>
    safe(row.sideBySide, results) ?? safe(row.fromBaseline ?? row.ratio, baseline) ?? safe(row.amlite, baseline);
  const withBefore = rows.some((row) => before(row) !== undefined);
  const head = [...header, ...(withBefore ? ['before'] : [])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const a = safe(row.amlite, results);
    if (a === undefined) continue;
    const cells = [row.label, a, safe(row.yardstick, results) ?? '–', safe(row.ratio, results) ?? '–'];
    if (withBefore) cells.push(before(row) ?? '–');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function render(results: Results, baseline?: Results): string {
  const out: string[] = [];
  const m = results.management;
  if (m) {
    const op = (name: string, pick: (m: ManagementResults) => Pair | undefined): Row => ({
      label: name,
      amlite: (r) => amliteCell(pick(r.management!)!),
      yardstick: (r) => yardstickCell(pick(r.management!)!),
      ratio: (r) => ratios(pick(r.management!)!.throughput),
      sideBySide: (r) => beforeCell(pick(r.management!)!),
    });
    const memory = (c?: Comparison) => (c ? { throughput: c } : undefined);
    out.push(
      `**Management plane** — HTTPS with keep-alive; ${m.store}. Each cell: req/s with ${m.connections} connections (and the server's CPU time per request), then p50 / p99 latency with 1 connection; the median of ${m.rounds} alternating ${m.seconds}-second rounds. **Ratio**: amlite's req/s ÷ the bare route's, in the same rounds (and in brackets the bare route's CPU per request ÷ amlite's).`,
      '',
    );
    out.push(
      table(
        ['request', 'amlite', 'bare Fastify route: same TLS, same body size', 'ratio'],
        [
          op(`GET by id (${kb(m.get.bodyBytes)})`, (x) => x.get),
          op(`PUT, replace (${kb(m.put.bodyBytes)})`, (x) => x.put),
          op('PATCH, tags (202, no body)', (x) => x.patch),
          op(`LIST, a page of 100 (${kb(m.list.bodyBytes)})`, (x) => x.list),
          op('PUT, in-memory store (no fsync)', (x) => memory(x.inMemory?.put)),
          op('PATCH, in-memory store (no fsync)', (x) => memory(x.inMemory?.patch)),
          {
            label: 'SDK create-and-wait (`@azure/arm-resources`, the whole LRO), p50 / p99',
            amlite: (r) => `${r.management!.createAndWait.p50Ms} / ${r.management!.createAndWait.p99Ms} ms`,
            sideBySide: (r) =>
              r.management!.createAndWait.before &&
              `${r.management!.createAndWait.before.p50Ms} / ${r.management!.createAndWait.before.p99Ms} ms`,
          },
        ],
        results,
        baseline,
      ),
      '',
    );
  }
  const d = results.dataPlane;
  if (d) {
    out.push(
      `**Data plane** — chat completions through a serverless endpoint (key auth, \`openai-compatible\` backend) and the same upstream called directly over the same TLS: req/s with ${d.connections} connections (the server's CPU per request: amlite's, or the upstream's), then p50 / p99 with 1 connection. **Ratio**: through amlite ÷ direct (and CPU ×N: amlite's CPU per request ÷ the upstream's). The floor rows put a bare Node HTTPS proxy (\`bench/bare-proxy.ts\`: the same agent, bytes piped) where amlite stands.`,
      '',
    );
    const row = (name: string, pick: (d: DataPlaneResults) => Pair): Row => ({
      label: name,
      amlite: (r) => amliteCell(pick(r.dataPlane!)),
      yardstick: (r) => yardstickCell(pick(r.dataPlane!)),
      ratio: (r) => proxyRatio(pick(r.dataPlane!).throughput),
      sideBySide: (r) => {
        const { throughput, latency } = pick(r.dataPlane!);
        return (
          throughput.before &&
          `${proxyRatio(throughput.before)} · ${load(throughput.before.amlite)}${latency?.before ? ` · ${lat(latency.before.amlite)}` : ''}`
        );
      },
    });
    /** The bare Node proxy in amlite's place (bench/bare-proxy.ts): what any proxy costs; its "before" is amlite. */
    const floor = (name: string, pick: (b: NonNullable<DataPlaneResults['bareProxy']>) => Comparison): Row => ({
      label: name,
      amlite: (r) => load(pick(r.dataPlane!.bareProxy!).amlite),
      yardstick: (r) => load(pick(r.dataPlane!.bareProxy!).yardstick),
      ratio: (r) => proxyRatio(pick(r.dataPlane!.bareProxy!)),
    });
    const ttft = (r: Results) => r.dataPlane!.timeToFirstToken;
    out.push(
      table(
        ['request', 'through amlite', 'upstream direct', 'ratio'],
        [
          row('chat completion', (x) => x.chat),
          row('chat completion, streamed (32 tokens)', (x) => x.streamedChat),
          floor("the floor: a bare Node HTTPS proxy in amlite's place, chat", (b) => b.chat),
          floor('the floor: a bare Node HTTPS proxy, streamed', (b) => b.streamedChat),
          {
            label: 'chat completion, upstream taking 20 ms per answer (req/s, more connections)',
            amlite: (r) => {
              const s = r.dataPlane!.slowChat!;
              return `${load(s.throughput.amlite)} (${s.connections} connections, ${s.upstreamMs} ms upstream)`;
            },
            yardstick: (r) => load(r.dataPlane!.slowChat!.throughput.yardstick),
            ratio: (r) => proxyRatio(r.dataPlane!.slowChat!.throughput),
            sideBySide: (r) => {
              const b = r.dataPlane!.slowChat!.throughput.before;
              return b && `${proxyRatio(b)} · ${load(b.amlite)}`;
            },
          },
          {
            label: 'time to first token, p50 / p99 (1 connection)',
            amlite: (r) => `${ttft(r).amlite.p50Ms} / ${ttft(r).amlite.p99Ms} ms`,
            yardstick: (r) => `${ttft(r).direct.p50Ms} / ${ttft(r).direct.p99Ms} ms`,
            ratio: (r) =>
              `**+${ttft(r).overheadP50Ms} ms**${ttft(r).bareProxy ? ` (bare proxy +${ttft(r).bareProxy!.overheadP50Ms} ms)` : ''}`,
            sideBySide: (r) =>
              ttft(r).before &&
              `**+${ttft(r).before!.overheadP50Ms} ms** · ${ttft(r).before!.amlite.p50Ms} / ${ttft(r).before!.amlite.p99Ms} ms`,
          },
        ],
        results,
        baseline,
      ),
      '',
    );
  }
  const s = results.scale;
  if (s) {
    const row = (label: string, f: (x: SizeResult) => string, growth?: (g: ScaleResults['growth']) => string): Row => ({
      label,
      amlite: (r) => f(r.scale!.small),
      yardstick: (r) => f(r.scale!.large),
      ratio: growth && ((r) => growth(r.scale!.growth)),
      sideBySide: (r) =>
        r.scale!.before && `${f(r.scale!.before.large)}${growth ? ` (${growth(r.scale!.before.growth)})` : ''}`,
      fromBaseline: (r) => f(r.scale!.large),
    });
    const startup = (x: ScaleResults['startup']) => `${ms(x.emptyMs)} / ${ms(x.largeMs)} ms`;
    out.push(
      `**Scale** — the default file store: one workspace with ${int(s.small.endpoints)}, then ${int(s.large.endpoints)} serverless endpoints, beside ${int(s.small.workspaces)} workspaces in one resource group (seeded through the Store interface). **Growth**: the large store ÷ the small one, per request (1 is flat).${s.before ? ` "before": its ${int(s.large.endpoints)}-endpoint figure (and growth).` : ''}`,
      '',
    );
    out.push(
      table(
        ['measure', `${int(s.small.endpoints)} endpoints`, `${int(s.large.endpoints)} endpoints`, 'growth'],
        [
          row(
            'page through every endpoint, 100 a page: total · per page p50 / p99',
            (x) =>
              `${secs(x.listEndpoints.totalMs)} · ${x.listEndpoints.perPage.p50Ms} / ${x.listEndpoints.perPage.p99Ms} ms`,
            (g) => `×${g.listPerPageP50} per page`,
          ),
          row(
            'GET an endpoint at random (1 connection), p50 / p99',
            (x) => `${x.getEndpoint.p50Ms} / ${x.getEndpoint.p99Ms} ms`,
            (g) => `×${g.getP99} p99`,
          ),
          row(
            `page through ${int(s.small.workspaces)} workspaces · GET one at random, p50 / p99`,
            (x) => `${secs(x.listWorkspaces.totalMs)} · ${x.getWorkspace.p50Ms} / ${x.getWorkspace.p99Ms} ms`,
          ),
          row(
            'resident memory after the runs: own (all, with mapped files) · peak',
            (x) => `${x.anonRssMb} MB (${x.rssMb} MB) · ${x.peakRssMb} MB`,
            (g) => `×${g.rss} own`,
          ),
          row(
            'store size on disk',
            (x) => `${x.storeMb} MB`,
            (g) => `×${g.storePerResource} per resource`,
          ),
          row('seeding time (5,000 a transaction)', (x) => secs(x.seedMs)),
          {
            label: 'start-up: spawn `amlite` → `/health` 200, median; empty / large store',
            amlite: (r) => `empty store: ${ms(r.scale!.startup.emptyMs)} ms`,
            yardstick: (r) => `${ms(r.scale!.startup.largeMs)} ms`,
            ratio: (r) => `×${Math.round((r.scale!.startup.largeMs / r.scale!.startup.emptyMs) * 100) / 100}`,
            sideBySide: (r) => r.scale!.before && startup(r.scale!.before.startup),
            fromBaseline: (r) => startup(r.scale!.startup),
          },
        ],
        results,
        baseline,
      ),
      '',
    );
    if (s.beforeSkipped) out.push(`(The "before" build could not run on this store: ${s.beforeSkipped}.)`, '');
  }
  for (const [name, value] of Object.entries(results)) {
    if (['date', 'node', 'cpus', 'before', 'management', 'scale', 'dataPlane'].includes(name)) continue;
    if (value && typeof value === 'object' && typeof (value as { markdown?: unknown }).markdown === 'string')
      out.push((value as { markdown: string }).markdown, '');
  }
  return out.join('\n');
}

/** The line under the tables: when and where the run was made, and what "before" is. */
export function footer(results: Results, baseline?: Results): string {
  const before = results.before
    ? `; "before": ${results.before}, built and measured side by side in the same rounds — its ratio, then its own figures`
    : baseline
      ? `; "before": the run of ${baseline.date ?? '?'} (bench/results/baseline.json) — its ratio, or its value`
      : '';
  return `\n\nRun ${results.date ?? ''} on Node ${results.node ?? ''}, ${results.cpus ?? '?'} CPUs${before}.`;
}
