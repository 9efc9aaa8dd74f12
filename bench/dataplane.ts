/**
 * The data plane: chat completions (plain and streamed) through amlite — a serverless endpoint with key auth and the
 * `openai-compatible` backend — versus the same upstream called directly. The upstream serves HTTPS with amlite's
 * certificate, so both paths cross the same TLS and the ratio is amlite's own overhead (its hop included).
 */
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  API, SUB, armClient, authHeaders, certPath, compare, endpointBody, keyPath, num, startAmlite, startProcess, stat, work,
  type BenchOptions, type Comparison, type LoadSpec,
} from './lib.js';

export interface DataPlaneResults {
  note: string;
  connections: number;
  chat: { throughput: Comparison; latency: Comparison };
  streamedChat: { throughput: Comparison; latency: Comparison };
  timeToFirstToken: { amlite: { p50Ms: number; p99Ms: number }; direct: { p50Ms: number; p99Ms: number }; overheadP50Ms: number };
}

export async function dataPlane(opts: BenchOptions): Promise<DataPlaneResults> {
  const connections = num('BENCH_CONNECTIONS', 8);
  const seconds = num('BENCH_SECONDS', 2);
  const rounds = num('BENCH_ROUNDS', 3);
  const nStreams = num('BENCH_STREAMS', 500);
  const dataDir = join(work, 'dataplane');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const upstream = await startProcess(['--import', 'tsx', 'bench/upstream-server.ts', certPath, keyPath], /^upstream listening on (\S+)/);
  const catalog = join(dataDir, 'catalog.json');
  writeFileSync(catalog, JSON.stringify({ models: [{ match: '*', backend: 'openai-compatible', url: upstream.url, model: 'upstream' }] }));
  const amlite = await startAmlite({ dataDir, catalog, cpuProf: opts.cpuProf ? 'dataplane' : undefined });
  try {
    const client = armClient(amlite.url);
    await client.resourceGroups.createOrUpdate('bench', { location: 'eastus' });
    const ws = `/subscriptions/${SUB}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench-ws`;
    await client.resources.beginCreateOrUpdateByIdAndWait(ws, API, { location: 'eastus', properties: {} });
    const endpoint = await client.resources.beginCreateOrUpdateByIdAndWait(`${ws}/serverlessEndpoints/proxied`, API, endpointBody);
    const keys = await fetch(`${amlite.url}${ws}/serverlessEndpoints/proxied/listKeys?api-version=${API}`, { method: 'POST', headers: authHeaders });
    const { primaryKey } = (await keys.json()) as { primaryKey: string };
    const inference = (endpoint.properties as { inferenceEndpoint: { uri: string } }).inferenceEndpoint.uri;

    const request = (stream: boolean) => JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream });
    const spec = (stream: boolean): [LoadSpec, LoadSpec] => [
      { url: `${inference}/chat/completions`, method: 'POST', headers: { 'api-key': primaryKey }, body: request(stream), pid: amlite.child.pid },
      { url: `${upstream.url}/chat/completions`, method: 'POST', body: request(stream), pid: upstream.child.pid },
    ];
    const both = async (stream: boolean) => ({
      throughput: await compare(...spec(stream), connections, seconds, rounds),
      latency: await compare(...spec(stream), 1, seconds, rounds),
    });
    const chat = await both(false);
    const streamedChat = await both(true);

    /** Time to the first content chunk: what autocannon cannot see. */
    const body = request(true);
    const firstToken = async (u: string, h: Record<string, string>) => {
      const t0 = performance.now();
      const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body });
      const reader = res.body!.getReader();
      let first = 0, text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
        if (!first && text.includes('tok0')) first = performance.now() - t0;
      }
      if (!first || !text.includes('[DONE]')) throw new Error(`stream from ${u} did not finish: ${text.slice(0, 200)}`);
      return first;
    };
    const viaAmlite = () => firstToken(`${inference}/chat/completions`, { 'api-key': primaryKey });
    const direct = () => firstToken(`${upstream.url}/chat/completions`, {});
    for (let w = 0; w < 50; w++) { await viaAmlite(); await direct(); }
    const ours: number[] = [], theirs: number[] = [];
    const end = performance.now() + 60_000;
    for (let k = 0; k < nStreams && performance.now() < end; k++) {
      // Alternate, so that noise on the shared machine hits both alike.
      ours.push(await viaAmlite());
      theirs.push(await direct());
    }
    const a = stat(ours), d = stat(theirs);
    return {
      note: 'amlite: HTTPS, key auth, endpoint lookup, openai-compatible backend calling the upstream over HTTPS (it always streams from the upstream); direct: the same upstream, same TLS',
      connections,
      chat,
      streamedChat,
      timeToFirstToken: { amlite: { p50Ms: a.p50Ms, p99Ms: a.p99Ms }, direct: { p50Ms: d.p50Ms, p99Ms: d.p99Ms }, overheadP50Ms: Math.round((a.p50Ms - d.p50Ms) * 100) / 100 },
    };
  } finally {
    await amlite.stop();
    await upstream.stop();
  }
}
