// Test harness: starts the real server over HTTPS, builds fake bearer tokens and the official ARM client.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { ResourceManagementClient } from '@azure/arm-resources';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { startAmlite } from '../../src/server.js';
import { parseBody, recordingPolicy, type TrafficRecord } from './recorder.js';

export type RunningServer = Awaited<ReturnType<typeof startAmlite>>;
export type ServerOverrides = NonNullable<Parameters<typeof startAmlite>[0]>;

/** The identity every default fake token carries. */
export const TEST_USER = {
  oid: '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
  tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  upn: 'dev@contoso.com',
  name: 'Dev User',
} as const;

export const API_VERSIONS = ['2025-09-01', '2026-03-15-preview'] as const;
export type ServerlessApiVersion = (typeof API_VERSIONS)[number];
export const RG_API_VERSION = '2025-04-01';
export const ENDPOINT_TYPE = 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints';
export const WORKSPACE_TYPE = 'Microsoft.MachineLearningServices/workspaces';
export const MODEL_ID = 'azureml://registries/azureml-meta/models/Llama-2-7b-chat/versions/24';
export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const TERMINAL_STATES = ['Succeeded', 'Failed', 'Canceled'];

export function certDir(): string {
  const dir = process.env.AMLITE_TEST_CERT_DIR;
  if (!dir) {
    throw new Error(
      'AMLITE_TEST_CERT_DIR is not set: it must name a directory with cert.pem/key.pem trusted via NODE_EXTRA_CA_CERTS',
    );
  }
  return dir;
}

export function freshDataDir(prefix = 'amlite-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts the real server (HTTPS, in-memory store, fresh data dir, silent logs). */
export async function startTestServer(overrides: ServerOverrides = {}): Promise<RunningServer> {
  return startAmlite({
    port: 0,
    host: '127.0.0.1',
    inMemory: true,
    dataDir: freshDataDir(),
    certFile: join(certDir(), 'cert.pem'),
    keyFile: join(certDir(), 'key.pem'),
    logLevel: 'silent',
    ...overrides,
  });
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned (alg "none") JWT-shaped token. Claims set to undefined are removed. */
export function fakeToken(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    oid: TEST_USER.oid,
    tid: TEST_USER.tid,
    upn: TEST_USER.upn,
    name: TEST_USER.name,
    iat: now,
    nbf: now - 60,
    exp: now + 3600,
    aud: 'https://management.azure.com/',
    ...claims,
  };
  for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`;
}

/** Claims of an application (service principal) caller. */
export function appClaims(appid = '0b5e7a7c-1d2e-4f3a-9b8c-7d6e5f4a3b2c'): Record<string, unknown> {
  return { upn: undefined, name: undefined, appid, idtyp: 'app', oid: randomUUID() };
}

export function credential(claims?: Record<string, unknown>): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      return { token: fakeToken(claims), expiresOnTimestamp: Date.now() + 3_000_000, tokenType: 'Bearer' };
    },
  };
}

export function armClient(
  server: { url: string },
  subscriptionId: string,
  records?: TrafficRecord[],
): ResourceManagementClient {
  // `$host` is how the v7 (autorest) client is pointed elsewhere; v8 reads `endpoint`. Pass both.
  const options = {
    endpoint: server.url,
    $host: server.url,
    additionalPolicies: records ? [{ policy: recordingPolicy(records), position: 'perCall' as const }] : [],
  };
  return new ResourceManagementClient(credential(), subscriptionId, options);
}

let sharedHttpClient: HttpClient | undefined;

/** Sends a raw request through the SDK client's own pipeline (auth, recording, retries of the SDK). */
export async function sdkRequest(
  client: ResourceManagementClient,
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE' | 'HEAD',
  url: string,
  body?: unknown,
): Promise<{ status: number; headers: PipelineResponse['headers']; body: any }> {
  sharedHttpClient ??= createDefaultHttpClient();
  const request = createPipelineRequest({
    url,
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: createHttpHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
  });
  const response = await client.pipeline.sendRequest(sharedHttpClient, request);
  return { status: response.status, headers: response.headers, body: parseBody(response.bodyAsText ?? '') };
}

export interface FetchOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** a token string, `null` for no Authorization header, undefined for a default fake token */
  token?: string | null;
}

export interface FetchResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Raw HTTPS request to the server. `path` is a path (with query) or an absolute URL. */
export async function armFetch(
  server: { url: string },
  method: string,
  path: string,
  options: FetchOptions = {},
): Promise<FetchResult> {
  const url = /^https?:\/\//i.test(path) ? path : `${server.url}${path}`;
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? fakeToken()}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string') {
      body = options.body;
    } else {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
  }
  for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = v;
  const response = await fetch(url, { method, headers, body });
  const text = method === 'HEAD' ? '' : await response.text();
  return { status: response.status, headers: response.headers, body: parseBody(text), text };
}

/** Formats a response for assertion messages. */
export function describeResponse(res: { status: number; body?: unknown; headers?: unknown }): string {
  const body = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
  return `status ${res.status}, body ${body?.slice(0, 1500) ?? '(none)'}`;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined or the timeout passes. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 5000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

// ---- resource ids -------------------------------------------------------------------------------

export function rgPath(sub: string, rg: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}`;
}
export function workspacePath(sub: string, rg: string, ws: string): string {
  return `${rgPath(sub, rg)}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`;
}
export function endpointPath(sub: string, rg: string, ws: string, name: string): string {
  return `${workspacePath(sub, rg, ws)}/serverlessEndpoints/${name}`;
}
export function withApiVersion(path: string, apiVersion: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}api-version=${encodeURIComponent(apiVersion)}`;
}

export function endpointBody(extra: { authMode?: string; [k: string]: unknown } = {}): Record<string, any> {
  const { authMode = 'Key', ...properties } = extra;
  return {
    location: 'eastus',
    sku: { name: 'Consumption' },
    properties: { authMode, modelSettings: { modelId: MODEL_ID }, ...properties },
  };
}

/** Waits (GET polling) until a resource's provisioningState is terminal; returns the last GET body. */
export async function waitForTerminal(
  server: { url: string },
  path: string,
  apiVersion: string,
  timeoutMs = 5000,
): Promise<any> {
  return pollUntil(
    `${path} to reach a terminal provisioningState`,
    async () => {
      const res = await armFetch(server, 'GET', withApiVersion(path, apiVersion));
      if (res.status !== 200) throw new Error(`GET ${path}: ${describeResponse(res)}`);
      const state = res.body?.properties?.provisioningState;
      return state === undefined || TERMINAL_STATES.includes(state) ? res.body : undefined;
    },
    timeoutMs,
  );
}

/** Follows a 202 + Location response until the Location URL stops answering 202. */
export async function followLocation(
  server: { url: string },
  res: FetchResult,
  timeoutMs = 5000,
): Promise<FetchResult> {
  if (res.status !== 202) return res;
  const location = res.headers.get('location');
  if (!location) throw new Error(`202 without Location: ${describeResponse(res)}`);
  return pollUntil(
    `Location ${location} to finish`,
    async () => {
      const next = await armFetch(server, 'GET', location);
      return next.status === 202 ? undefined : next;
    },
    timeoutMs,
  );
}

/** PUT that tolerates an asynchronous create: waits for a terminal state and returns the final GET body. */
export async function putAndWait(
  server: { url: string },
  path: string,
  apiVersion: string,
  body: unknown,
): Promise<{ initial: FetchResult; final: any }> {
  const initial = await armFetch(server, 'PUT', withApiVersion(path, apiVersion), { body });
  if (initial.status !== 200 && initial.status !== 201) {
    throw new Error(`PUT ${path}?api-version=${apiVersion}: ${describeResponse(initial)}`);
  }
  const final = await waitForTerminal(server, path, apiVersion);
  return { initial, final };
}

export async function createResourceGroup(
  server: { url: string },
  sub: string,
  rg: string,
  location = 'eastus',
): Promise<void> {
  const res = await armFetch(server, 'PUT', withApiVersion(rgPath(sub, rg), RG_API_VERSION), { body: { location } });
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT resource group ${rg}: ${describeResponse(res)}`);
}

