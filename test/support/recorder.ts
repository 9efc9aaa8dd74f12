// Records request/response pairs for the conformance check (see conformance.ts).
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';
import type { TrafficRecord } from './conformance.js';

export type { TrafficRecord } from './conformance.js';

/**
 * A core-rest-pipeline policy that appends every response passing through it to `records`.
 * Add it with position 'perRetry' to see each attempt, 'perCall' to see only the final one.
 */
export function recordingPolicy(records: TrafficRecord[]): PipelinePolicy {
  return {
    name: 'amliteTrafficRecorder',
    async sendRequest(request, next) {
      const response = await next(request);
      const headers: Record<string, string> = {};
      for (const [name, value] of response.headers) headers[name.toLowerCase()] = value;
      records.push({
        method: request.method.toUpperCase(),
        url: request.url,
        requestBody: parseBody(requestText(request.body)),
        status: response.status,
        headers,
        body: parseBody(response.bodyAsText ?? undefined),
      });
      return response;
    },
  };
}

/** `fetch`, recording the exchange into `records`. The returned response is still unread. */
export async function recordedFetch(
  records: TrafficRecord[],
  url: string | URL,
  init: RequestInit = {},
): Promise<Response> {
  const response = await fetch(url, init);
  const method = (init.method ?? 'GET').toUpperCase();
  const text = method === 'HEAD' ? '' : await response.clone().text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  records.push({
    method,
    url: String(url),
    requestBody: parseBody(requestText(init.body)),
    status: response.status,
    headers,
    body: parseBody(text),
  });
  return response;
}

/** JSON when it parses, the text itself otherwise, undefined when empty. */
export function parseBody(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function requestText(body: PipelineRequest['body'] | RequestInit['body']): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8');
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return undefined; // streams, forms and blobs are not recorded
}
