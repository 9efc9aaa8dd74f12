import { createServer, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';

/**
 * A local OpenAI-style upstream for the openai-compatible backend: records each request's JSON body in `seen` and
 * answers through `answer`. Returns the server and its `/v1` base URL.
 */
export async function startUpstream(
  seen: any[],
  answer: (body: any, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const body = JSON.parse(raw);
    seen.push(body);
    answer(body, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1` };
}
