import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  freshDataDir,
  putAndWait,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './harness.js';

export const SUB = '3c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
export const RG = 'agent-rg';
export const WS = 'agent-ws';
const API = '2026-03-15-preview';

export interface AgentEndpoint {
  uri: string;
  key: string;
}

/** amlite with `models` as its catalog (a simulated catch-all last), plus a resource group and a workspace. */
export async function startAgentServer(models: Record<string, unknown>[] = []): Promise<RunningServer> {
  const catalog = join(freshDataDir(), 'catalog.json');
  writeFileSync(catalog, JSON.stringify({ models: [...models, { match: '*', backend: 'simulated' }] }));
  const server = await startTestServer({ catalog });
  await createResourceGroup(server, SUB, RG);
  await createWorkspace(server, SUB, RG, WS);
  return server;
}

/** A serverless endpoint serving `modelId`: its inference URI and primary key. */
export async function agentEndpoint(server: RunningServer, name: string, modelId?: string): Promise<AgentEndpoint> {
  const path = endpointPath(SUB, RG, WS, name);
  const body = endpointBody(modelId ? { modelSettings: { modelId } } : {});
  const { final } = await putAndWait(server, path, API, body);
  const keys = await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, API));
  assert.equal(keys.status, 200);
  return {
    uri: final.properties.inferenceEndpoint.uri as string,
    key: (keys.body as { primaryKey: string }).primaryKey,
  };
}

/** POSTs a chat body to the endpoint as-is: status and parsed JSON (or text for a stream). */
export async function rawChat(ep: AgentEndpoint, body: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${ep.uri}/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': ep.key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}
