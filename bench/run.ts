/**
 * `npm run bench`: amlite measured as its users feel it, beside a yardstick run in the same process tree.
 * Writes bench/results/latest.json and latest.md. Machines here are shared and noisy: read the ratios and medians.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import { loadOrCreateCertificate } from '../src/tls.js';
import { devToken } from '../src/auth/bearer.js';

const root = resolve(import.meta.dirname, '..');
const certDir = join(root, '.amlite-test');
const tls = await loadOrCreateCertificate(certDir);
if (process.env.NODE_EXTRA_CA_CERTS !== tls.certPath) {
  // Node reads NODE_EXTRA_CA_CERTS only at start: run again with it set.
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.certPath } });
  const [code] = await once(child, 'exit');
  process.exit(code ?? 1);
}

const N_CREATE = Number(process.env.BENCH_CREATES ?? 200);
const N_GET = Number(process.env.BENCH_GETS ?? 3000);
const children: ChildProcess[] = [];

async function startProcess(args: string[], pattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = pattern.exec(line);
    if (m) return m[1];
  }
  throw new Error(`${args[0]} exited before it was ready`);
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (x: number) => Math.round(x * 100) / 100;

async function timeLoop(n: number, fn: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

try {
  const url = await startProcess(['src/main.ts', '--port', '0', '--in-memory', '--data-dir', join(root, '.amlite-bench'), '--cert', tls.certPath, '--key', join(certDir, 'key.pem'), '--log-level', 'warn'], /^amlite listening on (\S+)/);
  const sub = '00000000-0000-0000-0000-0000000000b1';
  const token = devToken();
  const credential: TokenCredential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
  const client = new ResourceManagementClient(credential, sub, { endpoint: url });
  await client.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
  const ws = `/subscriptions/${sub}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
  await client.resources.beginCreateOrUpdateByIdAndWait(ws, '2025-09-01', { location: 'eastus', properties: {} });

  // 1. Create-and-wait through the official client: the whole LRO as a user's code sees it.
  let i = 0;
  const body = { location: 'eastus', sku: { name: 'Consumption' }, properties: { authMode: 'Key', modelSettings: { modelId: 'azureml://registries/azureml-meta/models/Llama-2-7b-chat' } } };
  await timeLoop(20, async () => { await client.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/warm-${i++}`, '2025-09-01', body); });
  const creates = await timeLoop(N_CREATE, async () => {
    const r = await client.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/ep-${i++}`, '2025-09-01', body);
    if ((r.properties as { provisioningState?: string }).provisioningState !== 'Succeeded') throw new Error('create did not succeed');
  });

  // 2. GET by id over keep-alive HTTPS, beside a bare Fastify route answering a body of the same size.
  const getUrl = `${url}${ws}/serverlessEndpoints/ep-${i - 1}?api-version=2025-09-01`;
  const headers = { authorization: `Bearer ${token}` };
  const sample = await (await fetch(getUrl, { headers })).text();
  const bodyFile = join(root, '.amlite-bench', 'body.json');
  mkdirSync(join(root, '.amlite-bench'), { recursive: true });
  writeFileSync(bodyFile, sample);
  const bare = await startProcess(['bench/bare-server.ts', tls.certPath, join(certDir, 'key.pem'), bodyFile], /^bare listening on (\S+)/);
  const bareUrl = `${bare}${ws}/serverlessEndpoints/x?api-version=2025-09-01`;
  const get = (u: string) => async () => { const r = await fetch(u, { headers }); await r.arrayBuffer(); if (r.status !== 200) throw new Error(`GET ${r.status}`); };
  await timeLoop(300, get(getUrl));
  await timeLoop(300, get(bareUrl));
  // Interleave rounds so that noise on the shared machine hits both alike.
  const ours: number[] = [], theirs: number[] = [];
  for (let round = 0; round < 5; round++) {
    ours.push(...await timeLoop(N_GET / 5, get(getUrl)));
    theirs.push(...await timeLoop(N_GET / 5, get(bareUrl)));
  }

  // 3. Data plane: streamed chat through amlite (openai-compatible backend) versus the same upstream called directly.
  const upstream = await startProcess(['bench/upstream-server.ts'], /^upstream listening on (\S+)/);
  const catalogFile = join(root, '.amlite-bench', 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify({ models: [{ match: '*', backend: 'openai-compatible', url: upstream, model: 'upstream' }] }));
  const proxy = await startProcess(['src/main.ts', '--port', '0', '--in-memory', '--data-dir', join(root, '.amlite-bench'), '--cert', tls.certPath, '--key', join(certDir, 'key.pem'), '--log-level', 'warn', '--catalog', catalogFile], /^amlite listening on (\S+)/);
  const proxyClient = new ResourceManagementClient(credential, sub, { endpoint: proxy });
  await proxyClient.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
  await proxyClient.resources.beginCreateOrUpdateByIdAndWait(ws, '2025-09-01', { location: 'eastus', properties: {} });
  const proxied = await proxyClient.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/proxied`, '2025-09-01', body);
  const keysRes = await fetch(`${proxy}${ws}/serverlessEndpoints/proxied/listKeys?api-version=2025-09-01`, { method: 'POST', headers });
  const { primaryKey } = (await keysRes.json()) as { primaryKey: string };
  const inferenceUri = (proxied.properties as { inferenceEndpoint: { uri: string } }).inferenceEndpoint.uri;
  const chatRequest = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true });
  /** Time to the first content chunk, and to [DONE]. */
  const streamOnce = async (u: string, h: Record<string, string>) => {
    const t0 = performance.now();
    const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body: chatRequest });
    const reader = res.body!.getReader();
    let first = 0;
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!first) first = performance.now() - t0;
      text += Buffer.from(value).toString();
    }
    if (!text.includes('[DONE]')) throw new Error(`stream from ${u} did not finish: ${text.slice(0, 200)}`);
    return { ttft: first, total: performance.now() - t0 };
  };
  const viaAmlite = () => streamOnce(`${inferenceUri}/chat/completions`, { 'api-key': primaryKey });
  const direct = () => streamOnce(`${upstream}/chat/completions`, {});
  for (let w = 0; w < 100; w++) { await viaAmlite(); await direct(); }
  const amliteStreams: { ttft: number; total: number }[] = [], directStreams: { ttft: number; total: number }[] = [];
  for (let round = 0; round < 5; round++) {
    for (let k = 0; k < 200; k++) amliteStreams.push(await viaAmlite());
    for (let k = 0; k < 200; k++) directStreams.push(await direct());
  }
  /** Requests per second with 8 clients in parallel for a fixed time. */
  const throughput = async (fn: () => Promise<unknown>, ms = 3000) => {
    let done = 0;
    const end = performance.now() + ms;
    await Promise.all(Array.from({ length: 8 }, async () => { while (performance.now() < end) { await fn(); done++; } }));
    return done / (ms / 1000);
  };
  const rpsAmlite = await throughput(viaAmlite);
  const rpsDirect = await throughput(direct);
  const stat = (xs: number[]) => ({ medianMs: round(quantile(xs, 0.5)), p99Ms: round(quantile(xs, 0.99)) });

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    createAndWait: { n: N_CREATE, medianMs: round(quantile(creates, 0.5)), p99Ms: round(quantile(creates, 0.99)) },
    getById: {
      n: N_GET, bodyBytes: sample.length,
      amlite: { medianMs: round(quantile(ours, 0.5)), p99Ms: round(quantile(ours, 0.99)) },
      bareFastify: { medianMs: round(quantile(theirs, 0.5)), p99Ms: round(quantile(theirs, 0.99)) },
      ratioOfMedians: round(quantile(theirs, 0.5) / quantile(ours, 0.5)),
    },
    streamedChat: {
      note: 'amlite over HTTPS with key auth and an openai-compatible backend, versus the plain-HTTP upstream called directly',
      timeToFirstToken: { amlite: stat(amliteStreams.map((x) => x.ttft)), direct: stat(directStreams.map((x) => x.ttft)) },
      wholeStream: { amlite: stat(amliteStreams.map((x) => x.total)), direct: stat(directStreams.map((x) => x.total)) },
      requestsPerSecond8Clients: { amlite: Math.round(rpsAmlite), direct: Math.round(rpsDirect), ratio: round(rpsAmlite / rpsDirect) },
    },
  };
  const sc = results.streamedChat;
  const md = [
    '| measure | amlite | yardstick | ratio |',
    '|---|---|---|---|',
    `| SDK create-and-wait (serverless endpoint, fast profile), median / p99 | ${results.createAndWait.medianMs} / ${results.createAndWait.p99Ms} ms | – | – |`,
    `| GET by id, sequential keep-alive HTTPS, median / p99 (${sample.length}-byte body) | ${results.getById.amlite.medianMs} / ${results.getById.amlite.p99Ms} ms | bare Fastify: ${results.getById.bareFastify.medianMs} / ${results.getById.bareFastify.p99Ms} ms | ${results.getById.ratioOfMedians} of the bare route's speed |`,
    `| streamed chat, time to first token, median / p99 | ${sc.timeToFirstToken.amlite.medianMs} / ${sc.timeToFirstToken.amlite.p99Ms} ms | upstream direct: ${sc.timeToFirstToken.direct.medianMs} / ${sc.timeToFirstToken.direct.p99Ms} ms | +${round(sc.timeToFirstToken.amlite.medianMs - sc.timeToFirstToken.direct.medianMs)} ms overhead |`,
    `| streamed chat (32 tokens), whole stream, median / p99 | ${sc.wholeStream.amlite.medianMs} / ${sc.wholeStream.amlite.p99Ms} ms | upstream direct: ${sc.wholeStream.direct.medianMs} / ${sc.wholeStream.direct.p99Ms} ms | ${round(sc.wholeStream.direct.medianMs / sc.wholeStream.amlite.medianMs)} of direct speed |`,
    `| streamed chat, requests/s with 8 clients | ${sc.requestsPerSecond8Clients.amlite} | upstream direct: ${sc.requestsPerSecond8Clients.direct} | ${sc.requestsPerSecond8Clients.ratio} |`,
  ].join('\n');
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(root, 'bench', 'results', 'latest.md'), `${md}\n`);
  process.stdout.write(`${md}\n`);
} finally {
  for (const c of children) c.kill('SIGTERM');
}
