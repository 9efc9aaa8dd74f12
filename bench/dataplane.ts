/**
 * The data plane: chat completions (plain and streamed) through amlite — a serverless endpoint with key auth and the
 * `openai-compatible` backend — versus the same upstream called directly. The upstream serves HTTPS with amlite's
 * certificate, so both paths cross the same TLS and the ratio is amlite's own overhead (its hop included).
 * With BENCH_BEFORE, the "before" build proxies to the same upstream, in the same rounds.
 */
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
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
  work,
  type BenchOptions,
  type Comparison,
  type LoadSpec,
  type Proc,
} from './lib.js';

type Latency = { p50Ms: number; p99Ms: number };

export interface DataPlaneResults {
  note: string;
  connections: number;
  chat: { throughput: Comparison; latency: Comparison };
  streamedChat: { throughput: Comparison; latency: Comparison };
  /**
   * The floor: a bare Node HTTPS proxy (bench/bare-proxy.ts) in amlite's place, plain and streamed, `connections`
   * clients. `amlite` and `ratio` here are the bare proxy's (÷ the upstream direct); `before` is amlite, measured in the
   * same rounds. What the bare proxy costs any Node proxy costs; amlite's CPU over the bare proxy's is amlite's own.
   */
  bareProxy?: { chat: Comparison; streamedChat: Comparison };
  /** Against an upstream that takes SLOW_UPSTREAM_MS per answer, with `connections` clients (issue 18). */
  slowChat?: { connections: number; upstreamMs: number; throughput: Comparison };
  timeToFirstToken: {
    amlite: Latency;
    direct: Latency;
    overheadP50Ms: number;
    before?: { amlite: Latency; overheadP50Ms: number };
    /** The bare proxy (bench/bare-proxy.ts) in the same rounds: what the hop itself adds. */
    bareProxy?: { latency: Latency; overheadP50Ms: number };
  };
}

/** How long the slow upstream takes per answer: a model's time, which the proxy should hide entirely. */
const SLOW_UPSTREAM_MS = 20;

