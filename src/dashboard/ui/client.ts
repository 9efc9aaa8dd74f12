import { API_BASE, type KeysResponse, type OperationsResponse, type TreeResponse } from '../api.js';

/** An error answer of the JSON API or of the data plane: `{"error":{"code","message"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json().catch(() => undefined);
  if (!res.ok)
    throw new ApiError(res.status, body?.error?.code ?? String(res.status), body?.error?.message ?? res.statusText);
  return body as T;
}

export const api = {
  tree: () => getJson<TreeResponse>(`${API_BASE}/tree`),
  operations: (limit = 50) => getJson<OperationsResponse>(`${API_BASE}/operations?limit=${limit}`),
  keys: (id: string, reveal = false) =>
    getJson<KeysResponse>(`${API_BASE}/keys?id=${encodeURIComponent(id)}${reveal ? '&reveal=true' : ''}`),
  health: () => getJson<{ status: string; version: string; profile: string }>('/health'),
};

export interface ChatResult {
  status: number;
  ms: number;
  reply?: string;
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: { code: string; message: string };
}

/** Sends one chat completion to an endpoint's real data-plane URL, with its primary key, as any client would. */
export async function chat(inferenceUri: string, key: string, prompt: string): Promise<ChatResult> {
  const started = performance.now();
  const res = await fetch(`${inferenceUri.replace(/\/$/, '')}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': key },
    body: JSON.stringify({ messages: [{ role: 'user', content: prompt }] }),
  });
  const body = await res.json().catch(() => undefined);
  const ms = Math.round(performance.now() - started);
  if (!res.ok)
    return {
      status: res.status,
      ms,
      error: { code: body?.error?.code ?? String(res.status), message: body?.error?.message ?? res.statusText },
    };
  const choice = body?.choices?.[0];
  return {
    status: res.status,
    ms,
    reply: String(choice?.message?.content ?? ''),
    finishReason: choice?.finish_reason,
    usage: body?.usage,
  };
}