export async function createWorkspace(
  server: { url: string },
  sub: string,
  rg: string,
  ws: string,
  apiVersion = '2025-09-01',
): Promise<any> {
  return (await putAndWait(server, workspacePath(sub, rg, ws), apiVersion, { location: 'eastus', properties: {} }))
    .final;
}

/** Reads every page of a list, following nextLink. */
/** A test server with a resource group and a workspace in it, for suites that start from one. */
export async function startWithWorkspace(
  sub: string,
  rg: string,
  ws: string,
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const server = await startTestServer(overrides);
  await createResourceGroup(server, sub, rg);
  await createWorkspace(server, sub, rg, ws);
  return server;
}

export async function listAll(
  get: (url: string) => Promise<{ status: number; body: any }>,
  firstUrl: string,
  origin: string,
  maxPages = 100,
): Promise<{ items: any[]; pages: number; nextLinks: string[] }> {
  const items: any[] = [];
  const nextLinks: string[] = [];
  let url: string | undefined = firstUrl;
  let pages = 0;
  while (url) {
    if (++pages > maxPages) throw new Error(`more than ${maxPages} pages; last nextLink ${url}`);
    const res = await get(url);
    if (res.status !== 200) throw new Error(`list page ${url}: ${describeResponse(res)}`);
    if (!Array.isArray(res.body?.value)) throw new Error(`list page without value[]: ${describeResponse(res)}`);
    items.push(...res.body.value);
    const next: unknown = res.body.nextLink;
    if (next === undefined || next === null) break;
    if (typeof next !== 'string' || next === '') throw new Error(`invalid nextLink ${JSON.stringify(next)}`);
    const parsed = new URL(next); // throws unless absolute
    if (parsed.origin !== origin) throw new Error(`nextLink ${next} is not on the server origin ${origin}`);
    nextLinks.push(next);
    url = next;
  }
  return { items, pages, nextLinks };
}

export function errorOf(err: unknown): { statusCode?: number; code?: string; message: string } {
  const e = err as { statusCode?: number; code?: string; message?: string };
  return { statusCode: e?.statusCode, code: e?.code, message: String(e?.message ?? err) };
}
