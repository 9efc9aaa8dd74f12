/**
 * `npm run bench`: amlite measured as its users feel it, beside yardsticks run in the same process tree.
 * Writes bench/results/latest.json and latest.md. Machines here are shared and noisy: read the ratios and medians.
 *
 *   npm run bench                                 every section (~6–9 minutes on 2 cores)
 *   npm run bench -- --only=management,dataplane  some sections (merged into the existing latest.json)
 *   npm run bench -- --cpu-prof                   also profile amlite (V8 .cpuprofile files in bench/results/profiles/)
 *   npm run bench -- --save-baseline              also keep this run as bench/results/baseline.json ("before")
 *   npm run bench -- --readme                     also put the tables into docs/benchmarks.md (the README links it)
 * Sizes and durations: BENCH_CONNECTIONS (8), BENCH_SECONDS (2), BENCH_ROUNDS (3), BENCH_CREATES (200),
 * BENCH_STREAMS (500), BENCH_SCALE_SMALL (10000), BENCH_SCALE_LARGE (100000), BENCH_WORKSPACES (1000),
 * BENCH_STARTS (3); BENCH_STORE=memory runs the management plane on the in-memory store. The stores section has its
 * own (bench/stores.ts).
 * Before/after: BENCH_BEFORE=DIR builds another checkout's sources too and measures them side by side with this one,
 * in the same rounds (the "before" column; about 3 minutes more):
 *   git worktree add /tmp/before HEAD && BENCH_BEFORE=/tmp/before npm run bench
 * (--save-baseline keeps a whole run instead, for a later run's "before" column: runs minutes apart on a shared
 * machine differ more than the change does, so prefer BENCH_BEFORE.)
 * Profiles: `npx tsx bench/profile.ts bench/results/profiles/<file>.cpuprofile` lists the functions with the most time.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { loadOrCreateCertificate } from '../src/tls.js';
import { amliteCommand, beforeTree, certDir, killAll, resultsDir, root, type BenchOptions } from './lib.js';
import { management } from './management.js';
import { scale } from './scale.js';
import { dataPlane } from './dataplane.js';
import { footer, render, type Results } from './report.js';
import { stores, storesMarkdown, type StoresResults } from './stores.js';

const tls = await loadOrCreateCertificate(certDir);
if (process.env.NODE_EXTRA_CA_CERTS !== tls.certPath) {
  // Node reads NODE_EXTRA_CA_CERTS only at start: run again with it set (the servers it starts inherit it too).
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.certPath },
  });
  const [code] = await once(child, 'exit');
  process.exit(code ?? 1);
}

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const only = argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .map((s) => s.trim().toLowerCase());
const opts: BenchOptions = { cpuProf: flag('cpu-prof') };

/** Each section starts its own servers and stops them; one section's failure does not stop the others. */
const sections: Record<string, (o: BenchOptions) => Promise<unknown>> = {
  management,
  dataPlane,
  scale,
  stores, // last: SQLite and PostgreSQL side by side (bench/stores.ts)
};

const latestJson = join(resultsDir, 'latest.json');
const baselineJson = join(resultsDir, 'baseline.json');
const results: Results = only && existsSync(latestJson) ? JSON.parse(readFileSync(latestJson, 'utf8')) : {};
Object.assign(results, {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  // Sections merged into an earlier run (--only) keep the "before" that run measured theirs against.
  before: beforeTree ? `the sources in ${beforeTree} (BENCH_BEFORE)` : only ? results.before : undefined,
});

const onSignal = () => {
  killAll();
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
let failed = false;
try {
  const t0 = performance.now();
  amliteCommand();
  if (beforeTree) amliteCommand(beforeTree);
  process.stderr.write(
    `bench: built amlite${beforeTree ? ` and the "before" sources (${beforeTree})` : ''} in ${Math.round(performance.now() - t0)} ms\n`,
  );
  for (const [name, run] of Object.entries(sections)) {
    if (only && !only.includes(name.toLowerCase())) continue;
    const t = performance.now();
    process.stderr.write(`bench: ${name}…\n`);
    try {
      results[name] = await run(opts);
    } catch (e) {
      failed = true;
      process.stderr.write(`bench: ${name} failed: ${(e as Error).stack ?? e}\n`);
      killAll();
    }
    process.stderr.write(`bench: ${name} took ${Math.round((performance.now() - t) / 1000)} s\n`);
  }
  process.stderr.write(`bench: all took ${Math.round((performance.now() - t0) / 1000)} s\n`);
} finally {
  killAll();
}

mkdirSync(resultsDir, { recursive: true });
writeFileSync(latestJson, `${JSON.stringify(results, null, 2)}\n`);
if (flag('save-baseline')) writeFileSync(baselineJson, `${JSON.stringify(results, null, 2)}\n`);
const baseline =
  !flag('save-baseline') && !beforeTree && existsSync(baselineJson)
    ? (JSON.parse(readFileSync(baselineJson, 'utf8')) as Results)
    : undefined;
const md =
  render(results, baseline) + storesMarkdown(results.stores as StoresResults | undefined) + footer(results, baseline);
writeFileSync(join(resultsDir, 'latest.md'), `${md}\n`);
if (flag('readme')) {
  const readme = join(root, 'docs', 'benchmarks.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->',
    end = '<!-- bench:end -->';
  const i = text.indexOf(start),
    j = text.indexOf(end);
  if (i >= 0 && j > i) writeFileSync(readme, `${text.slice(0, i + start.length)}\n${md}\n${text.slice(j)}`);
  else
    process.stderr.write(
      'bench: docs/benchmarks.md has no <!-- bench:start --> … <!-- bench:end --> markers; left it alone\n',
    );
}
process.stdout.write(`${md}\n`);
process.exit(failed ? 1 : 0);