const WS = `/subscriptions/${SUB}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;

/** A serverless endpoint on `p`: its inference URL and key. */
async function endpointOn(
  p: Proc,
  name = 'proxied',
  modelId = endpointBody.properties.modelSettings.modelId,
): Promise<{ uri: string; key: string; pid?: number }> {
  const client = armClient(p.url);
  await client.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
  await client.resources.beginCreateOrUpdateByIdAndWait(WS, API, { location: 'eastus', properties: {} });
  const endpoint = await client.resources.beginCreateOrUpdateByIdAndWait(`${WS}/serverlessEndpoints/${name}`, API, {
    ...endpointBody,
    properties: { ...endpointBody.properties, modelSettings: { modelId } },
  });
  const keys = await fetch(`${p.url}${WS}/serverlessEndpoints/${name}/listKeys?api-version=${API}`, {
    method: 'POST',
    headers: authHeaders,
  });
  const { primaryKey } = (await keys.json()) as { primaryKey: string };
  return {
    uri: (endpoint.properties as { inferenceEndpoint: { uri: string } }).inferenceEndpoint.uri,
    key: primaryKey,
    pid: p.child.pid,
  };
}

export async function dataPlane(opts: BenchOptions): Promise<DataPlaneResults> {
  const connections = num('BENCH_CONNECTIONS', 8);
  const seconds = num('BENCH_SECONDS', 2);
  const rounds = num('BENCH_ROUNDS', 3);
  const nStreams = num('BENCH_STREAMS', 500);
  const dataDir = join(work, 'dataplane');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const started: Proc[] = [];
  try {
    const upstream = await startProcess(
      ['--import', 'tsx', 'bench/upstream-server.ts', certPath, keyPath],
      /^upstream listening on (\S+)/,
    );
    started.push(upstream);
    const slowUpstream = await startProcess(
      ['--import', 'tsx', 'bench/upstream-server.ts', certPath, keyPath, String(SLOW_UPSTREAM_MS)],
      /^upstream listening on (\S+)/,
    );
    started.push(slowUpstream);
    const bare = await startProcess(
      ['--import', 'tsx', 'bench/bare-proxy.ts', certPath, keyPath, upstream.url],
      /^bare proxy listening on (\S+)/,
    );
    started.push(bare);
    const catalog = join(dataDir, 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [
          { match: '*slow-model*', backend: 'openai-compatible', url: slowUpstream.url, model: 'upstream' },
          { match: '*', backend: 'openai-compatible', url: upstream.url, model: 'upstream' },
        ],
      }),
    );
    const amlite = await startAmlite({ dataDir, catalog, cpuProf: opts.cpuProf ? 'dataplane' : undefined });
    started.push(amlite);
    const before = beforeTree
      ? await startAmlite({ dataDir: join(dataDir, 'before'), catalog, tree: beforeTree })
      : undefined;
    if (before) started.push(before);
    const ours = await endpointOn(amlite);
    const old = before && (await endpointOn(before));
    const slowModel = 'azureml://registries/azureml-meta/models/slow-model';
    const oursSlow = await endpointOn(amlite, 'proxied-slow', slowModel);
    const oldSlow = before && (await endpointOn(before, 'proxied-slow', slowModel));

    const request = (stream: boolean) => JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream });
    const through = (e: { uri: string; key: string; pid?: number }, stream: boolean): LoadSpec => ({
      url: `${e.uri}/chat/completions`,
      method: 'POST',
      headers: { 'api-key': e.key },
      body: request(stream),
      pid: e.pid,
    });
    const direct = (stream: boolean, up: Proc = upstream): LoadSpec => ({
      url: `${up.url}/chat/completions`,
      method: 'POST',
      body: request(stream),
      pid: up.child.pid,
    });
    const both = async (stream: boolean) => ({
      throughput: await compare(
        through(ours, stream),
        direct(stream),
        connections,
        seconds,
        rounds,
        old && through(old, stream),
      ),
      latency: await compare(through(ours, stream), direct(stream), 1, seconds, rounds, old && through(old, stream)),
    });
    const chat = await both(false);
    const streamedChat = await both(true);
    // The bare proxy where the upstream stands in compare(): ratio and cpuRatio are then the bare proxy's own.
    const bareProxy = {
      chat: await compare(direct(false, bare), direct(false), connections, seconds, rounds, through(ours, false)),
      streamedChat: await compare(direct(true, bare), direct(true), connections, seconds, rounds, through(ours, true)),
    };
    const slowConnections = num('BENCH_SLOW_CONNECTIONS', 32);
    const slowChat = {
      connections: slowConnections,
      upstreamMs: SLOW_UPSTREAM_MS,
      throughput: await compare(
        through(oursSlow, false),
        direct(false, slowUpstream),
        slowConnections,
        seconds,
        rounds,
        oldSlow && through(oldSlow, false),
      ),
    };

    /** Time to the first content chunk: what autocannon cannot see. */
    const body = request(true);
    const firstToken = async (u: string, h: Record<string, string>) => {
      const t0 = performance.now();
      const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body });
      const reader = res.body!.getReader();
      let first = 0,
        text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
        if (!first && text.includes('tok0')) first = performance.now() - t0;
      }
      if (!first || !text.includes('[DONE]')) throw new Error(`stream from ${u} did not finish: ${text.slice(0, 200)}`);
      return first;
    };
    const sides = [
      () => firstToken(`${ours.uri}/chat/completions`, { 'api-key': ours.key }),
      () => firstToken(`${upstream.url}/chat/completions`, {}),
      () => firstToken(`${bare.url}/chat/completions`, {}),
      ...(old ? [() => firstToken(`${old.uri}/chat/completions`, { 'api-key': old.key })] : []),
    ];
    for (let w = 0; w < 50; w++) for (const side of sides) await side();
    const samples: number[][] = sides.map(() => []);
    const end = performance.now() + 60_000;
    for (let k = 0; k < nStreams && performance.now() < end; k++) {
      // One after the other, so that noise on the shared machine hits all alike.
      for (const [i, side] of sides.entries()) samples[i].push(await side());
    }
    const [a, d, p, b] = samples.map(stat);
    const latency = (x: { p50Ms: number; p99Ms: number }) => ({ p50Ms: x.p50Ms, p99Ms: x.p99Ms });
    const overhead = (x: { p50Ms: number }) => Math.round((x.p50Ms - d.p50Ms) * 100) / 100;
    return {
      note: 'amlite: HTTPS, key auth, endpoint lookup, openai-compatible backend calling the upstream over HTTPS (it always streams from the upstream); direct: the same upstream, same TLS',
      connections,
      chat,
      streamedChat,
      bareProxy,
      slowChat,
      timeToFirstToken: {
        amlite: latency(a),
        direct: latency(d),
        overheadP50Ms: overhead(a),
        ...(b ? { before: { amlite: latency(b), overheadP50Ms: overhead(b) } } : {}),
        bareProxy: { latency: latency(p), overheadP50Ms: overhead(p) },
      },
    };
  } finally {
    for (const p of started.reverse()) await p.stop();
  }
}
